"""The covert source stays hidden from the school (issue 9 §6).

After a volunteer's covert check (and an inspector's overt visit) opened tickets at school A, its duty
officer crawls every GET route the app has, with the values that reach this school's data: pages and
their htmx fragments in both languages, API answers with the browser cookie and with the school's own
bearer token, photo files with their headers, the report PDF/XLSX and the exports. Nothing may name
the volunteer (id, username, real name, pseudonym, e-mail), time the check to the minute (ISO, HH:MM,
epoch), name the template or mode, or carry the covert template's answer codes V1-V9 or a fingerprint
of the original photo.
"""
from __future__ import annotations

import io
import json
import re
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import Role
from inspect_app.extensions import db

SHANGHAI = timezone(timedelta(hours=8))
VOLUNTEER = dict(id=987654, username="zhao_hidden_parent", display_name="赵真名家长", pseudonym="志愿者甲乙",
                 email="zhao.parent@example.com")
# The same bytes for every visitor, signed in or not (see the access matrix): they carry nothing of a check.
SAME_FOR_EVERYONE = {"static", "assets.serve_asset", "api.openapi", "core.service_worker", "core.manifest"}
WORDS = ("covert", "volunteer", "暗访", "志愿者", "家长志愿者暗访")
# The API's own list of modes in its 400 for a missing ?mode= is the same for everyone, like the spec.
GENERIC = ("overt, covert, self_check", "overt、covert 或 self_check")
LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-.=+/]{30,}")  # CSRF tokens, cookies, hashed asset names
ANSWER_CODE = re.compile(r"(?<![A-Za-z0-9])V[1-9](?![A-Za-z0-9])")
EPOCH = re.compile(r"(?<!\d)(\d{10}|\d{13})(?!\d)")


def _wait_past_the_deadline_minute():
    """Deadlines end at 23:59:59 Asia/Shanghai: a check submitted at 23:59 there (or in UTC) would
    share the minute with every deadline and fail the crawl for nothing."""
    while {datetime.now(tz).strftime("%H:%M") for tz in (SHANGHAI, timezone.utc)} & {"23:58", "23:59"}:
        time.sleep(5)


@pytest.fixture
def covert_world(app, world, make_user, make_visit, templates):
    _wait_past_the_deadline_minute()
    volunteer = make_user(Role.VOLUNTEER, assigned_school_ids=[world.a.id], **VOLUNTEER)
    covert = make_visit(volunteer, world.a, template="covert", mode="covert", fail=("V1", "V3", "V7"))
    overt = make_visit(world.inspector, world.a, fail=("G1",))
    assert covert.tickets and overt.tickets
    hand_overs = _issue_hand_overs(app, world, covert, overt)
    from inspect_app.photos.models import Photo
    from inspect_app.tickets.models import Notification, Ticket, TicketEvent
    from inspect_app.visits.models import Answer, Visit
    with app.app_context():
        moments = []
        for model, columns in ((Visit, ("started_at", "submitted_at", "server_started_at", "server_submitted_at")),
                               (Ticket, ("opened_at",)), (TicketEvent, ("at",)), (Notification, ("created_at",)),
                               (Photo, ("created_at", "captured_at")), (Answer, ("answered_at",))):
            for column in columns:
                moments += [m for m in db.session.scalars(sa.select(getattr(model, column))) if m is not None]
        fingerprints = set(db.session.scalars(sa.select(Photo.sha256)))
        covert_template = templates["covert"].id
    return dict(volunteer=volunteer, covert=covert, overt=overt, moments=moments, fingerprints=fingerprints,
                hand_overs=hand_overs,
                template_ids=[covert_template, templates["onsite"].id])


def _issue_hand_overs(app, world, *visits) -> list[int]:
    """Each visit's hand-over sheet (交办单), issued by the leader: the sheet and its PDF are crawled too."""
    from inspect_app.accounts.models import User
    from inspect_app.dbtypes import utcnow
    from inspect_app.tickets.handovers import issue
    from inspect_app.visits.models import Visit
    with app.app_context():
        sheets = [issue(db.session.get(Visit, v.id), db.session.get(User, world.leader.id), utcnow()) for v in visits]
        db.session.commit()
        return [sheet.id for sheet in sheets]


