"""Column types shared by every domain."""
import enum
from datetime import datetime, timezone

import sqlalchemy as sa


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which drops offsets) as on PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        return None if value is None else as_stored(value)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def as_stored(value: datetime) -> datetime:
    """An aware datetime as a UTCDateTime column stores it (naive UTC), for a value written without its
    type's bind step (a batch sent as one JSON document)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def enum_column(cls, length: int = 20) -> sa.Enum:
    """A Python enum stored by value as a short string (no native type: portable and easy to migrate)."""
    return sa.Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class LabelledEnum(enum.StrEnum):
    """A stored value and its name in the user's language, declared side by side
    (`OPEN = "open", _l("To rectify")`) so a new member cannot be added without its label."""

    def __new__(cls, value: str, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label if label is not None else value
        return member

    @property
    def label(self) -> str:
        return str(self._label)
