"""User text on its way into a document stays text: never PDF markup, never a spreadsheet formula.

A finding, a note, a school's or a person's name is typed by someone outside the bureau and read by
someone inside it. Spreadsheet programs run a cell that starts with `=` (or `+ - @`, tab, CR) as a
formula; a line break in an e-mail header is refused by the mail library (and would start a new header
if it were not). Every writer of an XLSX, a CSV or a mail header passes each value through the one
helper for its format below, so the rule is kept here once and a new document cannot forget it. Every
PDF is an HTML document (`html_pdf`): its text is escaped by Jinja, and it may read no file but the
ones handed to it.

openpyxl is imported where a spreadsheet is made, not with the app: it costs every process that starts
the app (each gunicorn worker, each `flask` command) about 0.17 s, for a download few requests ask for.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# OWASP's CSV-injection list (and ASVS 1.2.10's NUL): a field starting with one of these is a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def xlsx_append(sheet, values) -> None:
    """Append a row to a worksheet (normal or write-only): text is always a string cell, whatever it
    starts with.

    openpyxl makes any string starting with "=" a formula; forcing the type to "s" writes it as an
    inline string instead. Control characters XML cannot carry (openpyxl refuses them and the whole
    download would fail) are shown as U+FFFD.
    """
    # Once a row, not once a cell (an export streams tens of thousands of cells; the two imports cost 2 µs).
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value):
        if not isinstance(value, str):
            return value
        text = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
        text.data_type = "s"
        return text
    sheet.append([cell(value) for value in values])


def csv_field(value):
    """A CSV field neutralised per OWASP: a leading quote keeps a formula-like text a text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_field(value) for value in values]


def header_text(value) -> str:
    """One line for an e-mail header: every run of whitespace, line breaks included, becomes a space."""
    return " ".join(str(value).split())


# The same document is fetched again and again (a hand-over sheet by the leader, the inspector and the
# school, a report re-opened): drawing one costs 0.2–1 s of CPU, keeping one a few hundred KB. The key
# is the whole input (the HTML and each resource's bytes), so a kept PDF is always the one that input
# draws; a changed document is a new key, never a stale answer.
_DRAWN: OrderedDict[bytes, bytes] = OrderedDict()
_DRAWN_MAX = 16
_DRAWN_LOCK = threading.Lock()


def html_pdf(html: str, resources: dict[str, bytes]) -> bytes:
    """A PDF of `html` (WeasyPrint), whose only outside files are `resources`, named `resource:<key>`.

    The text in `html` comes escaped from a Jinja template; WeasyPrint would still fetch whatever a
    URL in the document names (a file on the server's disk, an address inside the network), so its
    fetcher serves the resources handed to it and refuses everything else.
    """
    digest = hashlib.sha256(html.encode("utf-8", "surrogatepass"))
    for key in sorted(resources):
        digest.update(b"\0" + key.encode() + b"\0" + hashlib.sha256(resources[key]).digest())
    key = digest.digest()
    with _DRAWN_LOCK:
        if key in _DRAWN:
            _DRAWN.move_to_end(key)
            return _DRAWN[key]
    pdf = _draw_pdf(html, resources)
    with _DRAWN_LOCK:
        _DRAWN[key] = pdf
        while len(_DRAWN) > _DRAWN_MAX:
            _DRAWN.popitem(last=False)
    return pdf


def _draw_pdf(html: str, resources: dict[str, bytes]) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    # A control character someone typed has no glyph in any font: drawn as a blank, not as a box.
    html = CONTROL_CHARACTERS.sub(" ", html)

    class OwnResources(URLFetcher):
        def fetch(self, url, headers=None):
            key = url.removeprefix("resource:")
            if not url.startswith("resource:") or key not in resources:
                raise ValueError("only the document's own resources are fetched")
            return URLFetcherResponse(url, resources[key], {"Content-Type": "image/jpeg"})

    return HTML(string=html, url_fetcher=OwnResources(), base_url="resource:").write_pdf()


def attachment(name: str, ascii_name: str) -> str:
    """A download saved under its name in the reader's language (RFC 6266 / RFC 5987 filename*),
    with a plain ASCII name for the few clients that know only filename=."""
    from urllib.parse import quote
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
