"""New rows written without the unit of work, for the writes a whole visit makes many of (issue 18).

A whole-visit PUT creates a visit, its findings and answers, and the tickets they open. As ORM objects
going through the session's flush, with its sorting, per-object bookkeeping and history, they were
most of the request's work, and each statement (each table) costs a round trip and about 300 Python
calls more. As rows, every value but a serial id is decided in Python (values_of, with_defaults), so
what is sent is what is stored; on PostgreSQL each table's rows go as one JSON document and several
tables in one statement (inserted_from_json, numbered_pairs). Whoever writes rows this way records
them in the audit chain itself (`audit.record_rows`): the chain's flush hooks never see them.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql

from inspect_app.dbtypes import UTCDateTime, as_stored


@functools.cache
def inserted(table: sa.Table) -> sa.Insert:
    """INSERT … RETURNING the new ids, in the order of the rows sent (every other value was decided in
    Python). Built once: building and keying a statement cost about as much of the app's time as
    running it."""
    return sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)


@functools.cache
def _columns(mapper: so.Mapper) -> list[tuple[str, str, sa.schema.ColumnDefault | None]]:
    """(attribute, column, Python default) of each column a class maps, worked out once per class. A
    column whose default lives only in the database is refused here: every row of one INSERT must name
    the same columns, so each value is decided in Python (values_of)."""
    columns = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.server_default is not None and column.default is None:
            raise TypeError(f"{column} has a server default only: values_of cannot fill it")
        if column.default is not None and not (column.default.is_scalar or column.default.is_callable):
            raise TypeError(f"{column}'s default is SQL: values_of cannot fill it")
        columns.append((prop.key, column.name, column.default))
    return columns


def values_of(obj) -> dict:
    """A new object's row, by column name: each value set on it, else its column's default (called, if
    it is a function), else None, as the flush would have written it."""
    return _filled(sa.inspect(obj).mapper, obj.__dict__)


def with_defaults(cls, given: dict, generated: tuple[str, ...] = ("id",)) -> dict:
    """A new row of a mapped class from the values `given` by attribute, as values_of makes it (by
    column name), but for the `generated` columns the database numbers (left out)."""
    row = _filled(sa.inspect(cls), given)
    for name in generated:
        del row[name]
    return row


def _filled(mapper: so.Mapper, values: dict) -> dict:
    row = {}
    for key, name, default in _columns(mapper):
        if key in values:
            row[name] = values[key]
        elif default is None:
            row[name] = None
        else:
            # A callable default is wrapped by SQLAlchemy to take the execution context, unused here.
            row[name] = default.arg(None) if default.is_callable else default.arg
    return row


def as_loaded(obj, row: Mapping) -> None:
    """Give a new object the values of the row just inserted for it (by column name) and make it
    detached, as if it had been loaded (its history cleared): Session.add then attaches it as
    persistent, without an INSERT."""
    values = obj.__dict__
    for key, name, _default in _columns(sa.inspect(obj).mapper):
        values[key] = row[name]
    so.make_transient_to_detached(obj)


def attach(session: so.Session, obj, aside: tuple[str, ...] = ()) -> None:
    """Attach an object made detached by as_loaded, with the detached objects it cascades to (its
    children, made the same way), to `session` as persistent; the collections named `aside` are kept
    out of the cascade (objects meant to stay out of the session). If the transaction (or the
    savepoint) it was attached in rolls back, their rows are gone and they go too, as a rollback takes
    out the objects its flushes inserted: a try after a lost race (idempotency) then stores them afresh
    rather than meeting stale copies in the session."""
    kept = {name: list(getattr(obj, name)) for name in aside}
    for name in kept:
        so.attributes.set_committed_value(obj, name, [])
    # Each object the add attaches is listed as it is (_listed), not found again at the rollback: the
    # rollback expires the collections before its hooks run.
    session.info["attaching"] = session.info.setdefault("attached_rows", [])
    try:
        session.add(obj)
    finally:
        del session.info["attaching"]
    for name, members in kept.items():
        so.attributes.set_committed_value(obj, name, members)


@sa.event.listens_for(so.Session, "detached_to_persistent")
def _listed(session, instance) -> None:
    attaching = session.info.get("attaching")
    if attaching is not None:
        attaching.append(instance)


@sa.event.listens_for(so.Session, "after_transaction_create")
def _mark_savepoint(session, transaction) -> None:
    if transaction.nested:
        session.info.setdefault("attached_marks", {})[transaction] = len(session.info.get("attached_rows", ()))


@sa.event.listens_for(so.Session, "after_commit")
def _attached_for_good(session) -> None:
    if not session.in_nested_transaction():  # not a savepoint released: the transaction committed
        session.info.pop("attached_rows", None)
        session.info.pop("attached_marks", None)


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _detach_rolled_back(session, previous_transaction) -> None:
    attached = session.info.get("attached_rows", [])
    if previous_transaction.nested:
        mark = session.info.get("attached_marks", {}).pop(previous_transaction, None)
        if mark is None:
            return
        gone = attached[mark:]
        del attached[mark:]
    elif previous_transaction.parent is None:
        gone = session.info.pop("attached_rows", [])
        session.info.pop("attached_marks", None)
    else:
        return  # a flush's inner transaction: the caller's rollback of the whole one follows
    for obj in gone:
        if obj in session:
            session.expunge(obj)


# PostgreSQL: rows sent as one JSON document, a parameter or two for a whole batch. An executemany
# binds, adapts and parses every value of every row in Python (psycopg caches no statement with more
# than 50 parameters); the json module's C encoder writes them all at once.
_encode = json.JSONEncoder(ensure_ascii=False).encode


@functools.cache
def _carriers(table: sa.Table) -> dict[str, Callable]:
    """How a JSON document carries the value of each column that needs it, from the column's type: a
    time as UTCDateTime stores it (dbtypes.as_stored), an enum by the value its column stores; any
    other value as it is. Worked out once per table."""
    carriers: dict[str, Callable] = {}
    for column in table.c:
        if isinstance(column.type, UTCDateTime):
            carriers[column.name] = lambda value: None if value is None else as_stored(value).isoformat()
        elif isinstance(column.type, sa.Enum):
            carriers[column.name] = lambda value: getattr(value, "value", value)
    return carriers


def as_json(table: sa.Table, rows: list[dict]) -> str:
    """Rows of `table` (by column name) as one JSON array, each value as its column stores it."""
    carriers = _carriers(table)
    return _encode([{name: carriers[name](value) if name in carriers else value for name, value in row.items()}
                    for row in rows])


def inserted_from_json(table: sa.Table, parameter: str, columns: tuple[str, ...] | None = None) -> sa.Insert:
    """(PostgreSQL) INSERT INTO `table` the rows of the JSON array bound as `parameter` (as_json),
    read by json_populate_recordset: each field as the database's own column type, picked by name.
    `columns`: those the rows give (the rest take their defaults, a serial id its next value); every
    column if None (values_of fills them all)."""
    names = [column.name for column in table.c] if columns is None else list(columns)
    sent = (sa.func.json_populate_recordset(sa.literal_column(f"NULL::{table.name}"),
                                            sa.bindparam(parameter, type_=sa.Text).cast(postgresql.JSON))
            .table_valued(*[sa.column(name) for name in names]).alias(f"sent_{table.name}"))
    return sa.insert(table).from_select(names, sa.select(*sent.c))


def numbered_pairs(parents: sa.Table, children: sa.Table, link: str) -> sa.TextClause:
    """(PostgreSQL) One statement that inserts rows of `parents` and, for each, one row of `children`
    whose `link` column names it: the JSON arrays bound as "parents" and "children" (as_json, in the
    same order, every column given but the ids), each row numbered from its table's sequence. Answers
    (parent id, child id) per pair, in the order sent. Two INSERT … RETURNING, the second waiting on the
    first's ids, were a round trip and a statement's work more (issue 18)."""
    def columns(table: sa.Table, leave: set[str]) -> list[str]:
        return [column.name for column in table.c if column.name not in leave]
    parent_columns, child_columns = columns(parents, {"id"}), columns(children, {"id", link})
    p, c = parents.name, children.name
    return sa.text(f"""
        WITH sent_parents AS MATERIALIZED (
            SELECT nextval(pg_get_serial_sequence('{p}', 'id')) AS new_id, sent.*
            FROM json_populate_recordset(NULL::{p}, CAST(:parents AS JSON)) WITH ORDINALITY AS sent),
        sent_children AS MATERIALIZED (
            SELECT nextval(pg_get_serial_sequence('{c}', 'id')) AS new_id, sent_parents.new_id AS parent_id, sent.*
            FROM json_populate_recordset(NULL::{c}, CAST(:children AS JSON)) WITH ORDINALITY AS sent
            JOIN sent_parents USING (ordinality)),
        stored_parents AS (
            INSERT INTO {p} (id, {", ".join(parent_columns)})
            SELECT new_id, {", ".join(parent_columns)} FROM sent_parents),
        stored_children AS (
            INSERT INTO {c} (id, {link}, {", ".join(child_columns)})
            SELECT new_id, parent_id, {", ".join(child_columns)} FROM sent_children)
        SELECT parent_id, new_id AS child_id FROM sent_children ORDER BY ordinality""")
