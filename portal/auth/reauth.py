"""Re-authentication before sensitive actions: ``@recent_auth_required``.

Someone who walks up to an unlocked, signed-in screen should not be able to close a pay period,
apply raises, change roles or issue API tokens. These actions ask for the password (or a TOTP
code) again when the last proof is older than REAUTH_MINUTES, then send the person back.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import current_app, flash, redirect, request, session, url_for

from portal.auth import clock

REAUTH_MESSAGE = "For your security, confirm it's you before you {what}."


def is_recent() -> bool:
    """Whether the person proved who they are within REAUTH_MINUTES."""
    auth_at = session.get("auth_at")
    if not isinstance(auth_at, int):
        return False
    return clock.now() - auth_at <= current_app.config["REAUTH_MINUTES"] * 60


def mark_recent() -> None:
    """The person has just proved who they are."""
    session["auth_at"] = int(clock.now())


def ask(back: str, what: str = "continue"):
    """Redirect to /reauth, which sends the person to ``back`` (a local GET page) afterwards."""
    flash(REAUTH_MESSAGE.format(what=what), "info")
    return redirect(url_for("auth.reauth", next=back))


def recent_auth_required(
    what: str = "continue",
    back: str | None = None,
    keep: tuple[str, ...] = (),
    on_get: bool = False,
):
    """Let the action run only after a recent sign-in or re-authentication.

    Only POSTs (the actions) are checked, unless ``on_get``: then a stale GET is sent to /reauth
    and comes back to the same address. A stale POST is never performed: the person is sent to
    the form's GET page, which is ``back`` (an endpoint, given the view's arguments) or else the
    same address, with the ``keep`` fields of the posted form in its query string so the form
    comes back filled in. Put it below ``role_required`` so strangers still get 404.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            safe = request.method in ("GET", "HEAD", "OPTIONS")
            if is_recent() or (safe and not on_get):
                return view(*args, **kwargs)
            if safe:
                return ask(request.full_path.rstrip("?"), what)
            target = url_for(back, **(request.view_args or {})) if back else request.path
            kept = {name: request.form[name] for name in keep if request.form.get(name)}
            if kept:
                target += "?" + urlencode(kept)
            return ask(target, what)

        return wrapped

    return decorator
