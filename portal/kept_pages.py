"""Worker pages kept per process, keyed by the organisation's data version (issue 14).

A worker opens /, /pay and /shifts far more often than anything on them changes. Each is kept
as its finished HTML for ``PAGE_KEEP_SECONDS`` (default 60; 0 keeps nothing, the test suite's
default), under a key of everything the page depends on:

- who: the user, their roles, their session version;
- what has been written: their organisation's ``data_version``, which every write to the
  organisation's records bumps in its own transaction (portal.versions) and which the session
  check reads with the user, at no extra statement;
- when: the local date (the current pay period, "this week");
- which: the endpoint and the query string.

So a kept page is never older than the last write; the keeping time bounds only what changes
with the clock alone (a counselling slot that has started, "n minutes ago"). A hit costs the
session check and no other statement.

What differs per request is put back: the CSRF token (signed with the time, so it is kept as a
placeholder) and the flashed messages (a request with messages to show is worked out afresh).

A view whose page, this time, says something the clock alone changes within the keeping time
calls ``not_kept()``: that page is sent but not kept (the worker's home while a safety check-in
runs: "12 min left" becomes "overdue" with no write at all).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Response, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.keeping import KeptFigures
from portal.models import User
from portal.timeutil import local_today

EXTENSION = "fairshift.kept_pages"
PLACEHOLDER = "\x00csrf\x00"  # never in a rendered page: NUL is refused on the way in
_NOT_KEPT = "fairshift_not_kept"


def store() -> KeptFigures:
    """This application's store of pages, made on first use from its configuration."""
    extensions = current_app.extensions
    kept = extensions.get(EXTENSION)
    if kept is None:
        kept = extensions.setdefault(
            EXTENSION, KeptFigures(int(current_app.config.get("PAGE_KEEP_SECONDS", 0)), size=2048)
        )
    return kept


def _key() -> tuple:
    user = current_user._get_current_object()
    org = user.organisation
    return (
        request.endpoint,
        request.query_string,
        user.id,
        user.session_version,
        tuple(sorted(user.roles)),
        org.id,
        org.data_version,
        local_today(),
    )


def not_kept() -> None:
    """Do not keep the page this request is working out (it is sent all the same)."""
    setattr(g, _NOT_KEPT, True)


class _NotKept(Exception):
    """The page worked out is not one to keep (an error, a redirect, a download)."""

    def __init__(self, response):
        self.response = response


def kept(view=None, *, when: Callable[[User], bool] | None = None):
    """Keep a signed-in GET page's HTML (put inside the login or role check): ``@kept``, or
    ``@kept(when=...)`` to keep it only for the users the test holds for."""
    if view is None:
        return functools.partial(kept, when=when)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        kept_pages = store()
        if (
            kept_pages.seconds <= 0
            or request.method != "GET"
            or session.get("_flashes")
            or (when is not None and not when(current_user))
        ):
            return view(*args, **kwargs)

        def render() -> str:
            response = make_response(view(*args, **kwargs))
            if (
                response.status_code != 200
                or response.mimetype != "text/html"
                or g.pop(_NOT_KEPT, False)
            ):
                raise _NotKept(response)
            return response.get_data(as_text=True).replace(generate_csrf(), PLACEHOLDER)

        try:
            page = kept_pages.get(_key(), render).value
        except _NotKept as not_kept:
            return not_kept.response
        return Response(page.replace(PLACEHOLDER, generate_csrf()), mimetype="text/html")

    return wrapper
