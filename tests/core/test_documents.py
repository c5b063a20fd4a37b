"""A document drawn once is kept for its exact input, and only for it."""
from inspect_app import documents

HTML = "<html><body><p>交办单</p><img src='resource:a'></body></html>"


def test_the_same_input_is_drawn_once_and_any_change_is_drawn_again(monkeypatch):
    drawn = []

    def draw(html, resources):
        drawn.append((html, dict(resources)))
        return f"%PDF {len(drawn)}".encode()
    monkeypatch.setattr(documents, "_draw_pdf", draw)
    monkeypatch.setattr(documents, "_DRAWN", type(documents._DRAWN)())

    first = documents.html_pdf(HTML, {"a": b"photo-1"})
    assert documents.html_pdf(HTML, {"a": b"photo-1"}) == first and len(drawn) == 1
    # Another photo under the same name, another text, another resource name: each its own drawing.
    assert documents.html_pdf(HTML, {"a": b"photo-2"}) != first
    assert documents.html_pdf(HTML.replace("交办单", "整改反馈"), {"a": b"photo-1"}) != first
    assert documents.html_pdf(HTML, {"b": b"photo-1"}) != first
    assert len(drawn) == 4


def test_only_a_few_drawings_are_kept(monkeypatch):
    monkeypatch.setattr(documents, "_draw_pdf", lambda html, resources: html.encode())
    monkeypatch.setattr(documents, "_DRAWN", type(documents._DRAWN)())
    for n in range(documents._DRAWN_MAX * 3):
        documents.html_pdf(f"<p>{n}</p>", {})
    assert len(documents._DRAWN) == documents._DRAWN_MAX
