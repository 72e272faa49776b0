"""Absolute links for what leaves the portal (e-mail, calendar files): on its public address.

A link built from the request's host could point a real person's token or booking at someone
else's site: anyone can send any Host header ("link poisoning"). With PUBLIC_URL set
(FAIRSHIFT_PUBLIC_URL; production sets it, docs/deploy.md) the host never comes from a request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def public_url(endpoint: str, base_url: str | None = None, **values) -> str:
    """The absolute address of ``endpoint`` on ``base_url``, else on PUBLIC_URL, else (in
    development, inside a request) on the request's own host. ValueError when the base is not an
    http(s) address; RuntimeError outside a request when there is no base at all."""
    base = (base_url or current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if not base:
        if not has_request_context():
            raise RuntimeError("No public address: set FAIRSHIFT_PUBLIC_URL.")
        return url_for(endpoint, _external=True, **values)
    parts = base_parts(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def base_parts(base_url: str):
    """The parts of an http(s) base address, or ValueError."""
    parts = urlsplit(base_url.strip().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) address: {base_url!r}")
    return parts
