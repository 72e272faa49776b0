"""The statistics API: the dashboard's tables as JSON, for leader and funder bearer tokens."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PATH_PREFIX = "/api/"


class WithoutCookies:
    """WSGI middleware: requests under /api/ reach the application without their cookies.

    The API authenticates by bearer token only. Dropping the Cookie header before Flask opens
    the session means no session logic runs for it at all: a browser's stale session cannot
    redirect an API call to the sign-in page, and no answer of the API sets a cookie.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(PATH_PREFIX):
            environ.pop("HTTP_COOKIE", None)
        return self.wsgi_app(environ, start_response)


from portal.api import routes  # noqa: E402,F401
