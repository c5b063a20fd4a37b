"""Every route × every role (and signed out): who gets in, who is sent away, who never learns it exists.

test_every_route_is_in_the_matrix makes a new route fail the suite until its row is written here.
"""
import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.complaints.models import Complaint
from inspect_app.extensions import db
from tests.conftest import Browser, Factories

ROLES = ["anon", "admin", "leader", "inspector", "volunteer", "officer", "officer_b"]
SIGNIN = "signin"  # 302 to the sign-in page


def row(anon, admin, leader, inspector, volunteer, officer, officer_b):
    return dict(zip(ROLES, [anon, admin, leader, inspector, volunteer, officer, officer_b]))


# (endpoint, method, url template, expected status per role). {a}/{b}: the schools' ids,
# {ta}: school A's QR token, {u}: an ordinary inspector's id, {d}: a disabled user's id.
MATRIX = [
    ("core.home", "GET", "/", row(SIGNIN, 200, 302, 200, 200, 302, 302)),
    ("core.manifest", "GET", "/manifest.webmanifest", row(200, 200, 200, 200, 200, 200, 200)),
    ("core.service_worker", "GET", "/sw.js", row(200, 200, 200, 200, 200, 200, 200)),
    ("reports.show_dashboard", "GET", "/reports/", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("reports.latest_report", "GET", "/reports/daily/", row(SIGNIN, 302, 302, 302, 403, 403, 403)),
    ("reports.show_report", "GET", "/reports/daily/2026-01-05", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("reports.report_history", "GET", "/reports/daily/history", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("reports.sign_report", "POST", "/reports/daily/2026-01-05/sign", row(SIGNIN, 403, 302, 403, 403, 403, 403)),
    # The day's circular: a school reads its own excerpt once one is sent (none here: 404); only a
    # leader sends, and only a signed report (this one is not: 409).
    ("reports.show_circular", "GET", "/reports/daily/2026-01-05/circular", row(SIGNIN, 200, 200, 200, 403, 404, 404)),
    ("reports.circulate_report", "POST", "/reports/daily/2026-01-05/circular",
     row(SIGNIN, 403, 409, 403, 403, 403, 403)),
    ("reports.report_pdf", "GET", "/reports/daily/2026-01-05.pdf", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("reports.report_xlsx", "GET", "/reports/daily/2026-01-05.xlsx", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("api.daily_report", "GET", "/api/v1/reports/daily/2026-01-05", row(401, 200, 200, 200, 403, 403, 403)),
    ("reports.show_exports", "GET", "/reports/exports/", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("reports.export_table", "GET", "/reports/exports/tickets.csv", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("reports.show_map", "GET", "/reports/map", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("reports.map_data", "GET", "/reports/map.json", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("audit.list_entries", "GET", "/audit/", row(SIGNIN, 200, 200, 403, 403, 403, 403)),
    ("core.scan", "GET", "/scan", row(200, 200, 200, 200, 200, 200, 200)),
    ("core.offline", "GET", "/offline", row(200, 200, 200, 200, 200, 200, 200)),
    ("api.renew_csrf", "GET", "/api/v1/csrf", row(401, 200, 200, 200, 200, 200, 200)),
    ("core.favicon", "GET", "/favicon.ico", row(301, 301, 301, 301, 301, 301, 301)),
    ("core.healthz", "GET", "/healthz", row(200, 200, 200, 200, 200, 200, 200)),
    ("core.set_language", "POST", "/language", row(302, 302, 302, 302, 302, 302, 302)),
    ("accounts.sign_in", "GET", "/accounts/sign-in", row(200, 302, 302, 302, 302, 302, 302)),
    ("accounts.sign_in", "POST", "/accounts/sign-in", row(422, 302, 302, 302, 302, 302, 302)),
    ("accounts.sign_out", "POST", "/accounts/sign-out", row(SIGNIN, 302, 302, 302, 302, 302, 302)),
    ("accounts.list_users", "GET", "/accounts/users", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("accounts.create_user", "GET", "/accounts/users/new", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("accounts.create_user", "POST", "/accounts/users/new", row(SIGNIN, 422, 403, 403, 403, 403, 403)),
    ("accounts.reveal_identity", "GET", "/accounts/users/{vo}/reveal", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("accounts.reveal_identity", "POST", "/accounts/users/{vo}/reveal", row(SIGNIN, 422, 403, 403, 403, 403, 403)),
    ("accounts.disable_user", "POST", "/accounts/users/{u}/disable",
     row(SIGNIN, 302, 403, 403, 403, 403, 403)),
    ("accounts.clear_signin_failures", "POST", "/accounts/users/{u}/clear-sign-in-failures",
     row(SIGNIN, 302, 403, 403, 403, 403, 403)),
    ("accounts.enable_user", "POST", "/accounts/users/{d}/enable",
     row(SIGNIN, 302, 403, 403, 403, 403, 403)),
    ("accounts.edit_user", "GET", "/accounts/users/{u}/edit", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("accounts.edit_user", "POST", "/accounts/users/{u}/edit", row(SIGNIN, 422, 403, 403, 403, 403, 403)),
    ("accounts.reset_user_password", "POST", "/accounts/users/{u}/reset-password",
     row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("accounts.change_password", "GET", "/accounts/password", row(SIGNIN, 200, 200, 200, 200, 200, 200)),
    ("accounts.change_password", "POST", "/accounts/password", row(SIGNIN, 422, 422, 422, 422, 422, 422)),
    # One's own account: everyone's contact for notices; a volunteer's phone is sealed (403 to change it).
    ("accounts.show_account", "GET", "/accounts/me", row(SIGNIN, 200, 200, 200, 200, 200, 200)),
    ("accounts.show_account", "POST", "/accounts/me", row(SIGNIN, 302, 302, 302, 403, 302, 302)),
    ("schools.scan_landing", "GET", "/s/{ta}", row(200, 200, 200, 200, 200, 200, 403)),
    ("schools.list_schools", "GET", "/schools/", row(SIGNIN, 200, 200, 200, 200, 200, 200)),
    ("schools.show_school", "GET", "/schools/{a}", row(SIGNIN, 200, 200, 200, 200, 200, 404)),
    ("schools.show_school", "GET", "/schools/{b}", row(SIGNIN, 200, 200, 200, 404, 404, 200)),
    ("schools.import_school_file", "GET", "/schools/import", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("schools.import_school_file", "POST", "/schools/import",
     row(SIGNIN, 422, 403, 403, 403, 403, 403)),
    ("schools.import_template", "GET", "/schools/import/template.csv", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("schools.show_poster", "GET", "/schools/{a}/poster", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("schools.show_all_posters", "GET", "/schools/posters", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("schools.update_assignments", "POST", "/schools/{a}/assignments", row(SIGNIN, 302, 403, 403, 403, 403, 403)),
    ("schools.rotate_qr", "POST", "/schools/{a}/rotate-qr", row(SIGNIN, 302, 403, 403, 403, 403, 403)),
    ("assets.serve_asset", "GET", "/static/css/app.css", row(200, 200, 200, 200, 200, 200, 200)),
    ("api.issue_token", "POST", "/api/v1/auth/token", row(400, 400, 400, 400, 400, 400, 400)),
    ("api.revoke_token", "DELETE", "/api/v1/auth/token", row(401, 400, 400, 400, 400, 400, 400)),
    ("api.show_me", "GET", "/api/v1/me", row(401, 200, 200, 200, 200, 200, 200)),
    ("api.list_schools", "GET", "/api/v1/schools", row(401, 200, 200, 200, 200, 200, 200)),
    ("api.lookup_school", "GET", "/api/v1/schools/lookup?qr={ta}", row(401, 200, 200, 200, 200, 200, 403)),
    ("api.openapi", "GET", "/api/v1/openapi.json", row(200, 200, 200, 200, 200, 200, 200)),
    # Checklists: admins only. {t}: a template id.
    ("checklists.list_templates", "GET", "/checklists/", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("checklists.edit_template", "GET", "/checklists/{t}/edit", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("checklists.edit_template", "POST", "/checklists/{t}/edit", row(SIGNIN, 422, 403, 403, 403, 403, 403)),
    # Visits. {v}: the inspector's visit at A in progress; {vs}: submitted; {f}: its finding;
    # {p}: the photo on the submitted visit's finding.
    ("visits.start_visit", "POST", "/visits/start", row(SIGNIN, 400, 400, 400, 400, 400, 400)),
    # A volunteer may visit openly (明查), with the parents' checklist ({tp}) only, never the inspectors'.
    ("visits.new_visit", "GET", "/visits/new?school_id={a}&mode=overt&template_id={t}",
     row(SIGNIN, 403, 200, 200, 422, 403, 403)),
    ("visits.new_visit", "GET", "/visits/new?school_id={a}&mode=overt&template_id={tp}",
     row(SIGNIN, 403, 422, 422, 200, 403, 403)),
    ("visits.offline_pack", "GET", "/visits/pack/{a}", row(SIGNIN, 404, 200, 200, 200, 200, 404)),
    ("visits.list_my_visits", "GET", "/visits/", row(SIGNIN, 200, 200, 200, 200, 200, 200)),
    ("visits.show_visit", "GET", "/visits/{v}", row(SIGNIN, 200, 200, 200, 404, 404, 404)),
    ("visits.show_visit", "GET", "/visits/{vs}", row(SIGNIN, 200, 200, 200, 404, 200, 404)),
    ("visits.answer_item", "POST", "/visits/{v}/items/G2", row(SIGNIN, 403, 403, 400, 404, 404, 404)),
    ("visits.answer_item", "POST", "/visits/{vs}/items/G2", row(SIGNIN, 403, 403, 409, 404, 403, 404)),
    ("visits.add_finding", "POST", "/visits/{v}/findings", row(SIGNIN, 403, 403, 302, 404, 404, 404)),
    ("visits.update_finding", "POST", "/visits/{v}/findings/{f}", row(SIGNIN, 403, 403, 422, 404, 404, 404)),
    ("visits.add_photo", "POST", "/visits/{v}/findings/{f}/photos", row(SIGNIN, 403, 403, 422, 404, 404, 404)),
    ("visits.submit_visit", "POST", "/visits/{v}/submit", row(SIGNIN, 403, 403, 422, 404, 404, 404)),
    ("visits.discard_visit", "POST", "/visits/{v}/discard", row(SIGNIN, 403, 403, 302, 404, 404, 404)),
    ("visits.discard_visit", "POST", "/visits/{vs}/discard", row(SIGNIN, 403, 403, 409, 404, 403, 404)),
    ("photos.serve_photo", "GET", "/photos/{p}/thumb", row(SIGNIN, 200, 200, 200, 404, 200, 404)),
    ("photos.serve_photo", "GET", "/photos/{p}/original", row(SIGNIN, 200, 200, 200, 404, 404, 404)),
    ("api.list_checklists", "GET", "/api/v1/checklists?mode=overt", row(401, 200, 200, 200, 200, 200, 200)),
    ("api.put_visit", "PUT", "/api/v1/visits/{new}", row(401, 400, 400, 400, 400, 400, 400)),
    ("api.show_visit", "GET", "/api/v1/visits/{v}", row(401, 200, 200, 200, 404, 404, 404)),
    ("api.show_visit", "GET", "/api/v1/visits/{vs}", row(401, 200, 200, 200, 404, 200, 404)),
    ("api.put_photo", "PUT", "/api/v1/photos/{new}", row(401, 400, 400, 400, 400, 400, 400)),
    # Tickets. {tk}: the ticket opened at school A by the submitted visit.
    ("tickets.list_tickets", "GET", "/tickets/", row(SIGNIN, 200, 200, 200, 200, 200, 200)),
    ("tickets.follow_up_queue", "GET", "/tickets/follow-up", row(SIGNIN, 403, 200, 200, 403, 403, 403)),
    ("tickets.show_ticket", "GET", "/tickets/{tk}", row(SIGNIN, 200, 200, 200, 404, 200, 404)),
    ("tickets.respond", "POST", "/tickets/{tk}/respond", row(SIGNIN, 403, 403, 403, 403, 422, 404)),
    ("tickets.verify", "POST", "/tickets/{tk}/verify", row(SIGNIN, 403, 422, 422, 403, 403, 403)),
    # Hand-over sheets. {ho}: the sheet of the submitted visit at A (issuing it again answers with it).
    ("tickets.issue_hand_over", "POST", "/tickets/hand-overs/visit/{vs}", row(SIGNIN, 403, 302, 302, 403, 403, 403)),
    ("tickets.show_hand_over", "GET", "/tickets/hand-overs/{ho}", row(SIGNIN, 200, 200, 200, 404, 200, 404)),
    ("tickets.hand_over_pdf", "GET", "/tickets/hand-overs/{ho}.pdf", row(SIGNIN, 200, 200, 200, 404, 200, 404)),
    ("tickets.hand_over_feedback_pdf", "GET", "/tickets/hand-overs/{ho}/feedback.pdf",
     row(SIGNIN, 200, 200, 200, 404, 200, 404)),
    ("tickets.acknowledge_hand_over", "POST", "/tickets/hand-overs/{ho}/acknowledge",
     row(SIGNIN, 403, 403, 403, 404, 302, 404)),
    ("tickets.list_notifications", "GET", "/tickets/notifications", row(SIGNIN, 200, 200, 200, 200, 200, 200)),
    ("tickets.mark_notifications_read", "POST", "/tickets/notifications/read",
     row(SIGNIN, 302, 302, 302, 302, 302, 302)),
    # The schools' daily report: a school files its own, only the bureau sees every school's.
    ("duties.show_report", "GET", "/duties/", row(SIGNIN, 403, 403, 403, 403, 200, 200)),
    ("duties.file_report", "POST", "/duties/", row(SIGNIN, 403, 403, 403, 403, 422, 422)),
    ("duties.file_zero", "POST", "/duties/zero", row(SIGNIN, 403, 403, 403, 403, 302, 302)),
    ("duties.show_day", "GET", "/duties/day", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("api.put_self_report", "PUT", "/api/v1/self-reports/2026-01-05", row(401, 400, 400, 400, 400, 400, 400)),
    ("api.list_self_reports", "GET", "/api/v1/self-reports", row(401, 200, 200, 200, 403, 403, 403)),
    ("api.list_tickets", "GET", "/api/v1/tickets", row(401, 200, 200, 200, 200, 200, 200)),
    ("api.show_ticket", "GET", "/api/v1/tickets/{tk}", row(401, 200, 200, 200, 404, 200, 404)),
    ("api.put_response", "PUT", "/api/v1/tickets/{tk}/responses/{new}", row(401, 400, 400, 400, 404, 400, 404)),
    ("api.put_verification", "PUT", "/api/v1/tickets/{tk}/verifications/{new}",
     row(401, 400, 400, 400, 404, 400, 404)),
    # Complaints. {cc}: a complaint's tracking code, {ci}: its id. The public pages are everyone's;
    # the queue is the bureau's, triage and logging its inspectors' and leaders'.
    ("complaints.new_complaint", "GET", "/complaints/new?school_id={a}", row(200, 200, 200, 200, 200, 200, 200)),
    ("complaints.new_complaint", "POST", "/complaints/new?school_id={a}", row(422, 422, 422, 422, 422, 422, 422)),
    ("complaints.track", "GET", "/complaints/track", row(200, 200, 200, 200, 200, 200, 200)),
    ("complaints.show_public", "GET", "/c/{cc}", row(200, 200, 200, 200, 200, 200, 200)),
    ("complaints.list_complaints", "GET", "/complaints/", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("complaints.show_complaint", "GET", "/complaints/{ci}", row(SIGNIN, 200, 200, 200, 403, 403, 403)),
    ("complaints.triage_complaint", "POST", "/complaints/{ci}/triage", row(SIGNIN, 403, 422, 422, 403, 403, 403)),
    ("complaints.log_complaint", "GET", "/complaints/log", row(SIGNIN, 403, 200, 200, 403, 403, 403)),
    ("complaints.log_complaint", "POST", "/complaints/log", row(SIGNIN, 403, 422, 422, 403, 403, 403)),
    ("api.create_complaint", "POST", "/api/v1/complaints", row(400, 400, 400, 400, 400, 400, 400)),
    ("api.show_public_complaint", "GET", "/api/v1/complaints/{cc}", row(200, 200, 200, 200, 200, 200, 200)),
    ("api.list_complaints", "GET", "/api/v1/complaints", row(401, 200, 200, 200, 403, 403, 403)),
    ("api.triage_complaint", "POST", "/api/v1/complaints/{ci}/triage", row(401, 400, 400, 400, 404, 404, 404)),
    ("api.list_tasks", "GET", "/api/v1/tasks", row(401, 403, 403, 200, 200, 403, 403)),
    # The volunteer programme: its coordinator (the world's admin has manages_volunteers), the leader's
    # list of reveals, and registration from an invitation ({cc} is no invitation: 404 signed out).
    ("volunteers.roster", "GET", "/programme/", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("volunteers.list_invitations", "GET", "/programme/invitations", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("volunteers.list_invitations", "POST", "/programme/invitations", row(SIGNIN, 422, 403, 403, 403, 403, 403)),
    ("volunteers.withdraw_invitation", "POST", "/programme/invitations/99999/withdraw",
     row(SIGNIN, 404, 403, 403, 403, 403, 403)),
    ("volunteers.show_volunteer", "GET", "/programme/{vo}", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("volunteers.show_volunteer", "POST", "/programme/{vo}", row(SIGNIN, 422, 403, 403, 403, 403, 403)),
    ("volunteers.show_volunteer", "GET", "/programme/{u}", row(SIGNIN, 404, 403, 403, 403, 403, 403)),
    ("volunteers.deactivate", "POST", "/programme/{u}/deactivate", row(SIGNIN, 404, 403, 403, 403, 403, 403)),
    ("volunteers.show_coverage", "GET", "/programme/coverage", row(SIGNIN, 200, 403, 403, 403, 403, 403)),
    ("volunteers.show_coverage", "GET", "/programme/coverage?month=2026-13", row(SIGNIN, 404, 403, 403, 403, 403, 403)),
    ("volunteers.list_reveals", "GET", "/programme/reveals", row(SIGNIN, 200, 200, 403, 403, 403, 403)),
    # An empty body is refused (400) before the role is asked; test_recruitment asks it with a real body.
    ("api.create_invitation", "POST", "/api/v1/volunteer-invitations", row(401, 400, 400, 400, 400, 400, 400)),
    ("api.register_volunteer", "POST", "/api/v1/volunteers", row(400, 400, 400, 400, 400, 400, 400)),
    ("volunteers.show_history", "GET", "/programme/history", row(SIGNIN, 403, 403, 403, 200, 403, 403)),
    # A child changed school: the volunteer for themselves, the coordinator for a volunteer (an empty
    # list is a valid answer: no child at any school any more).
    ("volunteers.my_children", "GET", "/programme/children", row(SIGNIN, 403, 403, 403, 200, 403, 403)),
    ("volunteers.my_children", "POST", "/programme/children", row(SIGNIN, 403, 403, 403, 302, 403, 403)),
    ("volunteers.change_children", "POST", "/programme/{vo}/children", row(SIGNIN, 302, 403, 403, 403, 403, 403)),
    ("volunteers.change_children", "POST", "/programme/{u}/children", row(SIGNIN, 404, 403, 403, 403, 403, 403)),
    ("volunteers.join", "GET", "/programme/join/{cc}", row(404, 409, 409, 409, 409, 409, 409)),
    ("volunteers.join", "POST", "/programme/join/{cc}", row(404, 409, 409, 409, 409, 409, 409)),
    # Sealed plans: planners (leaders, admins) only; nobody else learns one exists.
    ("plans.list_plans", "GET", "/plans", row(SIGNIN, 200, 200, 403, 403, 403, 403)),
    ("plans.new_plan", "GET", "/plans/new", row(SIGNIN, 200, 200, 403, 403, 403, 403)),
    ("plans.create_plan", "POST", "/plans", row(SIGNIN, 422, 422, 403, 403, 403, 403)),
    ("plans.show_plan", "GET", "/plans/{pl}", row(SIGNIN, 200, 200, 403, 403, 403, 403)),
    # An empty form: 422 for the planners (the plan has no missed task, and no school awaits a re-check).
    # Recusal (回避): admins and leaders; an empty form is 422 (no inspector chosen, no reason).
    ("schools.recuse", "POST", "/schools/{a}/recusals", row(SIGNIN, 422, 422, 403, 403, 403, 403)),
    ("schools.lift_recusal", "POST", "/schools/{a}/recusals/999999/lift", row(SIGNIN, 404, 404, 403, 403, 403, 403)),
    ("plans.redraw_missed", "POST", "/plans/{pl}/redraw", row(SIGNIN, 422, 422, 403, 403, 403, 403)),
    ("plans.draw_follow_ups", "POST", "/plans/follow-ups", row(SIGNIN, 422, 422, 403, 403, 403, 403)),
    ("api.post_plan", "POST", "/api/v1/plans", row(401, 400, 400, 403, 403, 403, 403)),
    ("api.get_plan", "GET", "/api/v1/plans/{pl}", row(401, 200, 200, 403, 403, 403, 403)),
    # 一案双查: the leader's alone.
    ("reviews.list_reviews", "GET", "/reviews", row(SIGNIN, 403, 200, 403, 403, 403, 403)),
    ("reviews.decide", "POST", "/reviews/1/decide", row(SIGNIN, 403, 404, 403, 403, 403, 403)),
    ("api.list_reviews", "GET", "/api/v1/reviews", row(401, 403, 200, 403, 403, 403, 403)),
]

CASES = [pytest.param(endpoint, method, url, role, expected[role], id=f"{method} {url} as {role}")
         for endpoint, method, url, expected in MATRIX for role in ROLES]


@pytest.fixture(scope="module")
def setting(app, module_db):
    """The world every case runs in, built once for the module, and each role's signed-in cookies;
    each case's own writes are rolled back after it (module_db), so no case sees another's."""
    make = Factories(app)
    world = make.world()
    templates = make.templates()
    plain = make.user("inspector")
    disabled = make.user("inspector")
    with app.app_context():
        db.session.get(User, disabled.id).disable()
        db.session.commit()
    complaint = app.test_client().post("/api/v1/complaints", json={"school_id": world.a.id, "text": "门卫不在岗"})
    with app.app_context():
        complaint_id = db.session.scalar(sa.select(Complaint.id))
    draft = make.visit(templates, world.inspector, world.a, submit=False, photo=False)
    done = make.visit(templates, world.inspector, world.a)
    from inspect_app.dbtypes import utcnow
    from inspect_app.tickets.handovers import issue
    from inspect_app.visits.models import Visit
    with app.app_context():
        hand_over = issue(db.session.get(Visit, done.id), db.session.get(User, world.inspector.id), utcnow())
        db.session.commit()
        hand_over_id = hand_over.id
    from inspect_app.checklists.models import VisitMode
    from inspect_app.i18n import local_zone
    from inspect_app.plans.models import Weighting
    from inspect_app.plans.planning import PlanRequest, create_plan
    with app.test_request_context():
        today = utcnow().astimezone(local_zone()).date()
        plan = create_plan(PlanRequest(today, today, 1, [VisitMode.OVERT], None, Weighting.RISK),
                           db.session.get(User, world.leader.id))
        db.session.commit()
        plan_id = plan.id
    targets = {"a": world.a.id, "b": world.b.id, "ta": world.a.qr_token, "u": plain.id, "d": disabled.id,
               "t": templates["onsite"].id, "tp": templates["parent_overt"].id, "v": draft.id, "vs": done.id, "f": draft.findings["G1"],
               "p": done.photos[0], "new": "0b7e4d3c-5f7a-4c1e-9d55-2b8f1e6a9c01", "tk": done.tickets[0],
               "vo": world.volunteer.id, "cc": complaint.get_json()["tracking_code"], "ci": complaint_id,
               "ho": hand_over_id, "pl": plan_id}
    # Signed in once per role: the session rows belong to the world, so a case that signs out or
    # disables an account has that undone with the rest of its writes.
    cookies = {}
    for role in ROLES[1:]:
        browser = Browser(app)
        browser.sign_in(getattr(world, role).username)
        cookies[role] = browser.cookies()
    return targets, cookies


@pytest.mark.parametrize("endpoint, method, url, role, expected", CASES)
def test_route_access(app, setting, endpoint, method, url, role, expected):
    targets, cookies = setting
    browser = Browser(app).restore(cookies.get(role, {}))
    url = url.format(**targets)
    if method == "GET":
        response = browser.get(url)
    else:
        token = browser.csrf()
        response = browser.open(url, method=method, data={"csrf_token": token},
                                headers={"X-CSRFToken": token})
    if expected == SIGNIN:
        assert response.status_code == 302
        assert "/accounts/sign-in" in response.headers["Location"]
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:300]


def test_every_route_is_in_the_matrix(app):
    covered = {(endpoint, method) for endpoint, method, _, _ in MATRIX}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.endpoint, method) in covered, f"{method} {rule.rule} has no row in MATRIX"
