"""One place decides whether a request gets the full page or just the fragment (netbox style)."""
from flask import render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def render(page: str, fragment: str, **context) -> str:
    """Render the fragment for htmx swaps, the page (which includes the fragment) otherwise."""
    return render_template(fragment if is_htmx() else page, **context)
