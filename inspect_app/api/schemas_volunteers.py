"""Requests and answers of the volunteer programme's API (API.md "Next capabilities"), described once."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field, StrictInt, StrictStr

from inspect_app.api.schemas import Body, Id, Out, Text
from inspect_app.volunteers.services import AGREEMENT_VERSION, MAX_INVITATION_DAYS


class InvitationInput(Body):
    expires_in_days: StrictInt = Field(14, ge=1, le=MAX_INVITATION_DAYS)


class InvitationIssued(Out):
    code: str = Field(description="shown once: only its hash is stored")
    url: str = Field(description="the registration page for this code, on PUBLIC_BASE_URL")
    expires_at: datetime


class VolunteerInput(Body):
    code: Text(64)
    username: Text(64)
    password: Text(256)
    real_name: Text(100) = Field(description="sealed at once; only the programme coordinator can reveal it")
    phone: Text(32)
    child_school_ids: list[Id] = Field(default_factory=list, max_length=20,
                                       description="the schools the volunteer's children attend: never checked by them")
    agreement_version: StrictStr = Field(description=f"the version of the agreement the parent accepted "
                                                     f"(current: {AGREEMENT_VERSION})")


class VolunteerCreated(Out):
    id: int
    username: str
    pseudonym: str
