"""FairShift: the workforce portal for community violence intervention."""

from __future__ import annotations

import os

from flask import Flask

from config import CONFIGS, DEV_SECRET_KEY
from portal.database import normalise_database_url
from portal.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: str | type | None = None, **overrides) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI and error pages."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    name = config if isinstance(config, str) else os.environ.get("FAIRSHIFT_CONFIG", "development")
    app.config.from_object(config if isinstance(config, type) else CONFIGS[name])
    app.config.from_prefixed_env("FAIRSHIFT")
    app.config.update(overrides)
    app.config["FAIRSHIFT_ENV"] = name if not isinstance(config, type) else config.__name__
    _check_config(app)

    os.makedirs(app.instance_path, exist_ok=True)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        normalise_database_url(uri)
        if uri
        else "sqlite:///" + os.path.join(app.instance_path, "fairshift.db")
    )

    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    import portal.database  # noqa: F401 - registers the SQLite connection events
    import portal.models  # noqa: F401 - every model is known before mappers configure
    import portal.shifts.totals  # noqa: F401 - keeps the daily totals in step with shifts
    import portal.versions  # noqa: F401 - bumps organisations' data versions on every write

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from portal import (
        admin,
        api,
        auth,
        benchmarks,
        counseling,
        dashboard,
        hr,
        main,
        oncall,
        pay,
        safety,
        shifts,
        training,
        wellbeing,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(shifts.bp)
    app.register_blueprint(pay.bp)
    app.register_blueprint(oncall.bp)
    app.register_blueprint(safety.bp)
    app.register_blueprint(hr.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(benchmarks.bp)
    app.register_blueprint(wellbeing.bp)
    app.register_blueprint(counseling.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(training.bp)
    app.register_blueprint(api.bp)
    app.wsgi_app = api.WithoutCookies(app.wsgi_app)  # bearer tokens only under /api/

    from portal import audit, errors, web

    errors.register(app)
    web.register(app)
    audit.register(app)

    from portal.seed import register_cli

    register_cli(app)
    from portal.seedbench import register_cli as register_bench_cli

    register_bench_cli(app)
    from portal.wellbeing.checkin_service import register_checkin_cli

    register_checkin_cli(app)
    from portal.counseling.availability import register_counseling_cli

    register_counseling_cli(app)
    from portal.counseling.reminders import register_reminder_cli

    register_reminder_cli(app)
    from portal.backup_cli import register_backup_cli

    register_backup_cli(app)
    from portal.shifts.totals import register_totals_cli

    register_totals_cli(app)
    from portal.pay.fairness import register_fair_pay_cli

    register_fair_pay_cli(app)
    from portal.training.reminders import register_training_cli

    register_training_cli(app)
    from portal.safety.alerts import register_safety_cli

    register_safety_cli(app)
    return app


def _check_config(app: Flask) -> None:
    """Refuse to start in production with settings that would be unsafe there."""
    if app.config["FAIRSHIFT_ENV"] != "production":
        return
    key = app.config.get("SECRET_KEY")
    if not key or key == DEV_SECRET_KEY:
        raise RuntimeError("SECRET_KEY must be set in production (see README, Settings).")
    if str(app.config.get("SESSION_COOKIE_NAME", "")).startswith("__Host-") and (
        not app.config.get("SESSION_COOKIE_SECURE") or app.config.get("SESSION_COOKIE_DOMAIN")
    ):
        raise RuntimeError(
            "A __Host- session cookie must be Secure and have no domain: set "
            "SESSION_COOKIE_SECURE, unset SESSION_COOKIE_DOMAIN (see docs/deploy.md)."
        )
