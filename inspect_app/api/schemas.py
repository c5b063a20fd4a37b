"""Every request and answer of /api/v1, described once (docs/architecture.md, "API description").

spectree validates each request against these models before the view runs and builds
/api/v1/openapi.json from them, so the published document and the checks are one text. They describe
shape, types and limits only; who may do what, and what a visit or a ticket may become, stay in the
services. Limits come from `Config` (the environment), the same numbers the services enforce.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr,
                      StringConstraints, ValidationInfo, WithJsonSchema)

from inspect_app.accounts.models import Role
from inspect_app.checklists.models import Severity, VisitMode
from inspect_app.config import Config
from inspect_app.parsing import ACCURACY_RANGE, LAT_RANGE, LON_RANGE, MAX_ID, FieldError, parse_time, parse_uuid
from inspect_app.tickets.models import TicketStatus
from inspect_app.visits.models import Result
from inspect_app.visits.services import Flags, check_count


def one_of(enum, leave_out=()) -> Any:
    """The enum's values as a Literal: strings in, strings out, and an `enum` in the document."""
    return Literal[tuple(member.value for member in enum if member not in leave_out)]


def _field(info: ValidationInfo) -> str:
    return info.field_name or "value"


def _time(value, info: ValidationInfo) -> datetime | None:
    """parse_time's rules (an offset, the years 2000-2099); null and "" mean none."""
    try:
        return parse_time(value)
    except FieldError as error:
        raise ValueError(error.message) from None


def _required_time(value, info: ValidationInfo) -> datetime:
    moment = _time(value, info)
    if moment is None:
        raise ValueError(_("%(where)s is required.", where=_field(info)))
    return moment


def _uuid(value, info: ValidationInfo) -> str | None:
    try:
        return parse_uuid(value) if isinstance(value, str) else value
    except FieldError as error:
        raise ValueError(error.message) from None


def _required_uuid(value, info: ValidationInfo) -> str:
    if value in ("", None):
        raise ValueError(_("%(where)s is required.", where=_field(info)))
    return _uuid(value, info)


def _blank_is_none(value):
    return None if value == "" else value


def _not_a_bool(value):
    # JSON true is not the number 1.
    if isinstance(value, bool):
        raise ValueError(_("This must be a number."))
    return value


def _counted(check):
    def before(value):
        if isinstance(value, list):
            check(len(value))  # the service's limit and message (413) before anything else is read
        return value
    return BeforeValidator(before)


def _visit_count(what: str):
    return _counted(lambda n: check_count(what, n))


def _step_photo_count(n: int) -> None:
    from inspect_app.tickets.services import check_photo_count
    check_photo_count(n)


TIME = {"type": "string", "format": "date-time"}
# Ids are 32-bit INTEGER columns: anything else is refused before it reaches the database.
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Time = Annotated[datetime, BeforeValidator(_required_time), WithJsonSchema(TIME)]
OptionalTime = Annotated[datetime | None, BeforeValidator(_time), WithJsonSchema(
    {"anyOf": [TIME, {"type": "string", "maxLength": 0}, {"type": "null"}], "description": "null or \"\": none"})]
Uuid = Annotated[StrictStr, BeforeValidator(_required_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]
OptionalUuid = Annotated[StrictStr | None, BeforeValidator(_uuid), WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "string", "maxLength": 0}, {"type": "null"}],
     "description": "a UUID; null or \"\": none"})]


def Text(limit: int) -> Any:  # noqa: N802 - a type, like the others here
    """Text stripped of surrounding space, then refused (never cut) past `limit` characters."""
    return Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=limit)]


def Number(low: float, high: float) -> Any:  # noqa: N802
    # Lax: the phone's form fields and older clients send "31.9"; NaN and infinities are no place.
    return Annotated[float, BeforeValidator(_not_a_bool), Field(ge=low, le=high, strict=False, allow_inf_nan=False)]


