"""Outgoing text messages, through a sender chosen by the SMS_SENDER setting.

The portal has no SMS provider. The default sender ("outbox") writes each message to the log and
to a file in SMS_DIR (default instance/sms/), as mail does without MAIL_SERVER. A deployment with
a provider names its own class ("package.module:Class"): anything with ``send(to, body)``, built
once per call with no arguments, reading its own settings from ``current_app.config``.
"""

from __future__ import annotations

import os
import re
from typing import Protocol

from flask import current_app
from werkzeug.utils import import_string

from portal.timeutil import utcnow


class SmsSender(Protocol):
    """What the portal needs of a text-message provider."""

    def send(self, to: str, body: str) -> None:
        """Send ``body`` to the E.164 number ``to`` (e.g. +13145550142); raise when it fails."""


class OutboxSender:
    """No provider: the message goes to the log and to a file, for development and review."""

    def send(self, to: str, body: str) -> None:
        folder = current_app.config.get("SMS_DIR") or os.path.join(current_app.instance_path, "sms")
        os.makedirs(folder, exist_ok=True)
        slug = re.sub(r"[^0-9]+", "", to)[-4:]
        path = os.path.join(folder, f"{utcnow():%Y%m%dT%H%M%S%f}-{slug}.txt")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"To: {to}\n\n{body}\n")
        current_app.logger.info("Text to %s (written to %s)\n%s", to, path, body)


SENDERS: dict[str, type] = {"outbox": OutboxSender}


def sender() -> SmsSender:
    """The configured sender (ImportError or ValueError for a setting that names nothing)."""
    name = (current_app.config.get("SMS_SENDER") or "outbox").strip()
    cls = SENDERS.get(name) or import_string(name.replace(":", "."))
    return cls()


def send_sms(to: str, body: str) -> None:
    """Send one text message through the configured sender."""
    sender().send(to, body)
