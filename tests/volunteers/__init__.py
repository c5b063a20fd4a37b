"""Helpers shared by the volunteer programme's tests."""
from __future__ import annotations

from flask import Flask
from flask_migrate import upgrade

from inspect_app import create_app
from inspect_app.accounts.models import Role, User
from inspect_app.config import TestConfig
from inspect_app.extensions import db


def app_on_file(folder, storage) -> Flask:
    """An app on an SQLite file in `folder` (the suite's own database lives in memory, and these tests
    read what reached the disk), migrated, with the programme's coordinator ("coordinator") committed."""
    from tests.conftest import PASSWORD
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'inspect.db'}", STORAGE_DIR=str(storage))
    with app.app_context():
        upgrade()
        admin = User(username="coordinator", display_name="项目负责人", role=Role.ADMIN, manages_volunteers=True)
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.commit()
        db.session.remove()
    return app
