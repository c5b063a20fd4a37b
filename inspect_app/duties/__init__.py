"""The school's daily duties: the daily report (日报告/零报告) a duty officer files each morning, and
the bureau's view of which schools filed, which late, which not, and whose numbers jumped."""
from flask import Blueprint

bp = Blueprint("duties", __name__, url_prefix="/duties")

from inspect_app.duties import routes  # noqa: E402,F401