def _urls(app, world, covert_world) -> list[str]:
    """Every GET route with each value that reaches school A's data; a route with an unknown
    argument fails the test, so a new route cannot slip past this crawl."""
    today = [date.today().isoformat(), datetime.now(SHANGHAI).date().isoformat()]
    complaint = app.test_client().post("/api/v1/complaints", json={"school_id": world.a.id, "text": "门卫不在岗"})
    values = {
        "code": [complaint.get_json()["tracking_code"]], "complaint_id": [_complaint_id(app)],
        "school_id": [world.a.id, world.b.id],
        "ticket_id": covert_world["covert"].tickets + covert_world["overt"].tickets,
        "visit_id": [covert_world["covert"].id, covert_world["overt"].id],
        "photo_id": covert_world["covert"].photos + covert_world["overt"].photos,
        "size": ["display", "thumb", "original"],
        "token": [world.a.qr_token],
        "day": sorted(set(today)),
        "template_id": covert_world["template_ids"],
        # Admin-only routes: asking for the crawled volunteer's id would only find it echoed back.
        "user_id": [world.volunteer.id],
        "kind": ["visits", "findings", "tickets"],
        "fmt": ["csv", "xlsx"],
        "hand_over_id": covert_world["hand_overs"],
        # Planners' pages (plans.access): a school gets 403 or 404, whatever the plan.
        "plan_id": [1, 2],
    }
    urls = []
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SAME_FOR_EVERYONE:
                continue
            combos = [{}]
            for arg in sorted(rule.arguments):
                assert arg in values, f"the crawl has no values for <{arg}> of {rule.rule}: add them"
                combos = [dict(c, **{arg: v}) for c in combos for v in values[arg]]
            urls += [url_for(rule.endpoint, **c) for c in combos]
    a = world.a.id
    urls += [f"/tickets/?status={s}" for s in ("open", "responded", "closed", "reopened")]
    urls += [f"/api/v1/tickets?status={s}" for s in ("open", "responded", "closed", "reopened")]
    urls += [f"/api/v1/checklists?mode={m}&school_id={a}" for m in ("overt", "covert", "self_check")]
    urls += [f"/api/v1/schools/lookup?qr={world.a.qr_token}", "/schools/?q=甲", f"/visits/pack/{a}"]
    return urls


def _text(response) -> str:
    if response.is_json:
        # Flask escapes non-ASCII in JSON (\\u8d75): compare what a program reads, not the escapes.
        return json.dumps(response.get_json(), ensure_ascii=False)
    if response.mimetype.endswith("spreadsheetml.sheet") and response.status_code == 200:
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(response.data))
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    if response.mimetype == "application/pdf" and response.status_code == 200:
        # What a reader of the file sees: its text and its metadata (the raw bytes are compressed
        # streams, where "V1" or a minute turns up by chance).
        from pypdf import PdfReader
        reader = PdfReader(io.BytesIO(response.data))
        return "\n".join([page.extract_text() for page in reader.pages] + [str(reader.metadata or "")])
    return response.data.decode("utf-8", errors="replace") if "pdf" not in response.mimetype \
        else response.data.decode("latin-1")


def _minute_patterns(moments) -> list[re.Pattern]:
    patterns = set()
    for moment in moments:
        for local in (moment.astimezone(timezone.utc), moment.astimezone(SHANGHAI)):
            # 24-hour and 12-hour clocks, with or without a leading zero ("06:41", "下午6:41"); not
            # a time zone's offset ("+08:00" is every Shanghai time's, whatever the minute).
            for hour in {local.hour, local.hour % 12 or 12}:
                patterns.add(rf"(?<![\d+\-])0?{hour}:{local.minute:02d}(?!\d)")
    return [re.compile(p) for p in sorted(patterns)]


def _leaks(text: str, headers: str, covert_world, minutes, check_minutes_in_headers: bool) -> list[str]:
    found = []
    volunteer = VOLUNTEER
    for generic in GENERIC:
        text = text.replace(generic, "")
    both = text + "\n" + headers
    for secret in (volunteer["username"], volunteer["display_name"], volunteer["pseudonym"], volunteer["email"],
                   str(volunteer["id"])):
        if secret in both:
            found.append(f"volunteer's {secret!r}")
    for word in WORDS:
        if word.lower() in both.lower():
            found.append(f"the word {word!r}")
    for fingerprint in covert_world["fingerprints"]:
        if fingerprint[:16] in both:
            found.append("the original photo's SHA-256")
    stripped = LONG_TOKEN.sub(" ", both)
    found += [f"answer code {m.group(0)}" for m in ANSWER_CODE.finditer(stripped)]
    timed = stripped if check_minutes_in_headers else LONG_TOKEN.sub(" ", text)
    found += [f"the submission minute {m.group(0)!r}" for p in minutes for m in p.finditer(timed)]
    low = min(covert_world["moments"]).timestamp() - 120
    high = max(covert_world["moments"]).timestamp() + 120
    for m in EPOCH.finditer(timed):
        value = int(m.group(0)) / (1000 if len(m.group(0)) == 13 else 1)
        if low <= value <= high:
            found.append(f"the epoch {m.group(0)}")
    return found


