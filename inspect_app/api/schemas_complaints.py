"""Requests and answers of the complaints and tasks API (API.md "Next capabilities"), described once."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, WithJsonSchema

from inspect_app.api.schemas import (Body, Id, OptionalUuid, Out, PageOut, PageQuery, Text, _blank_is_none,
                                     one_of)
from inspect_app.checklists.models import Severity, VisitMode
from inspect_app.complaints.models import (CONTACT_MAX_CHARS, REPLY_MAX_CHARS, TEXT_MAX_CHARS, ComplaintSource,
                                           ComplaintStatus)
from inspect_app.parsing import MAX_ID, FieldError, parse_day
from inspect_app.plans.models import TaskStatus

def _day(value):
    try:
        return parse_day(value) if isinstance(value, str) else value
    except FieldError as error:
        raise ValueError(error.message) from None


Day = Annotated[date | None, BeforeValidator(_day), WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]})]
FormId = Annotated[Annotated[int, Field(ge=1, le=MAX_ID)] | None, BeforeValidator(_blank_is_none)]


class ComplaintInput(Body):
    """The school by `school_id` or by `qr` (a poster's token). `idempotency_key`: a UUID the client
    chooses once per complaint; a retry with it is stored once and answers with the same code (200)."""

    school_id: Id | None = None
    qr: Text(64) | None = None
    text: Text(TEXT_MAX_CHARS)
    contact: Text(CONTACT_MAX_CHARS) | None = None
    anonymous: StrictBool = True
    idempotency_key: OptionalUuid = None


class ComplaintForm(BaseModel):
    """The same as multipart/form-data, with the photos as repeated `photo` files."""

    school_id: FormId = None
    qr: Annotated[str, Field(max_length=64)] | None = None
    text: Annotated[str, Field(max_length=TEXT_MAX_CHARS + 200)] = ""
    contact: Annotated[str, Field(max_length=CONTACT_MAX_CHARS + 200)] | None = None
    anonymous: bool = True
    idempotency_key: OptionalUuid = None
    photo: Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "string", "format": "binary"}})] = None


class TriageInput(Body):
    action: Literal["reject", "ticket", "visit"]
    reply: Text(REPLY_MAX_CHARS) | None = Field(None, description="public; required to reject")
    problem: Text(TEXT_MAX_CHARS) | None = Field(None, description="ticket: the problem as the school reads it")
    severity: one_of(Severity) = Field(None, description="ticket: default major")
    assignee_id: Id | None = Field(None, description="visit: an inspector or volunteer")
    window_start: Day = Field(None, description="visit: first day (YYYY-MM-DD)")
    window_end: Day = Field(None, description="visit: last day (YYYY-MM-DD)")
    item_code: Text(32) | None = Field(None, description="ticket: the on-site checklist item it concerns; a "
                                                       "recent pass of it there opens a review (一案双查)")


class ComplaintQuery(PageQuery):
    status: one_of(ComplaintStatus) = None
    school_id: Annotated[int, Field(ge=1, le=MAX_ID)] = None


# Answers

class ComplaintReceipt(Out):
    tracking_code: str | None = Field(description="null only for a replay after the server's key changed")
    status: one_of(ComplaintStatus)


class PublicReply(Out):
    text: str
    at: str = Field(description="the day (YYYY-MM-DD)")


class PublicComplaint(Out):
    status: one_of(ComplaintStatus)
    received_at: str = Field(description="the day (YYYY-MM-DD)")
    replies: list[PublicReply]


class StaffReply(Out):
    text: str
    at: str
    author: str | None


class Complaint(Out):
    id: int
    status: one_of(ComplaintStatus)
    school_id: int
    text: str
    source: one_of(ComplaintSource)
    anonymous: bool
    received_at: str
    triaged_at: str | None
    closed_at: str | None
    ticket_id: int | None
    photo_ids: list[str]
    replies: list[StaffReply]
    duplicate_of_group: list[int] = Field(description="ids of likely duplicates listed with it")
    contact: str | None = Field(None, description="inspectors and leaders only")


class ComplaintList(PageOut):
    complaints: list[Complaint]


class Task(Out):
    id: int
    school_id: int | None = Field(description="null before the morning of a plan's task's day (TASK_REVEAL_TIME)")
    reveal_at: str | None = Field(None, description="when a hidden school will be shown")
    mode: one_of(VisitMode)
    window_start: str
    window_end: str
    status: one_of(TaskStatus)


class TaskQuery(PageQuery):
    pass


class TaskList(PageOut):
    tasks: list[Task]


