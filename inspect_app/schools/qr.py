"""The URL a school's poster carries, and the code that encodes it."""
import qrcode
import qrcode.image.svg
from flask import current_app, url_for
from markupsafe import Markup

from inspect_app.schools.models import School


def qr_url(school: School) -> str:
    """Always on the configured public address: the Host header is the client's to choose."""
    path = url_for("schools.scan_landing", token=school.qr_token)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def qr_svg(data: str) -> Markup:
    """An inline SVG: sharp at any print size, no image file to serve or cache."""
    # Level M survives a little dirt or glare on a poster at a school gate.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(data)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    return Markup(svg)