def test_the_school_learns_nothing_of_a_covert_source(app, world, login_as, api_token, covert_world):
    officer = login_as("officer")
    bearer = api_token("officer")
    tokenised = app.test_client()
    minutes = _minute_patterns(covert_world["moments"])
    urls = _urls(app, world, covert_world)
    leaks, reached = [], set()
    for url in urls:
        for lang in ("", "lang=en"):
            full = url + (("&" if "?" in url else "?") + lang if lang else "")
            for who, response in (
                    ("page", officer.get(full)),
                    ("fragment", officer.get(full, headers={"HX-Request": "true"})),
                    ("token", tokenised.get(full, headers=bearer))):
                if response.status_code == 200:
                    reached.add(url.split("?")[0])
                # Date is the moment of this response, the crawl's own "now".
                headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items() if k != "Date")
                # Photo headers are checked for the minute as well; other responses carry the cookie's
                # expiry, which is "now" plus a lifetime and says nothing about the check.
                for leak in _leaks(_text(response), headers, covert_world, minutes,
                                   check_minutes_in_headers=url.startswith("/photos/")):
                    leaks.append(f"{who} {full} ({response.status_code}): {leak}")
    # The crawl did reach the school's view of the check, or it proves nothing.
    covert = covert_world["covert"]
    for must in (f"/api/v1/visits/{covert.id}", f"/visits/{covert.id}", f"/tickets/{covert.tickets[0]}",
                 f"/api/v1/tickets/{covert.tickets[0]}", f"/photos/{covert.photos[0]}/display", "/tickets/",
                 "/api/v1/tickets", "/tickets/notifications", f"/schools/{world.a.id}"):
        assert must in reached, must
    assert not leaks, "\n".join(sorted(set(leaks))[:60])


def test_the_api_gives_the_school_the_day_where_it_is_and_the_deadline_it_plans_by(
        app, db, world, api_token, make_visit, templates):
    """A check that reached us at 01:30 in Shanghai happened on the Shanghai day, not the UTC one."""
    from inspect_app.tickets.models import Ticket, TicketEvent
    from inspect_app.visits.models import Visit
    covert = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    late_night = datetime(2026, 1, 5, 17, 30, 12, 345678, tzinfo=timezone.utc)  # 01:30 on 6 January, +08:00
    db.session.execute(sa.update(Visit).where(Visit.id == covert.id).values(server_submitted_at=late_night))
    db.session.execute(sa.update(TicketEvent).values(at=late_night))
    db.session.commit()
    deadline = db.session.get(Ticket, covert.tickets[0]).deadline
    client, headers = app.test_client(), api_token("officer")
    visit = client.get(f"/api/v1/visits/{covert.id}", headers=headers).get_json()
    assert visit["date"] == "2026-01-06"
    assert not {"answers", "mode", "template", "submitted_at"} & set(visit)
    assert [set(f) for f in visit["findings"]] == [{"description", "requirement", "severity", "fixed_on_site",
                                                    "photos"}]
    ticket = client.get(f"/api/v1/tickets/{covert.tickets[0]}", headers=headers).get_json()
    assert ticket["record"][0]["date"] == "2026-01-06"
    assert ticket["deadline"].endswith("T23:59:59+08:00")
    assert datetime.fromisoformat(ticket["deadline"]) == deadline
    # The bureau sees the same deadline, and everything else of the visit.
    bureau = client.get(f"/api/v1/visits/{covert.id}", headers=api_token("leader")).get_json()
    assert bureau["template"] == "covert" and bureau["answers"]


def _complaint_id(app) -> int:
    import sqlalchemy as sa

    from inspect_app.complaints.models import Complaint
    from inspect_app.extensions import db
    with app.app_context():
        return db.session.scalar(sa.select(Complaint.id))
