"""The daily report's requests and answers (API.md, "Next capabilities"): PUT /self-reports/<date>
and GET /self-reports?date=. The numbers' bounds are the service's; it checks them again for the pages."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from inspect_app.api.schemas import Body, OptionalUuid, Out, Text
from inspect_app.config import Config
from inspect_app.duties.models import COUNT_MAX

Count = Annotated[StrictInt, Field(ge=0, le=COUNT_MAX)]


class SelfReportInput(Body):
    """The day's report. `zero`: nothing to report (零报告), every number 0 or left out. A body equal
    to the day's latest version stores nothing (a retry); anything else is a new version."""

    zero: StrictBool = False
    absent: Count = Field(0, description="students absent")
    absent_illness: Count = Field(0, description="of them, for illness; at most `absent`")
    fever: Count = Field(0, description="students with fever, absent or found at the morning check")
    isolated: Count = 0
    staff_absent: Count = 0
    note: Text(Config.NOTE_MAX_CHARS) = ""
    client_id: OptionalUuid = Field(None, description="the phone's id for this filing: a replay of it "
                                                      "answers 200, even after a later correction")


class SelfReportCounts(Out):
    absent: int
    absent_illness: int
    fever: int
    isolated: int
    staff_absent: int


class SelfReport(Out):
    """One version of a school's report; +08:00 times."""

    school_id: int
    date: str
    version: int
    zero: bool
    counts: SelfReportCounts
    note: str
    filed_at: str
    deadline: str
    late: bool = Field(description="filed after the day's deadline (recorded, never refused)")
    filed_by: str = Field(None, description="the bureau only")


class DaySchool(Out):
    school_id: int
    school: str
    district: str
    state: Literal["on_time", "late", "pending", "missing"] = Field(
        description="pending: no report yet and the deadline has not passed")
    report: SelfReport | None
    fever_average_7d: float | None = Field(description="the school's own reports of the 7 days before")
    jump: bool = Field(description="fever at least the threshold above that average")


class DistrictTotals(Out):
    district: str
    schools: int
    reported: int
    late: int
    missing: int
    jumps: int
    absent: int
    absent_illness: int
    fever: int
    isolated: int
    staff_absent: int


class SelfReportDay(Out):
    date: str
    deadline: str
    jump_threshold: int
    reports: list[DaySchool] = Field(description="schools that reported")
    missing: list[DaySchool] = Field(description="schools without a report (state pending or missing)")
    districts: list[DistrictTotals]


class SelfReportQuery(BaseModel):
    date: str = Field(None, description="YYYY-MM-DD; today (Asia/Shanghai) when left out")
    district: str = None
