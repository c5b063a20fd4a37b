"""SafeCampus Inspect (校园防控督查): the application factory."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from inspect_app.config import Config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type = Config, **overrides) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=None,  # served by inspect_app.assets with fingerprinted names
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    _fill_embedded_defaults(app)

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from inspect_app import assets, errors, i18n, parsing, security
    from inspect_app.extensions import (compress, csrf, db, enable_sqlite_pragmas, login_manager,
                                        migrate)

    enable_sqlite_pragmas()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    parsing.init_app(app)  # before the blueprints: their <int:…> rules bind its converter

    from inspect_app.accounts import auth
    auth.init_app(app, login_manager)

    from inspect_app.audit import services as audit_services
    audit_services.install()

    from inspect_app import accounts, api, audit, checklists, core, photos, reports, schools, tickets, visits
    for blueprint in (core.bp, accounts.bp, schools.bp, checklists.bp, photos.bp, visits.bp, tickets.bp,
                      reports.bp, audit.bp, api.bp):
        app.register_blueprint(blueprint)

    from inspect_app import cli
    cli.init_app(app)
    return app


def _fill_embedded_defaults(app: Flask) -> None:
    """SQLite, files and a secret kept under instance/ when the environment names none."""
    instance = Path(app.instance_path)
    needs_instance = not (app.config["SECRET_KEY"] and app.config["SQLALCHEMY_DATABASE_URI"]
                          and app.config["STORAGE_DIR"])
    if needs_instance:
        instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        key_file = instance / "secret_key"
        if not key_file.exists():
            # Written once, readable by the owner only, so sessions survive restarts.
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'inspect.db'}"
    if not app.config["STORAGE_DIR"]:
        app.config["STORAGE_DIR"] = str(instance / "storage")
    if not app.config["NODE_MODULES_DIR"]:
        app.config["NODE_MODULES_DIR"] = str(PROJECT_ROOT / "node_modules")
