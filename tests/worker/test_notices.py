"""The worker's notices to the leaders, in their inbox: each says what waits and leads to it."""
from datetime import date

from inspect_app.tickets.models import EventKind, Notification


def test_the_leaders_notices_lead_to_the_report_and_the_complaint_queue(db, world, login_as):
    day = date(2026, 3, 5)
    db.session.add_all([Notification(user_id=world.leader.id, kind=EventKind.REPORT_UNSIGNED, day=day),
                        Notification(user_id=world.leader.id, kind=EventKind.TRIAGE_OVERDUE, day=day)])
    db.session.commit()
    page = login_as("leader").get("/tickets/notifications").get_data(as_text=True)
    assert "今日督查专报待签发" in page and f'href="/reports/daily/{day.isoformat()}"' in page
    assert "投诉逾期未处理" in page and 'href="/complaints/"' in page
