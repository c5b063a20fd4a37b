"""Issue 11: the audit page reads as sentences (what, from what to what, who, when), with the record as
stored behind a toggle, and never a volunteer's real name or phone outside the logged reveal."""
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.tickets.models import Ticket, TicketStatus


def test_a_ticket_status_change_reads_from_label_to_label(login_as, world, make_visit, db):
    visit = make_visit(world.inspector, world.a, fail=("G1",))
    ticket = db.session.get(Ticket, visit.tickets[0])
    ticket.status = TicketStatus.RESPONDED
    db.session.commit()
    before, after = TicketStatus.OPEN.label, TicketStatus.RESPONDED.label
    page = login_as("leader").get("/audit/?type=tickets").get_data(as_text=True)
    assert f"整改单 #{visit.tickets[0]} · 修改" in page
    assert f"状态：{before} → {after}" in page
    assert "<details" in page and "原始记录" in page
    chips = page.split('aria-label="按对象筛选"')[1].split("</nav>")[0]
    assert ">整改单<" in chips and "tickets<" not in chips


def test_a_volunteers_real_name_and_phone_stay_hidden_in_the_sentences_too(login_as, world, app):
    admin = login_as("admin")
    from tests.conftest import form_fields
    data = form_fields(admin.get(f"/accounts/users/{world.volunteer.id}/edit").get_data(as_text=True), action=None)
    data.update(display_name="真名李四", phone="13912345678")
    assert admin.form_post(f"/accounts/users/{world.volunteer.id}/edit", data).status_code == 302
    for who in ("admin", "leader"):
        page = login_as(who).get("/audit/?type=users").get_data(as_text=True)
        assert "真名李四" not in page and "13912345678" not in page
        assert "已隐藏：家长志愿者的个人信息" in page


def test_every_recorded_table_has_a_name_in_the_users_language(app):
    """A new table must not reach the audit page as its English name (a filter chip, a sentence)."""
    from inspect_app.audit.present import object_label, object_noun
    from inspect_app.audit.services import SKIPPED_TABLES
    with app.test_request_context("/"):
        for table in db.metadata.sorted_tables:
            if table.name in SKIPPED_TABLES:
                continue
            assert object_label(table.name) != table.name, f"no label for {table.name}"
            assert object_noun(table.name) != table.name, f"no noun for {table.name}"
