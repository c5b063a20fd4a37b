"""Visits, findings and tickets as CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX, filtered."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from inspect_app.accounts.models import User
from inspect_app.checklists.models import ChecklistItem
from inspect_app.documents import csv_row, xlsx_append
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.parsing import in_url, parse_day
from inspect_app.schools.models import School
from inspect_app.tickets.models import Ticket, TicketStatus
from inspect_app.visits.models import Finding, Visit, VisitStatus

KINDS = ("visits", "findings", "tickets")


class Filters:
    """district, from, to (local dates, inclusive) and, for tickets, status — all optional."""

    def __init__(self, args):
        self.district = (args.get("district") or "").strip()[:64] or None
        self.start = self._date(args.get("from"))
        self.end = self._date(args.get("to"))
        self.status = args.get("status") if args.get("status") in set(TicketStatus) else None

    @staticmethod
    def _date(value):
        # A malformed query string, not a refused value: 400 as for any other bad URL.
        return in_url(parse_day, value, 400)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        tz = local_zone()
        start = datetime.combine(self.start, time(0), tzinfo=tz) if self.start else None
        end = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz) if self.end else None
        return start, end


    def refusal(self) -> str | None:
        """Why the range cannot be exported (shown under the "to" field), or None."""
        if self.start and self.end and self.end < self.start:
            return _("The end date is before the start date.")
        return None

    def chosen(self) -> bool:
        """Whether anything narrows the export (an unfiltered one is the whole table, even if empty)."""
        return bool(self.district or self.start or self.end or self.status)



def _local(moment: datetime | None):
    """A real date and time in the bureau's zone (a spreadsheet sorts and filters it as a date);
    naive, because a spreadsheet cell has no zone."""
    if moment is None:
        return ""
    return moment.astimezone(local_zone()).replace(tzinfo=None, second=0, microsecond=0)


def _select(kind: str, filters: Filters) -> tuple[sa.Select, list[str]]:
    """The records of one kind that the filters let through, and the header row that names them."""
    start, end = filters.bounds()
    if kind == "visits":
        query = (sa.select(Visit, School.name, School.district).join(School, School.id == Visit.school_id)
                 .where(Visit.status == VisitStatus.SUBMITTED).order_by(Visit.server_submitted_at))
        moment = Visit.server_submitted_at
        header = [_("School"), _("District"), _("Kind of visit"), _("Checked by"), _("Submitted"),
                  _("Distance (m)"), _("On site"), _("Visit number")]
    elif kind == "findings":
        query = (sa.select(Finding, Visit, School.name, School.district).join(Visit, Visit.id == Finding.visit_id)
                 .join(School, School.id == Visit.school_id).where(Visit.status == VisitStatus.SUBMITTED)
                 .order_by(Visit.server_submitted_at, Finding.position))
        moment = Visit.server_submitted_at
        header = [_("School"), _("District"), _("Item"), _("Problem"), _("Severity"),
                  _("Fixed on the spot"), _("Submitted"), _("Item code"), _("Visit number")]
    else:
        query = (sa.select(Ticket, sa.func.coalesce(Finding.description, Ticket.problem_text), School.name,
                           School.district)
                 .outerjoin(Finding, Finding.id == Ticket.finding_id).join(School, School.id == Ticket.school_id)
                 .order_by(Ticket.opened_at))
        moment = Ticket.opened_at
        if filters.status:
            query = query.where(Ticket.status == filters.status)
        header = [_("Ticket"), _("School"), _("District"), _("Problem"), _("Severity"), _("State"),
                  _("Opened"), _("Deadline"), _("Closed"), _("Escalation step")]
    if filters.district:
        query = query.where(School.district == filters.district)
    if start:
        query = query.where(moment >= start)
    if end:
        query = query.where(moment < end)
    return query, header


def nothing_matches(kind: str, filters: Filters) -> bool:
    """Filters were chosen and let no record through: an empty file is no answer to "what did we find
    in 南闸街道 last week", a sentence on the export page is. An unfiltered export is the whole table
    (its header row for machines, even while empty). Asked before the download starts: the rows are
    read later, while the answer streams."""
    if not filters.chosen():
        return False
    query, _header = _select(kind, filters)
    return not db.session.scalar(sa.select(query.order_by(None).exists()))


def rows(kind: str, filters: Filters, viewer: User) -> Iterator[list]:
    """A header row, then one row per record, streamed from the database in batches."""
    query, header = _select(kind, filters)
    yield header
    authors: dict[int, str] = {}

    def author(visit: Visit) -> str:
        if visit.author_id not in authors:
            authors[visit.author_id] = db.session.get(User, visit.author_id).name_for(viewer)
        return authors[visit.author_id]

    items: dict[tuple[int, str], str] = {}

    def item(visit: Visit, code: str | None) -> str:
        """The item as the checklist reads ("3. 门卫测温登记"): people do not know the items by code."""
        if not code:
            return ""
        if (visit.version_id, code) not in items:
            found = db.session.scalar(sa.select(ChecklistItem).where(ChecklistItem.version_id == visit.version_id,
                                                                    ChecklistItem.code == code))
            items[visit.version_id, code] = f"{found.position}. {found.text}" if found else code
        return items[visit.version_id, code]

    result = db.session.execute(query.execution_options(yield_per=2000))
    try:
        for row in result:
            if kind == "visits":
                visit, school, district = row
                yield [school, district, visit.mode.label, author(visit), _local(visit.server_submitted_at),
                       visit.distance_m if visit.distance_m is not None else "",
                       "" if visit.on_site is None else (_("yes") if visit.on_site else _("no")), visit.id]
            elif kind == "findings":
                finding, visit, school, district = row
                yield [school, district, item(visit, finding.item_code), finding.description,
                       finding.severity.label, _("yes") if finding.fixed_on_site else "",
                       _local(visit.server_submitted_at), finding.item_code or "", visit.id]
            else:
                ticket, description, school, district = row
                yield [ticket.id, school, district, description, ticket.severity.label, ticket.status.label,
                       _local(ticket.opened_at), _local(ticket.deadline), _local(ticket.closed_at),
                       ticket.escalation_level]
    finally:
        result.close()


def csv_stream(table: Iterator[list]) -> Iterator[str]:
    yield "\ufeff"  # Excel opens UTF-8 CSV as Chinese only with the byte-order mark
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for n, row in enumerate(table):
        writer.writerow(csv_row([v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v for v in row]))
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _width(title: str) -> float:
    """A column wide enough for its header and typical values: CJK characters count double."""
    return max(10.0, sum(2 if ord(c) > 0x2E80 else 1 for c in title) + 2)


# Columns whose values are longer than their header: the school, the item and the problem, the
# date and time, the 36-character record numbers.
WIDE = {"School": 24, "Item": 36, "Problem": 48, "Submitted": 17, "Opened": 17, "Deadline": 17, "Closed": 17,
        "Visit number": 38}


def xlsx_bytes(table: Iterator[list], title: str) -> bytes:
    """Streamed rows (write-only workbook) under a frozen header, with column widths set and the
    dates as date cells in the bureau's zone."""
    from openpyxl import Workbook  # imported when asked for (inspect_app/documents.py says why)
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.dimensions import ColumnDimension
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    header = next(table)
    keys = _header_keys()
    for n, name in enumerate(header, start=1):
        letter = get_column_letter(n)
        sheet.column_dimensions[letter] = ColumnDimension(sheet, index=letter,
                                                          width=WIDE.get(keys.get(name), _width(name)))
    xlsx_append(sheet, header)
    for row in table:
        cells = []
        for value in row:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                cells.append(cell)
            else:
                cells.append(value)
        xlsx_append(sheet, cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header_keys() -> dict[str, str]:
    """The header as shown (in the reader's language) back to the width table's keys."""
    return {_(key): key for key in WIDE}
