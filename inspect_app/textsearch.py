"""Search boxes match what the user typed: '%' and '_' are characters, not LIKE wildcards."""
import sqlalchemy as sa


def contains_text(column, text: str) -> sa.ColumnElement[bool]:
    """The column contains the text, ignoring case; every search box goes through here.

    SQLAlchemy's autoescape escapes '%', '_' and the escape character itself and adds the ESCAPE
    clause, the same on SQLite and PostgreSQL.
    """
    return column.icontains(text, autoescape=True)
