"""Every user-facing string is translated, and the Chinese UI shows no English."""
import re
from html.parser import HTMLParser

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from inspect_app import PROJECT_ROOT

ALLOWED_LATIN = {"CSV", "Excel", "UTF", "GBK", "English", "PDF", "HTTPS"}
URL = re.compile(r"https?://\S*")  # an address is an address in any language


def _extracted_ids() -> set[str]:
    method_map = [("inspect_app/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    ids = set()
    for _, _, message, _, _ in extract_from_dir(str(PROJECT_ROOT), method_map, keywords=keywords):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_message_has_a_chinese_translation():
    path = PROJECT_ROOT / "inspect_app/translations/zh/LC_MESSAGES/messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted_ids() - set(translated))
    assert not missing, f"untranslated (run `make extract-messages` and translate): {missing}"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chunks, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "svg"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title", "data-confirm", "hx-confirm") and value:
                self.chunks.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)


def _english_words(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    text = URL.sub(" ", " ".join(parser.chunks))
    return {w for w in re.findall(r"[A-Za-z]{2,}", text)} - ALLOWED_LATIN


@pytest.mark.parametrize("who, path", [
    (None, "/accounts/sign-in"), (None, "/s/{ta}"), ("admin", "/"), ("admin", "/schools/"),
    ("admin", "/schools/{a}"), ("admin", "/accounts/users"), ("admin", "/accounts/users/new"),
    ("admin", "/schools/import"), ("inspector", "/s/{ta}"), ("volunteer", "/"), ("officer", "/schools/{a}"),
    ("officer_b", "/s/{ta}"), (None, "/s/unknown"), ("inspector", "/no/such/page"),
    ("leader", "/reports/"), ("leader", "/reports/map"), ("leader", "/reports/exports/"),
    ("leader", "/reports/daily/2026-01-05"), ("inspector", "/tickets/"),
])
def test_chinese_pages_show_no_english(login_as, world, who, path):
    html = login_as(who).get(path.format(a=world.a.id, ta=world.a.qr_token)).get_data(as_text=True)
    # Test users have Latin usernames and display names; they are data, not UI text.
    for user in vars(world).values():
        if hasattr(user, "username"):
            html = html.replace(user.username, "").replace(user.role.value, "")
    assert _english_words(html) == set()


def test_dates_read_like_people_say_them(app):
    from datetime import datetime, timedelta, timezone

    from inspect_app.i18n import when
    now = datetime.now(timezone.utc)
    with app.test_request_context("/"):
        assert when(now).startswith("今天 ")
        assert when(now - timedelta(days=1)).startswith("昨天 ")
        assert re.fullmatch(r"\d{1,2}月\d{1,2}日", when(now - timedelta(days=10)))
    with app.test_request_context("/?lang=en"):
        assert when(now).startswith("Today ")


def test_times_are_shown_in_asia_shanghai(app):
    from datetime import datetime, timezone

    from inspect_app.i18n import when
    moment = datetime(2026, 3, 1, 7, 30, tzinfo=timezone.utc)  # 15:30 in Shanghai
    with app.test_request_context("/"):
        assert when(moment) == "3月1日"
        from flask_babel import format_datetime
        assert "15:30" in format_datetime(moment, "HH:mm")
