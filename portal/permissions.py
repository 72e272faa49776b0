"""Who may do what: role checks and load-or-404 guards, with scoping done in the query."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str):
    """Allow the view only to signed-in users holding at least one of ``roles``; others get 404.

    404 rather than 403, so that a role cannot even learn which pages exist for others.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator
