"""The leader's reviews (一案双查): the list, and upholding or dismissing one with a note."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from inspect_app.accounts.access import roles_required
from inspect_app.accounts.models import Role
from inspect_app.extensions import db
from inspect_app.reviews import bp
from inspect_app.reviews.models import Review, ReviewError, ReviewStatus
from inspect_app.reviews.present import review_view


class DecideForm(FlaskForm):
    outcome = HiddenField()
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


def listed(status: ReviewStatus | None, limit: int = 200) -> list[Review]:
    query = sa.select(Review).order_by(Review.status, Review.opened_at.desc()).limit(limit)
    if status is not None:
        query = query.where(Review.status == status)
    return list(db.session.scalars(query))


@bp.get("")
@roles_required(Role.LEADER)
def list_reviews():
    """Open reviews first: each pass, what contradicted it, and the form to decide."""
    reviews = [review_view(r, current_user) for r in listed(None)]
    return render_template("reviews/list.html", reviews=reviews, form=DecideForm(formdata=None))


@bp.post("/<int:review_id>/decide")
@roles_required(Role.LEADER)
def decide(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    form = DecideForm()
    if not form.validate_on_submit() or form.outcome.data not in ("uphold", "dismiss"):
        flash(_("Choose to uphold or dismiss, with a note."), "error")
        return redirect(url_for("reviews.list_reviews"))
    try:
        review.decide(current_user, form.outcome.data == "uphold", form.note.data or "")
    except ReviewError as error:
        if error.status != 422:
            raise
        flash(error.message, "error")
        return redirect(url_for("reviews.list_reviews") + f"#review-{review_id}")
    db.session.commit()
    flash(_("Decision recorded."), "success")
    return redirect(url_for("reviews.list_reviews"))
