"""Language and time zone: Simplified Chinese by default, English on request."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import Flask, current_app, has_app_context, has_request_context, request
from flask_babel import get_locale, get_timezone, gettext

from inspect_app.config import Config
from inspect_app.extensions import babel

LANG_COOKIE = "lang"


def local_zone(app: Flask | None = None) -> ZoneInfo:
    """The bureau's time zone: deadlines, report days and "today" are counted in it. The app's setting;
    `app` where no app context is pushed (the scheduler's set-up), and the default setting where there
    is no app at all (a photo processed by a benchmark)."""
    if app is None and has_app_context():
        app = current_app
    return ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"] if app is not None else Config.BABEL_DEFAULT_TIMEZONE)


def working_days_back(now: datetime, days: int) -> datetime:
    """The start (local midnight) of the day `days` working days before today, Monday to Friday
    (public holidays are not known here): what was received before it has had `days` full working
    days, as a bureau counts "N个工作日内"."""
    day = now.astimezone(local_zone()).date()
    counted = 0
    while counted < days:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return datetime.combine(day, time.min, tzinfo=local_zone())


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and background jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    # Programs talking to the API say which language they want; browsers get Chinese by default.
    if request.blueprint == "api" and request.accept_languages:
        best = request.accept_languages.best_match(list(languages))
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app.root_path) + "/translations")
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["date_only"] = date_only
    app.jinja_env.filters["date_time"] = date_time
    app.jinja_env.filters["distance"] = distance
    app.jinja_env.filters["days_until"] = days_until
    app.context_processor(template_context)


def when(value: datetime | None) -> str:
    """Times as people say them: "今天 14:05", "昨天 09:30", else "11月20日" (Asia/Shanghai)."""
    if value is None:
        return ""
    tz = get_timezone()
    local = value.astimezone(tz)
    today = datetime.now(tz).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return gettext("Today %(time)s", time=clock)
    if local.date() == today - timedelta(days=1):
        return gettext("Yesterday %(time)s", time=clock)
    return format_skeleton("MMMd", local, locale=get_locale(), tzinfo=tz)


def date_only(value: datetime | date | None) -> str:
    """A date without the time: what a school may know of a covert check. A calendar day (a plan's
    period) is already where the bureau is."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return format_skeleton("MMMd", value, locale=get_locale())
    return format_skeleton("MMMd", value.astimezone(get_timezone()), locale=get_locale())


def date_time(value: datetime | None) -> str:
    """A date and its clock time, "11月27日 17:00": a deadline someone plans by (Asia/Shanghai)."""
    if value is None:
        return ""
    local = value.astimezone(get_timezone())
    return f"{format_skeleton('MMMd', local, locale=get_locale())} {local.strftime('%H:%M')}"


def local_day(value: datetime | None) -> str | None:
    """date_only for programs: the ISO calendar date (YYYY-MM-DD) in Asia/Shanghai, not in UTC, so
    the API tells a school the same day its pages do."""
    return value.astimezone(get_timezone()).date().isoformat() if value is not None else None


def local_iso(value: datetime | None) -> str | None:
    """An ISO 8601 time with the local offset (+08:00), as a school plans by it."""
    return value.astimezone(get_timezone()).isoformat() if value is not None else None


def distance(metres: float) -> str:
    """"约 350 米" near by, "约 2.4 公里" further: as far as a person walks or drives."""
    if metres < 1000:
        return gettext("about %(m)s m", m=int(round(metres, -1)))
    return gettext("about %(km)s km", km=f"{metres / 1000:.1f}")


def days_until(moment: datetime) -> int:
    """Calendar days from today to a moment, as people count them where they are (negative: past)."""
    tz = get_timezone()
    return (moment.astimezone(tz).date() - datetime.now(tz).date()).days


def template_context() -> dict:
    return {"current_locale": str(get_locale())}
