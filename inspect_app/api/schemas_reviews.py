"""Answers of the reviews API (API.md "Next capabilities": GET /api/v1/reviews)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from inspect_app.api.schemas import Out, one_of
from inspect_app.reviews.models import ReviewStatus


class ReviewQuery(BaseModel):
    status: one_of(ReviewStatus) = None


class Review(Out):
    id: int
    inspector_id: int
    school_id: int
    item_code: str
    passed_visit_id: str
    contradicted_by: str = Field(description="the later visit that failed the item, or the substantiated "
                                             "complaint about it (its id)")
    contradicted_kind: Literal["visit", "complaint"] = Field(description="what contradicted_by names")
    status: one_of(ReviewStatus)
    opened_at: str
    note: str
    decided_at: str | None


class ReviewList(Out):
    reviews: list[Review]
