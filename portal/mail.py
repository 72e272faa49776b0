"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise the log and instance/mail/."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

from portal.timeutil import utcnow


def send_mail(
    to: str, subject: str, body: str, attachments: list[tuple[str, str, bytes | str]] = ()
) -> EmailMessage:
    """Send one plain-text message and return it (tests read it back).

    ``attachments``: (filename, MIME type such as "text/calendar; method=REQUEST", content).
    """
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="fairshift.invalid")
    msg.set_content(body)
    for filename, mime, content in attachments:
        kind, _, params = mime.partition(";")
        maintype, subtype = kind.strip().split("/", 1)
        data = content.encode() if isinstance(content, str) else content
        extra = dict(
            p.strip().split("=", 1) for p in params.split(";") if "=" in p
        )  # e.g. method=REQUEST for calendar invitations
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename,
                           params=extra)  # fmt: skip

    if cfg.get("MAIL_SERVER"):
        _send_smtp(msg, cfg)
    else:
        _write_to_folder(msg)
    return msg


def _send_smtp(msg: EmailMessage, cfg) -> None:
    host, port = cfg["MAIL_SERVER"], cfg["MAIL_PORT"]
    if cfg.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=10, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=10)
    with smtp:
        if cfg.get("MAIL_USE_TLS") and not cfg.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(msg)


def mail_dir() -> str:
    """Where development mail is written."""
    return current_app.config.get("MAIL_DIR") or os.path.join(current_app.instance_path, "mail")


def _write_to_folder(msg: EmailMessage) -> None:
    folder = mail_dir()
    os.makedirs(folder, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", f"{msg['To']} {msg['Subject']}".lower()).strip("-")[:60]
    path = os.path.join(folder, f"{utcnow():%Y%m%dT%H%M%S%f}-{slug}.eml")
    with open(path, "wb") as fh:
        fh.write(bytes(msg))
    body = msg.get_body(preferencelist=("plain",))
    current_app.logger.info(
        "Mail to %s: %s (written to %s)\n%s",
        msg["To"], msg["Subject"], path, body.get_content() if body else "",
    )  # fmt: skip