class Body(BaseModel):
    """A JSON body. Unknown fields are refused: a misspelt "submited_at" must not pass unnoticed."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    """What the API answers: no field goes out that is not described here (see below)."""

    model_config = ConfigDict(extra="forbid")


# Requests

class TokenRequest(Body):
    username: StrictStr
    password: StrictStr


class Location(Body):
    lat: Number(*LAT_RANGE)
    lon: Number(*LON_RANGE)
    accuracy_m: Number(*ACCURACY_RANGE) | None = None


class AnswerInput(Body):
    code: StrictStr
    result: one_of(Result)
    note: Text(Config.NOTE_MAX_CHARS) | None = None


class FindingInput(Body):
    id: Uuid = Field(description="chosen by the phone; its photos name it")
    code: StrictStr | None = Field(None, description="the failed item's code; null for a free finding")
    description: Text(Config.DESCRIPTION_MAX_CHARS) | None = None
    severity: one_of(Severity) = Field(None, description="left out: the item's own")
    fixed_on_site: StrictBool = False
    location: Location | None = None
    captured_at: OptionalTime = None


PhotoIds = Annotated[list[StrictStr], _counted(_step_photo_count), Field(max_length=Config.TICKET_STEP_MAX_PHOTOS)]


class TicketResultInput(Body):
    """A follow-up visit's (回头看) verdict on one of the school's tickets, applied at submission."""

    ticket_id: Id
    outcome: Literal["close", "reopen"]
    note: Text(Config.DESCRIPTION_MAX_CHARS) | None = None
    photo_ids: PhotoIds = Field([], description="closing needs at least one, uploaded before the visit")
    new_deadline: OptionalTime = Field(None, description="reopening needs one in the future")
    override_reason: Text(500) | None = Field(None, description="a leader verifying their own finding says why")


class VisitInput(Body):
    """A whole visit; 201 when created, 200 for an identical replay or a replaced draft."""

    school_id: Id
    version_id: Id
    mode: one_of(VisitMode)
    started_at: Time
    submitted_at: OptionalTime = None
    qr_token: Text(64) | None = None
    corrects: OptionalUuid = Field(None, description="a submitted visit of yours this one corrects")
    location: Location | None = None
    answers: Annotated[list[AnswerInput], _visit_count("answers"),
                       Field(max_length=Config.VISIT_MAX_ANSWERS)] = []
    findings: Annotated[list[FindingInput], _visit_count("findings"),
                        Field(max_length=Config.VISIT_MAX_FINDINGS)] = []
    ticket_results: Annotated[list[TicketResultInput], _visit_count("findings"),
                              Field(max_length=Config.VISIT_MAX_FINDINGS)] = Field(
        [], description="follow_up only: each of the school's tickets closed or sent back on site")


class TicketResponseInput(Body):
    text: Text(Config.DESCRIPTION_MAX_CHARS)
    photo_ids: PhotoIds = []


class VerificationInput(Body):
    outcome: Literal["close", "reopen"]
    note: Text(Config.DESCRIPTION_MAX_CHARS) | None = None
    photo_ids: PhotoIds = Field([], description="closing needs at least one")
    new_deadline: OptionalTime = Field(None, description="reopening needs one in the future")
    override_reason: Text(500) | None = Field(None, description="a leader verifying their own finding says why "
                                                                  "(REQUIRE_INDEPENDENT_VERIFIER)")


def FormNumber(low: float, high: float) -> Any:  # noqa: N802
    return Annotated[Annotated[float, Field(ge=low, le=high, allow_inf_nan=False)] | None,
                     BeforeValidator(_blank_is_none)]


class PhotoForm(BaseModel):
    """multipart/form-data; empty fields mean none (an upload keeps the form's other fields)."""

    file: Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})]
    captured_at: OptionalTime = None
    lat: FormNumber(*LAT_RANGE) = None
    lon: FormNumber(*LON_RANGE) = None
    accuracy_m: FormNumber(*ACCURACY_RANGE) = None
    finding_id: OptionalUuid = Field(None, description="the finding it shows; left out for ticket evidence")


# Query parameters are left out, never null: a default of None is how "absent" reads here.
# Pages of the lists (api/paging.py).
MAX_PAGE = 500


class PageQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description=f"rows per page, at most {MAX_PAGE}")] = MAX_PAGE
    cursor: Annotated[str, Field(max_length=200, description="`next_cursor` of the page before")] = None


class PageOut(Out):
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page; null on the last")
    next: str | None = Field(None, description="the next page's address; null on the last")


class TicketQuery(PageQuery):
    status: one_of(TicketStatus) = None


class ChecklistQuery(BaseModel):
    mode: one_of(VisitMode)
    school_id: Annotated[int, Field(ge=1, le=MAX_ID)] = None


class LookupQuery(BaseModel):
    qr: str = Field(description="the token from the poster's QR code")


# Answers: extra fields are refused in tests (response validation is on under TESTING), so a field a
# view adds without describing it here fails the suite instead of reaching clients undocumented.

class ErrorDetail(Out):
    code: str
    message: str = Field(description="for people, in the request's language")


class Error(Out):
    error: ErrorDetail


class Token(Out):
    token: str
    token_type: Literal["Bearer"]
    expires_in: int


class CsrfToken(Out):
    token: str


class Me(Out):
    id: int
    username: str
    role: one_of(Role)
    display_name: str
    school_id: int | None


class School(Out):
    id: int
    name: str
    district: str
    kind: str
    lat: float
    lon: float
    radius_m: int
    qr_url: str = Field(None, description="admins only")


class SchoolList(Out):
    schools: list[School]


class ChecklistItem(Out):
    code: str
    section: str
    text: str
    guidance: str
    severity: one_of(Severity)
    photo_required: bool
    deadline_hours: int | None


class Checklist(Out):
    id: int
    code: str
    name: str
    version_id: int
    version: int
    items: list[ChecklistItem]


