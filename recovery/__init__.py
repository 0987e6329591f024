"""recovery — receivables and debt-recovery management (应收账款与清欠管理系统)."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

from flask import Flask

from recovery import config as config_module
from recovery.extensions import babel, bootstrap, csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application. ``config`` overrides what the environment sets (tests use it)."""
    instance_path = os.environ.get("RECOVERY_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.from_environment(Path(instance_path)))
    if config:
        app.config.update(config)
    app.logger.setLevel(app.config["LOG_LEVEL"])
    logging.getLogger("recovery").setLevel(app.config["LOG_LEVEL"])

    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)

    from recovery.core import errors, web

    errors.register(app)
    web.register(app)
    # What the process has built so far (modules, models, the app) lives as long as it does:
    # move it out of the garbage collector's reach, so that a full collection during a
    # request scans only what requests made — about 6 ms instead of 110-165 ms on a worker
    # serving the worklist (docs/deployment.md). Not under tests, which build hundreds of
    # apps in one process and must have them collected.
    if not app.testing:
        gc.freeze()
    return app


def _init_extensions(app: Flask) -> None:
    from recovery.audit import listeners
    from recovery.core import database
    from recovery.core.i18n import select_locale

    database.postgresql_options(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    bootstrap.init_app(app)
    database.configure(app)
    listeners.install()

    # Import every model so that metadata (and Alembic) know all tables.
    from recovery import models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from recovery.activities.routes import bp as activities_bp
    from recovery.admin.routes import bp as admin_bp
    from recovery.api import init_app as init_api
    from recovery.audit.routes import bp as audit_bp
    from recovery.auth.routes import bp as auth_bp
    from recovery.cases.routes import bp as cases_bp
    from recovery.credit.routes import bp as credit_bp
    from recovery.dashboard.routes import bp as dashboard_bp
    from recovery.imports.routes import bp as imports_bp
    from recovery.jobs.routes import bp as jobs_bp
    from recovery.ledger.routes import bp as ledger_bp
    from recovery.legal.routes import bp as legal_bp
    from recovery.letters.routes import bp as letters_bp
    from recovery.limitation.routes import bp as limitation_bp
    from recovery.main.routes import bp as main_bp
    from recovery.monthly.routes import bp as monthly_bp
    from recovery.parties.routes import bp as parties_bp
    from recovery.provisions.routes import bp as provisions_bp
    from recovery.responsibility.routes import bp as responsibility_bp
    from recovery.settings.routes import bp as settings_bp
    from recovery.targets.routes import bp as targets_bp
    from recovery.worklist.routes import bp as worklist_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(settings_bp, url_prefix="/admin/settings")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(ledger_bp, url_prefix="/ledger")
    app.register_blueprint(parties_bp, url_prefix="/parties")
    app.register_blueprint(imports_bp, url_prefix="/ledger")
    app.register_blueprint(jobs_bp, url_prefix="/jobs")
    app.register_blueprint(responsibility_bp, url_prefix="/responsibility")
    app.register_blueprint(cases_bp, url_prefix="/cases")
    app.register_blueprint(activities_bp, url_prefix="/activities")
    app.register_blueprint(worklist_bp, url_prefix="/worklist")
    app.register_blueprint(legal_bp, url_prefix="/legal")
    app.register_blueprint(limitation_bp, url_prefix="/limitation")
    app.register_blueprint(letters_bp, url_prefix="/letters")
    app.register_blueprint(dashboard_bp, url_prefix="/dashboard")
    app.register_blueprint(targets_bp, url_prefix="/targets")
    app.register_blueprint(provisions_bp, url_prefix="/provisions")
    app.register_blueprint(monthly_bp, url_prefix="/reports/monthly")
    app.register_blueprint(credit_bp, url_prefix="/credit")
    init_api(app)  # the JSON API v1 under /api/v1 and the token pages


def _register_cli(app: Flask) -> None:
    from recovery.audit.cli import audit_cli
    from recovery.auth.cli import users_cli
    from recovery.backup.cli import backup_cli
    from recovery.core.translations import translations_cli
    from recovery.demo.cli import demo_cli
    from recovery.imports.cli import ledger_cli
    from recovery.jobs.cli import jobs_cli
    from recovery.ledger.cli import compact_sums
    from recovery.reports.cli import report_cli
    from recovery.retention.cli import retention_cli

    groups = (
        users_cli,
        audit_cli,
        backup_cli,
        demo_cli,
        translations_cli,
        report_cli,
        ledger_cli,
        jobs_cli,
        retention_cli,
    )
    ledger_cli.add_command(compact_sums)
    for group in groups:
        app.cli.add_command(group)
