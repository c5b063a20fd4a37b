"""Flask commands: the demo city, the school register, the first admin account."""
import getpass
import os
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from inspect_app.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(users_group)
    app.cli.add_command(schools_group)
    app.cli.add_command(checklists_group)
    app.cli.add_command(tickets_group)
    app.cli.add_command(duties_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(complaints_group)
    app.cli.add_command(volunteers_group)
    app.cli.add_command(notify_group)
    app.cli.add_command(storage_group)


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo city (idempotent) and print the sign-ins."""
    from inspect_app.checklists.services import install_builtin_templates
    from inspect_app.demo import ACCOUNTS, DEMO_PASSWORD, load_demo
    install_builtin_templates()
    summary = load_demo()
    db.session.commit()
    click.echo(f"Demo city: {summary['schools']} schools ({summary['created']} new), "
               f"{summary['accounts']} accounts.")
    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for username, role, *_ in ACCOUNTS:
        click.echo(f"  {username:<11} {role.value}")


@click.group("users", cls=AppGroup)
def users_group():
    """Manage accounts."""


@users_group.command("create-admin")
@click.argument("username")
@click.option("--display-name", default="管理员")
def create_admin(username: str, display_name: str):
    """Create the first administrator (asks for the password)."""
    from inspect_app.accounts.models import AccountError, Role
    from inspect_app.accounts.services import NewAccount, create_account
    password = getpass.getpass("Password: ")
    try:
        user = create_account(NewAccount(username=username, display_name=display_name, role=Role.ADMIN,
                                         password=password, manages_volunteers=True,
                                         must_change_password=False))  # they typed their own
    except AccountError as error:
        raise click.ClickException(f"{error.field}: {error.message}") from None
    db.session.commit()
    username = user.username
    click.echo(f"Administrator {username} created.")


@users_group.command("clear-sign-in-failures")
@click.argument("username")
def clear_signin_failures(username: str):
    """Let a locked-out user sign in again now (e.g. the only admin); kept in the audit trail."""
    from inspect_app.accounts.models import User
    from inspect_app.accounts.services import normalise_username
    user = db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    user.clear_signin_failures()
    db.session.commit()
    click.echo(f"Failed sign-ins of {user.username} cleared; they can sign in again now.")


@click.group("schools", cls=AppGroup)
def schools_group():
    """Manage the school register."""


@schools_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(csv_file: Path):
    """Import schools from a CSV (UTF-8 or GBK); all rows or none."""
    from inspect_app.schools.services import ImportFileError, import_schools
    try:
        result = import_schools(csv_file.read_bytes(), current_app.config["DEFAULT_SCHOOL_RADIUS_M"])
    except ImportFileError as error:
        raise click.ClickException(str(error))
    if result.errors:
        db.session.rollback()
        for error in result.errors:
            click.echo(f"line {error.line}: {error.message}", err=True)
        raise click.ClickException("nothing was imported")
    db.session.commit()
    click.echo(f"{result.created} created, {result.updated} updated")


@click.group("checklists", cls=AppGroup)
def checklists_group():
    """Manage checklist templates."""


@checklists_group.command("install")
def install_checklists():
    """Add the shipped templates that are missing (existing ones and their versions are kept)."""
    from inspect_app.checklists.services import install_builtin_templates
    added = install_builtin_templates()
    db.session.commit()
    click.echo(f"{added} checklist templates added")


@click.group("duties", cls=AppGroup)
def duties_group():
    """The schools' daily report (日报告/零报告)."""


@duties_group.command("remind")
def remind_command():
    """Remind schools without today's report before the deadline, and their responsible inspectors at
    it (`flask worker` runs this every 5 minutes; each notice is sent once per person and day)."""
    from inspect_app.duties.services import remind
    from inspect_app.idempotency import first_writer_wins
    sent = first_writer_wins(remind)
    click.echo(f"{sent} reminders sent")


@click.group("tickets", cls=AppGroup)
def tickets_group():
    """Rectification tickets."""


@tickets_group.command("escalate")
def escalate_command():
    """Climb the escalation ladder for overdue tickets, and escalate hand-over sheets not signed for
    after a working day (`flask worker` runs this every 15 minutes; each step is taken once)."""
    from inspect_app.dbtypes import utcnow
    from inspect_app.tickets.handovers import escalate_unacknowledged
    from inspect_app.tickets.services import escalate_overdue
    now = utcnow()
    steps = escalate_overdue(now)
    sheets = escalate_unacknowledged(now)
    db.session.commit()
    click.echo(f"{steps} escalation steps taken, {sheets} hand-over sheets escalated")


@click.group("audit", cls=AppGroup)
def audit_group():
    """The keyed hash chain of the audit trail."""


def _anchors(ctx, param, values):
    from inspect_app.audit.services import parse_anchor
    try:
        return [parse_anchor(value) for value in values]
    except ValueError as error:
        raise click.BadParameter(str(error))


@audit_group.command("verify")
@click.option("--anchor", "anchors", multiple=True, callback=_anchors, metavar="COUNT:HASH",
              help="A chain head noted outside the database (e.g. on a signed daily report); "
                   "the chain must still pass through it. May be repeated.")
def audit_verify(anchors):
    """Exit 0 when the chain is intact (and extends every anchor); otherwise say where it breaks, exit 1."""
    from inspect_app.audit.services import format_anchor, verify
    verdict = verify(anchors)
    if verdict.ok:
        extends = f", passes through {len(anchors)} anchor(s)" if anchors else ""
        click.echo(f"audit chain intact: {verdict.checked} entries{extends}; head {format_anchor(verdict.head)}")
        return
    where = f"at entry {verdict.broken_id}" if verdict.broken_id is not None else "at its end"
    click.echo(f"audit chain broken {where}: {verdict.reason} "
               f"({verdict.checked} entries before it are intact)", err=True)
    raise SystemExit(1)


@audit_group.command("head")
def audit_head():
    """Print the chain head as COUNT:HASH, to keep somewhere the database cannot reach."""
    from inspect_app.audit.services import format_anchor, head
    click.echo(format_anchor(head()))


@audit_group.command("new-key")
@click.argument("key_id")
def audit_new_key(key_id: str):
    """Start a new audit key KEY_ID: new entries use it, the old keys keep verifying older entries."""
    from inspect_app.audit.keys import AuditKeyError, new_key, parse
    try:
        pair = new_key(key_id)
        if key_id in parse(current_app.config["AUDIT_KEYS"]).ids:
            raise AuditKeyError(f"the key id {key_id!r} is in use already")
    except AuditKeyError as error:
        raise click.ClickException(str(error))
    _key_in_front("AUDIT_KEYS", "audit_keys", pair, "restart every app process at once to use it.")


def _key_in_front(variable: str, file_name: str, key: str, then: str) -> None:
    """A new key goes first in the instance file that holds the keys (old ones kept after it), or is
    printed for the operator to put first in the environment variable that overrides the file."""
    key_file = Path(current_app.instance_path) / file_name
    if variable in os.environ or not key_file.exists():
        click.echo(f"Put this first in {variable} (keep the old ones after it); then {then}")
        click.echo(key)
        return
    key_file.write_text(key + "\n" + key_file.read_text())
    click.echo(f"{key_file}: a new key added in front; {then}")


@click.group("complaints", cls=AppGroup)
def complaints_group() -> None:
    """Public complaints."""


@complaints_group.command("purge-contacts")
def purge_complaint_contacts() -> None:
    """Erase complainants' contacts COMPLAINT_CONTACT_RETENTION_DAYS after closing (PIPL; `flask worker` runs this hourly)."""
    from inspect_app.complaints.services import purge_contacts
    from inspect_app.extensions import db
    erased = purge_contacts()
    db.session.commit()
    click.echo(f"erased {erased} contacts")


@click.group("volunteers", cls=AppGroup)
def volunteers_group() -> None:
    """The parent-volunteer programme's sealed identities."""


@volunteers_group.command("new-key")
def volunteers_new_key() -> None:
    """Start a new identity key: new seals use it; the old keys still open until `rekey` has run."""
    from inspect_app.accounts.escrow import new_key
    _key_in_front("VOLUNTEER_IDENTITY_KEYS", "volunteer_identity_keys", new_key(),
                  "restart every app process at once, then run `flask volunteers rekey`.")


@volunteers_group.command("rekey")
def volunteers_rekey() -> None:
    """Re-seal every volunteer's identity with the newest key; afterwards the old keys may be dropped."""
    from inspect_app.accounts.escrow import IdentityKeyError
    from inspect_app.volunteers.services import rekey_identities
    try:
        count = rekey_identities()
    except IdentityKeyError as error:
        db.session.rollback()
        raise click.ClickException(f"{error}; nothing was changed")
    db.session.commit()
    click.echo(f"{count} identities sealed with the newest key; the older keys may now be removed.")


@click.group("notify", cls=AppGroup)
def notify_group() -> None:
    """Notices that leave the app (e-mail, DingTalk and WeCom group robots)."""


@notify_group.command("send")
def notify_send() -> None:
    """Send the e-mails and group posts now due, retrying failed ones whose wait is over (the scheduler
    runs this every minute; safe to run on two machines at once)."""
    from inspect_app.notify import deliver_due
    counts = deliver_due()
    click.echo(f"{counts['sent']} sent, {counts['retrying']} to retry, {counts['failed']} given up")
@click.group("storage", cls=AppGroup)
def storage_group() -> None:
    """Where uploads live (STORAGE_URL)."""


@storage_group.command("migrate")
@click.option("--source", "source_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The local folder to copy from (default: STORAGE_DIR, instance/storage).")
def storage_migrate(source_dir: Path | None) -> None:
    """Copy a local store into the store STORAGE_URL names (S3). Run it again after a stop: objects
    already there with the same SHA-256 are skipped; each copy is read back and its hash checked."""
    from inspect_app.photos.storage import LocalStorage, StorageUnavailable, migrate, storage
    source = LocalStorage(source_dir or current_app.config["STORAGE_DIR"])
    if not source.root.is_dir():
        raise click.ClickException(f"{source.root} is not a folder")
    target = storage()
    if isinstance(target, LocalStorage) and target.root.resolve() == source.root.resolve():
        raise click.ClickException("STORAGE_URL names the folder being copied; set it to s3://bucket/prefix")
    click.echo(f"Copying {source!r} into {target!r}")

    def progress(done) -> None:
        seen = done.copied + done.skipped + len(done.failed)
        click.echo(f"  {seen}/{done.total} objects: {done.copied} copied, {done.skipped} already there"
                   + (f", {len(done.failed)} FAILED the hash check" if done.failed else ""))
    try:
        result = migrate(source, target, progress)
    except StorageUnavailable:
        raise click.ClickException(f"{target!r} cannot be reached (the log says why); "
                                   "run the command again: what was copied is kept") from None
    if result.failed:
        for key in result.failed:
            click.echo(f"  hash mismatch after copying: {key}", err=True)
        raise click.ClickException(f"{len(result.failed)} objects did not read back as written; run again")
    click.echo(f"Done: {result.copied} copied (each read back with the same SHA-256), "
               f"{result.skipped} already there with the same SHA-256.")