class ChecklistList(Out):
    checklists: list[Checklist]


class Place(Out):
    lat: float
    lon: float
    accuracy_m: float | None


class ExifData(Out):
    time: str | None
    lat: float | None
    lon: float | None


class Photo(Out):
    """A school sees id, url and thumb_url only; the uploader and the bureau also the metadata."""

    id: str
    url: str
    thumb_url: str
    captured_at: str | None = None
    sha256: str = None
    flags: list[str] = None
    location: Place | None = None
    exif: ExifData = None


class UploadedPhoto(Photo):
    finding_id: str | None = Field(description="null for ticket evidence")


class AnswerOutput(Out):
    code: str
    result: one_of(Result)
    note: str


class FindingOutput(Out):
    """The school's view has no id, code, place or time, but the requirement the finding failed."""

    id: str = None
    code: str | None = None
    requirement: str | None = None
    description: str
    severity: one_of(Severity)
    fixed_on_site: bool
    photos: list[Photo]
    location: Place | None = None
    captured_at: str | None = None


class Visit(Out):
    """The bureau and the author see everything; a school sees id, school_id, status, source, date
    (Asia/Shanghai) and its findings, without ids, codes, times or flags."""

    id: str
    school_id: int
    status: Literal["in_progress", "submitted"]
    findings: list[FindingOutput]
    answers: list[AnswerOutput] = None
    mode: one_of(VisitMode) = None
    version_id: int = None
    template: str = None
    author_id: int = None
    started_at: str | None = None
    submitted_at: str | None = None
    server_started_at: str | None = None
    server_submitted_at: str | None = None
    corrects: str | None = None
    location: Place | None = None
    flags: Flags = Field(None, description="bureau and author only")  # the dataclass the view sends
    source: Literal["inspection_group"] = Field(None, description="the school's view")
    date: str | None = Field(None, description="the school's view: the day it reached us, Asia/Shanghai")


class Presence(Out):
    visit_id: str
    distance_m: float | None
    accuracy_m: float | None
    clock_skew_s: float | None
    qr_scanned: bool


class TicketEvent(Out):
    kind: str
    text: str
    photos: list[Photo]
    actor: str | None
    at: str | None = Field(None, description="the bureau, or the school's own steps")
    date: str | None = Field(None, description="the school's view of the bureau's steps (Asia/Shanghai)")
    self_verified: bool = Field(None, description="the bureau only")
    override_reason: str | None = Field(None, description="the bureau only: why a leader verified their own finding")
    presence: Presence | None = Field(None, description="the bureau only: the follow-up visit a verification was "
                                                        "made on, and its proof of presence")
    desk_review: bool = Field(False, description="closed out from the desk on the school's documents, without a "
                                                 "follow-up visit (only a document-evidenced problem may be)")


class Ticket(Out):
    id: int
    status: one_of(TicketStatus)
    school_id: int
    severity: one_of(Severity)
    deadline: str = Field(description="+08:00; rounded (TICKET_DEADLINE_ROUNDING)")
    overdue: bool
    description: str
    escalation_level: int
    visit_id: str | None = Field(None, description="the bureau only; null for a problem handed over from a complaint")
    finding_id: str | None = Field(None, description="the bureau only; null for a problem handed over from a complaint")
    record: list[TicketEvent] = Field(None, description="one ticket's written record")


class TicketList(PageOut):
    tickets: list[Ticket]


class Signature(Out):
    by: str
    at: str
    content_hash: str


class Window(Out):
    start: str
    end: str


class DailyReport(Out):
    """The report's sections as the PDF shows them; `signed` is null until a leader signs."""

    day: str
    window: Window
    overview: dict[str, Any]
    problems_by_school: list[dict[str, Any]]
    rectification: dict[str, int]
    overdue: list[dict[str, Any]]
    good_practice: list[dict[str, Any]]
    self_reports: dict[str, Any] = Field(None, description="the schools' daily reports of the day; "
                                                           "absent from reports signed before it existed")
    # Sections added after the first reports were signed: a report signed before them lacks them.
    visited: list[dict[str, Any]] = Field(None, description="the schools visited in the window")
    due: list[dict[str, Any]] = Field(None, description="tickets due before the next cut-off")
    not_covered: dict[str, Any] = Field(None, description="schools no inspector checked in the days before")
    complaints: dict[str, int] = Field(None, description="received, triaged, resolved in the window; untriaged "
                                       "past two working days at its end (reports signed before complaints had none)")
    plans: dict[str, int] = Field(None, description="planners only: sealed plans' tasks as of the cut-off "
                                                     "(done, late, missed, pending); counts, never schools")
    audit_anchor: str = Field(None, description="signed reports: the audit chain's head at signing")
    bureau: str = Field(None, description="signed reports: the issuing bureau (letterhead) at signing")
    number: str = Field(None, description="signed reports: the year and the report's number in it")
    signed: Signature | None
