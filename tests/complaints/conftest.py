"""Helpers for complaints: file one from the public page as a phone would."""
from __future__ import annotations

import re

import pytest

from tests.conftest import form_fields

CODE_RE = re.compile(r"JY-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


@pytest.fixture
def complain(app):
    """Open the form (from the poster's token by default), fill it, send it; (response, code or None)."""
    def factory(browser, school=None, qr=None, text="食堂后门的消毒柜一直没开，餐具堆在外面。", contact="",
                photos=(), extra=None, fields=None):
        url = f"/complaints/new?qr={qr}" if qr else f"/complaints/new?school_id={school.id}"
        if fields is None:
            page = browser.get(url)
            assert page.status_code == 200, page.get_data(as_text=True)[:300]
            fields = form_fields(page.get_data(as_text=True))
        data = dict(fields, text=text, contact=contact, **(extra or {}))
        data["photos"] = list(photos)
        response = browser.post(url, data=data, content_type="multipart/form-data")
        match = CODE_RE.search(response.get_data(as_text=True))
        return response, (match.group(0) if match else None), fields
    return factory
