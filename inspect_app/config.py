"""Configuration from the environment, with safe embedded defaults.

Everything that differs between a laptop, CI and a province deployment comes from environment
variables; with none set the app runs on SQLite and local files under ``instance/``.
"""
import os
from datetime import timedelta


def _database_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith(("postgres://", "postgresql://")):
        # Hosting platforms hand out libpq-style URLs; we talk to PostgreSQL through psycopg 3.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Text lengths are the widths of their columns (findings.description, ticket_events.text,
# answers.note), so they are constants rather than settings; forms and the API both read them here.
DESCRIPTION_MAX_CHARS = 2000
NOTE_MAX_CHARS = 1000


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


class Config:
    # None means "generate once and keep in instance/secret_key" (done by the factory, not here).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # The audit chain's HMAC keys, "id:secret" pairs newest first (see audit/keys.py and the README on
    # rotation). None: one key generated once and kept in instance/audit_keys (like the secret key).
    AUDIT_KEYS = os.environ.get("AUDIT_KEYS")
    # Fernet keys sealing volunteers' real names and phones, newest first (accounts/escrow.py). None:
    # one key generated once and kept in instance/volunteer_identity_keys (like the audit keys).
    VOLUNTEER_IDENTITY_KEYS = os.environ.get("VOLUNTEER_IDENTITY_KEYS")
    SQLALCHEMY_DATABASE_URI = _database_url()  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    STORAGE_DIR = os.environ.get("STORAGE_DIR")  # None: instance/storage
    # Where uploads live (photos/storage.py): unset or file:///folder, a local folder (STORAGE_DIR);
    # s3://bucket/prefix, any S3-compatible service, reached with the usual AWS names below (unset,
    # boto3's own chain: ~/.aws, the machine's role). See docs/deploy.md "Storage".
    STORAGE_URL = os.environ.get("STORAGE_URL") or None
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None  # None: AWS itself
    S3_ADDRESSING_STYLE = os.environ.get("S3_ADDRESSING_STYLE") or None  # path (with an endpoint), virtual
    AWS_REGION = os.environ.get("AWS_REGION") or None
    AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY") or None
    NODE_MODULES_DIR = os.environ.get("NODE_MODULES_DIR")  # None: next to the package

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh": "简体中文", "en": "English"}

    # Sessions: the cookie only names a server-side AuthSession row, so sign-out really ends it.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")  # also Secure whenever the request is HTTPS
    WEB_SESSION_LIFETIME = timedelta(days=14)
    API_TOKEN_LIFETIME = timedelta(days=30)
    # A phone may sit offline for hours before it replays; a 1 h CSRF token would strand its queue.
    WTF_CSRF_TIME_LIMIT = int(os.environ.get("CSRF_TIME_LIMIT_S", str(12 * 3600)))

    # Shared state across processes and machines: rate-limit counts (inspect_app/ratelimit.py) live in
    # Redis when REDIS_URL is set (e.g. redis://127.0.0.1:6379/0), else in the database. The prefix
    # keeps two deployments (or test runs) on one Redis from counting each other.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "inspect")

    # Sign-in throttling per (account, client), counted through inspect_app/ratelimit.py so it holds
    # across worker processes and hosts (see accounts/throttle.py and the README's "Locked out").
    SIGNIN_WINDOW = timedelta(hours=1)
    SIGNIN_FREE_FAILURES = 3  # per (account, client); then each attempt waits twice as long
    SIGNIN_FIRST_DELAY = timedelta(seconds=2)
    SIGNIN_MAX_FAILURES_PER_CLIENT = 10  # guesses at one account from one client per window
    SIGNIN_MAX_FAILURES_PER_ACCOUNT = 50  # guesses at one account from all unrecognised clients
    SIGNIN_MAX_ACCOUNTS_PER_ADDRESS = 20  # accounts one address may fail on per window (spraying)
    SIGNIN_DEVICE_LIFETIME = timedelta(days=365)  # how long a browser stays recognised

    # Argon2id parameters (argon2-cffi's RFC 9106 "low memory" profile by default: 3 passes over
    # 64 MiB in 4 lanes). Each hash carries its own parameters, so a change still verifies the stored
    # ones; a user's hash is redone with the new ones at their next sign-in (accounts/models.py).
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _int("ARGON2_MEMORY_COST", 65536)  # KiB
    ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 4)

    # A phone photo is 3-5 MB before the phone shrinks it; 15 MB leaves room for HEIC and odd cameras.
    PHOTO_MAX_BYTES = 15 * 1024 * 1024
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    SCHOOL_IMPORT_MAX_BYTES = 2 * 1024 * 1024

    # Bounded work per request (docs/limits.md): each is checked before any work is done, and a
    # request over one is refused (413/422) with a message saying which limit and by how much.
    # A real visit has at most ~100 findings; the 60-item checklist is the largest built-in one.
    JSON_MAX_BYTES = _int("JSON_MAX_BYTES", 4 * 1024 * 1024)
    JSON_MAX_DEPTH = _int("JSON_MAX_DEPTH", 16)
    VISIT_MAX_FINDINGS = _int("VISIT_MAX_FINDINGS", 200)
    VISIT_MAX_ANSWERS = _int("VISIT_MAX_ANSWERS", 300)
    FINDING_MAX_PHOTOS = _int("FINDING_MAX_PHOTOS", 20)
    TICKET_STEP_MAX_PHOTOS = _int("TICKET_STEP_MAX_PHOTOS", 20)
    DESCRIPTION_MAX_CHARS = DESCRIPTION_MAX_CHARS
    NOTE_MAX_CHARS = NOTE_MAX_CHARS
    # A phone's clock may run ahead; a submission stamped later than this past the server's now is refused.
    CLIENT_CLOCK_AHEAD_LIMIT = timedelta(hours=24)
    DEFAULT_SCHOOL_RADIUS_M = 200
    # The address printed in QR codes (e.g. https://inspect.example.gov.cn). Required: the request's
    # Host header is whatever the client says, and a poster must never point elsewhere.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")

    # Plans (督查计划): every school is checked at least once in this many days (全覆盖): a school past
    # it is drawn first. A plan's task shows its school to the assignee only from this time (local)
    # of its day, so a list of upcoming targets cannot leak early.
    PLAN_COVERAGE_DAYS = _int("PLAN_COVERAGE_DAYS", 30)
    # 一案双查: a later check failing an item an inspector passed at the school within this many days
    # opens a review for the leader.
    REVIEW_WINDOW_DAYS = _int("REVIEW_WINDOW_DAYS", 7)
    TASK_REVEAL_TIME = os.environ.get("TASK_REVEAL_TIME", "06:00")
    PLAN_MAX_DAYS = _int("PLAN_MAX_DAYS", 92)
    PLAN_MAX_TASKS = _int("PLAN_MAX_TASKS", 500)

    # Tickets: the finder never closes their own finding (PRODUCT: verification by someone else);
    # a leader who found it may, giving a reason that the record (and so the audit chain) keeps.
    # Off ("0") lets a finder verify, marked self_verified on the record.
    REQUIRE_INDEPENDENT_VERIFIER = _flag("REQUIRE_INDEPENDENT_VERIFIER", True)
    # A ticket's deadline is the item's hours after submission, rounded up so it cannot be read back
    # into the moment a (covert) check was submitted: "day" (23:59:59 of that day, Asia/Shanghai) is
    # how a bureau writes a rectification notice (限期于X月X日前整改) and hides even the hour;
    # "hour" (the next full hour) keeps deadlines tighter but tells the school the hour of submission.
    TICKET_DEADLINE_ROUNDING = os.environ.get("TICKET_DEADLINE_ROUNDING", "day")
    # The school's daily report (日报告/零报告): due by this time of the school's day where the bureau
    # is (the compilation document's absence register is due by 11:30); a report after it is kept
    # and marked late, never refused. A school without one is reminded SELF_REPORT_REMIND_BEFORE_MIN
    # minutes before, and its responsible inspectors at the deadline (`flask worker`, every 5 minutes).
    SELF_REPORT_DEADLINE = os.environ.get("SELF_REPORT_DEADLINE", "11:30")
    SELF_REPORT_REMIND_BEFORE_MIN = _int("SELF_REPORT_REMIND_BEFORE_MIN", 30)
    # The early warning: a school's fever count at least this far above the average of its own reports
    # of the previous 7 days is highlighted for the bureau.
    SELF_REPORT_FEVER_JUMP = _int("SELF_REPORT_FEVER_JUMP", 3)
    # How many days back a school may still file (late) a day it missed.
    SELF_REPORT_MAX_DAYS_BACK = _int("SELF_REPORT_MAX_DAYS_BACK", 31)
    # Public complaints (举报投诉): photos per complaint; submissions per client address per hour and per
    # school per day, wrong tracking codes per address per hour (429 past them, counted in the database);
    # days a closed complaint's contact is kept (PIPL, `flask complaints purge-contacts` erases it);
    # working days the bureau has to triage before a complaint shows as overdue.
    COMPLAINT_MAX_PHOTOS = _int("COMPLAINT_MAX_PHOTOS", 4)
    COMPLAINTS_PER_ADDRESS_PER_HOUR = _int("COMPLAINTS_PER_ADDRESS_PER_HOUR", 5)
    COMPLAINTS_PER_SCHOOL_PER_DAY = _int("COMPLAINTS_PER_SCHOOL_PER_DAY", 30)
    COMPLAINT_CODE_MISSES_PER_HOUR = _int("COMPLAINT_CODE_MISSES_PER_HOUR", 20)
    # Wrong volunteer invitation codes per address per hour (429 past it, counted like the above).
    INVITATION_CODE_MISSES_PER_HOUR = _int("INVITATION_CODE_MISSES_PER_HOUR", 10)
    COMPLAINT_CONTACT_RETENTION_DAYS = _int("COMPLAINT_CONTACT_RETENTION_DAYS", 90)
    COMPLAINT_TRIAGE_WORKING_DAYS = _int("COMPLAINT_TRIAGE_WORKING_DAYS", 2)
    # Notices that leave the app (inspect_app/notify, docs/deploy.md "Notifications"), each off unless
    # configured; the in-app inbox always works. E-mail: SMTP_URL (smtp://user:password@host:587?starttls=1
    # or smtps://user:password@host:465) or SMTP_HOST with the rest; MAIL_FROM is then required.
    SMTP_URL = os.environ.get("SMTP_URL")
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = os.environ.get("SMTP_PORT")  # unset: 465 for smtps, 587 with STARTTLS, else 25
    SMTP_USER = os.environ.get("SMTP_USER")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = _flag("SMTP_STARTTLS")
    MAIL_FROM = os.environ.get("MAIL_FROM")
    # Group robots: the webhook address each shows when it is added to a group; DingTalk's secret when
    # the robot is secured by signature (加签).
    DINGTALK_WEBHOOK_URL = os.environ.get("DINGTALK_WEBHOOK_URL")
    DINGTALK_SECRET = os.environ.get("DINGTALK_SECRET")
    WECOM_WEBHOOK_URL = os.environ.get("WECOM_WEBHOOK_URL")
    # A bureau step's notice leaves the app for a school at this local time the next day (notify.outbox).
    NOTIFY_SCHOOL_AT = os.environ.get("NOTIFY_SCHOOL_AT", "07:30")
    # Attempts per delivery, 1, 2, 4 … minutes apart (at most 6 h): 10 is about 8.5 hours of trying.
    NOTIFY_MAX_ATTEMPTS = _int("NOTIFY_MAX_ATTEMPTS", 10)

    # The letterhead of the signed daily report (每日督查专报): the issuing bureau's name, fixed into
    # each report when it is signed.
    BUREAU_NAME = os.environ.get("BUREAU_NAME", "教育局")

    # Map tiles, e.g. https://tiles.example.gov.cn/{z}/{x}/{y}.png; unset, the map is a coloured list.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL")
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 500
    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "text/plain", "application/json",
        "application/javascript", "text/javascript", "image/svg+xml",
    ]


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    AUDIT_KEYS = "test:test-audit-key-not-for-production-0123456789"
    VOLUNTEER_IDENTITY_KEYS = "dGVzdC12b2x1bnRlZXIta2V5LW5vdC1mb3ItcHJvZC0="  # "test-volunteer-key-not-for-prod-"
    PUBLIC_BASE_URL = "http://localhost"
    STORAGE_URL = None  # the folder tests/conftest.py names, or its S3 bucket when S3_TEST says so
    SQLALCHEMY_DATABASE_URI = "sqlite://"  # tests/conftest.py switches to TEST_DATABASE_URL
    # The suite counts in the database (time can be driven there); tests/test_shared_limits.py runs
    # app processes on Redis.
    REDIS_URL = None
    # Cheap hashing keeps the suite fast; the algorithm and code path stay the same. One lane: with
    # four, argon2 starts threads for each hash, which cost more than the hash at this size.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
