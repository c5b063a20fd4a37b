"""SafeCampus Inspect (校园防控督查): the application factory."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

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
    _check_required(app)

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
    from inspect_app import ratelimit
    ratelimit.init_app(app)

    from inspect_app.accounts import auth
    auth.init_app(app, login_manager)

    from inspect_app.audit import services as audit_services
    audit_services.install()
    from inspect_app.visits import services as visit_services
    visit_services.install()  # after the chain's hooks: a visit's waiting answers are described after it

    from inspect_app import notify
    notify.init_app(app)

    from inspect_app import (accounts, api, audit, checklists, complaints, core, duties, photos, plans, reports,
                             reviews, schools, tickets, visits, volunteers)
    for blueprint in (core.bp, accounts.bp, schools.bp, checklists.bp, photos.bp, visits.bp, tickets.bp,
                      duties.bp, plans.bp, complaints.bp, volunteers.bp, reviews.bp, reports.bp, audit.bp, api.bp):
        app.register_blueprint(blueprint)

    from inspect_app import cli, worker
    cli.init_app(app)
    worker.init_app(app)
    return app


def _fill_embedded_defaults(app: Flask) -> None:
    """SQLite, files and a secret kept under instance/ when the environment names none."""
    instance = Path(app.instance_path)
    needs_instance = not (app.config["SECRET_KEY"] and app.config["SQLALCHEMY_DATABASE_URI"]
                          and (app.config["STORAGE_DIR"] or app.config.get("STORAGE_URL")) and app.config["AUDIT_KEYS"]
                          and app.config["VOLUNTEER_IDENTITY_KEYS"])
    if needs_instance:
        instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key", secrets.token_hex(32))
    if not app.config["AUDIT_KEYS"]:
        # Outside the database on purpose: whoever can write the audit table still cannot sign entries.
        from inspect_app.audit.keys import new_key
        app.config["AUDIT_KEYS"] = _instance_secret(instance / "audit_keys", new_key("k1"))
    if not app.config["VOLUNTEER_IDENTITY_KEYS"]:
        # Outside the database on purpose: a copy of the database must not tell who the volunteers are.
        from inspect_app.accounts.escrow import new_key as new_identity_key
        app.config["VOLUNTEER_IDENTITY_KEYS"] = _instance_secret(instance / "volunteer_identity_keys",
                                                                 new_identity_key())
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'inspect.db'}"
    if not app.config["STORAGE_DIR"]:
        app.config["STORAGE_DIR"] = str(instance / "storage")
    if not app.config["NODE_MODULES_DIR"]:
        app.config["NODE_MODULES_DIR"] = str(PROJECT_ROOT / "node_modules")


def _instance_secret(path: Path, fresh: str) -> str:
    """The secret kept in an instance file, written once (owner-only) so it survives restarts."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(fresh + "\n")
    return path.read_text().strip()


def _check_required(app: Flask) -> None:
    """Refuse to start on settings that would make the app unsafe, with a message that says what to set."""
    from inspect_app.audit.keys import parse
    parse(app.config["AUDIT_KEYS"])  # raises AuditKeyError naming the problem
    from inspect_app.accounts.escrow import parse as parse_identity_keys
    parse_identity_keys(app.config["VOLUNTEER_IDENTITY_KEYS"])  # IdentityKeyError naming the problem
    if app.config.get("STORAGE_URL"):
        from inspect_app.photos.storage import parse_storage_url
        try:
            parse_storage_url(app.config["STORAGE_URL"])
        except ValueError as error:
            raise RuntimeError(str(error)) from None
    base = app.config.get("PUBLIC_BASE_URL") or ""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError(
            "PUBLIC_BASE_URL must be set to the address people reach this app at, e.g. "
            "PUBLIC_BASE_URL=https://inspect.example.gov.cn: QR posters are built from it, never from "
            "the request's Host header (`make run` sets it to http://HOST:PORT for the demo).")
    _check_argon2(app)


# OWASP's least for Argon2id: 19 MiB and two passes (one lane). Below it a stolen hash is cheap to guess.
ARGON2_LEAST_MEMORY_KIB, ARGON2_LEAST_PASSES = 19 * 1024, 2


def _check_argon2(app: Flask) -> None:
    """The password hashing costs are settings (ARGON2_*): refuse what Argon2 itself refuses (nobody
    could sign in), and say so in the log when they are too cheap for anything but a test server."""
    passes, memory, lanes = (app.config[f"ARGON2_{name}"] for name in ("TIME_COST", "MEMORY_COST", "PARALLELISM"))
    if passes < 1 or lanes < 1 or memory < 8 * lanes:
        raise RuntimeError(
            f"ARGON2_TIME_COST={passes}, ARGON2_MEMORY_COST={memory}, ARGON2_PARALLELISM={lanes}: Argon2 needs at "
            "least one pass and one lane, and at least 8 KiB of memory per lane.")
    if not app.testing and (memory < ARGON2_LEAST_MEMORY_KIB or passes < ARGON2_LEAST_PASSES):
        app.logger.warning(
            "ARGON2_MEMORY_COST=%s KiB and ARGON2_TIME_COST=%s are below OWASP's least for Argon2id (%s KiB, %s "
            "passes): stolen password hashes would be cheap to guess. Only a test server should run these.",
            memory, passes, ARGON2_LEAST_MEMORY_KIB, ARGON2_LEAST_PASSES)
