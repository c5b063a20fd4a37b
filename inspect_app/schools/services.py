"""Importing the school register from the CSV files that Excel writes."""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from inspect_app.accounts.models import ASSIGNEE_ROLES, Role, User
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.parsing import LAT_RANGE, LON_RANGE, or_none, parse_location, parse_number
from inspect_app.schools.models import School, SchoolKind, child_school_ids

# Header names as people write them in Excel, in Chinese or English.
COLUMN_ALIASES = {
    # The level people file schools under: a county or district, or (in a county's own register) the
    # town or sub-district (街道/镇). Whichever the sheet has is the "district" the map and lists show.
    "district": {"district", "区县", "区县/街道", "区域", "区", "县区", "区/县", "县", "所属区县", "所属区域",
                 "街道", "镇", "乡镇", "镇街", "街镇", "街道/镇", "镇/街道", "街道（镇）", "镇（街道）", "乡镇（街道）",
                 "乡镇街道", "所属街道", "所属镇街", "所在镇街", "所属乡镇"},
    "name": {"name", "学校名称", "学校", "名称", "校名"},
    "kind": {"kind", "type", "类型", "学校类型", "学段", "办学类型"},
    "address": {"address", "地址", "学校地址"},
    "lat": {"lat", "latitude", "纬度"},
    "lon": {"lon", "lng", "longitude", "经度"},
    "radius_m": {"radius_m", "radius", "半径", "半径(米)", "半径（米）", "围栏半径", "围栏半径（米）"},
    "inspectors": {"inspectors", "责任督学", "督学"},
}
REQUIRED = ("district", "name", "kind", "lat", "lon")

KIND_ALIASES = {
    SchoolKind.KINDERGARTEN: {"kindergarten", "幼儿园"},
    SchoolKind.PRIMARY: {"primary", "小学"},
    # A plain "中学" in a town's register is, far more often than not, its junior high (镇中学); a
    # school with a senior section is filed as 高中/完全中学 and can be corrected by a re-import.
    SchoolKind.JUNIOR_HIGH: {"junior_high", "初中", "初级中学", "中学", "普通中学"},
    SchoolKind.NINE_YEAR: {"nine_year", "九年一贯制", "九年一贯制学校", "九年制学校", "一贯制学校"},
    SchoolKind.SENIOR_HIGH: {"senior_high", "高中", "高级中学", "完全中学", "完中", "普通高中"},
    SchoolKind.VOCATIONAL: {"vocational", "职业学校", "中职", "职校", "中等职业学校", "技工学校"},
    SchoolKind.SPECIAL: {"special", "特殊教育", "特殊教育学校", "特教"},
    SchoolKind.TRAINING: {"training", "培训机构", "校外培训机构"},
}
KIND_BY_ALIAS = {alias: kind for kind, aliases in KIND_ALIASES.items() for alias in aliases}
MAX_RADIUS_M = 5000


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """Excel writes UTF-8 with a BOM ("CSV UTF-8") or GBK ("CSV"); GB18030 is a superset of GBK."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file is neither UTF-8 nor GBK text. Save it from Excel as CSV and try again."))


def _header_map(header: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, raw in enumerate(header):
        # "*学校名称" and "学校名称 (必填)" as templates mark required columns; half- or full-width.
        name = re.sub(r"[(（](必填|选填)[)）]|^\*|\*$", "", raw.strip()).strip().lower().replace("(", "（").replace(")", "）")
        for key, aliases in COLUMN_ALIASES.items():
            if name in aliases and key not in mapping:
                mapping[key] = index
    missing = [key for key in REQUIRED if key not in mapping]
    if missing:
        raise ImportFileError(_("The first row must name the columns; missing: %(cols)s.",
                                cols=", ".join(missing)))
    return mapping


def _float(value: str, low: float, high: float) -> float | None:
    """A number cell within [low, high], or None (the row's problems say what was wrong)."""
    return or_none(lambda text: parse_number(text, low, high, ""), value)


def _parse_row(cells: list[str], cols: dict[str, int], inspectors: dict[str, User],
               default_radius: int) -> tuple[dict, list[str]]:
    def cell(key: str) -> str:
        index = cols.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems: list[str] = []
    row = {"district": cell("district"), "name": cell("name"), "address": cell("address")}
    if not row["district"]:
        problems.append(_("district is empty"))
    if not row["name"]:
        problems.append(_("school name is empty"))
    if len(row["name"]) > 128 or len(row["district"]) > 64 or len(row["address"]) > 255:
        problems.append(_("a value is too long"))
    kind = KIND_BY_ALIAS.get(cell("kind").lower())
    if kind is None:
        problems.append(_("unknown school type \"%(value)s\"", value=cell("kind")))
    row["kind"] = kind
    row["lat"] = _float(cell("lat"), *LAT_RANGE)
    if row["lat"] is None:
        problems.append(_("latitude \"%(value)s\" is not a number between -90 and 90", value=cell("lat")))
    row["lon"] = _float(cell("lon"), *LON_RANGE)
    if row["lon"] is None:
        problems.append(_("longitude \"%(value)s\" is not a number between -180 and 180", value=cell("lon")))
    radius = cell("radius_m")
    if radius:
        row["radius_m"] = int(r) if (r := _float(radius, 1, MAX_RADIUS_M)) is not None else None
        if row["radius_m"] is None:
            problems.append(_("radius \"%(value)s\" must be between 1 and %(max)s metres",
                              value=radius, max=MAX_RADIUS_M))
    else:
        row["radius_m"] = default_radius
    row["inspectors"] = []
    for username in filter(None, (u.strip().lower() for u in
                                  cell("inspectors").replace("、", ";").replace(",", ";").split(";"))):
        user = inspectors.get(username)
        if user is None:
            problems.append(_("no inspector with username \"%(value)s\"", value=username))
        else:
            row["inspectors"].append(user)
    return row, problems


def import_schools(data: bytes, default_radius: int) -> ImportResult:
    """Validate every row first; write all of them or none (the route commits)."""
    text = decode_csv(data)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise ImportFileError(_("The file has no schools in it."))
    cols = _header_map(rows[0])
    inspectors = {u.username: u for u in db.session.scalars(
        sa.select(User).where(User.role == Role.INSPECTOR))}

    result = ImportResult()
    parsed: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    for line, cells in enumerate(rows[1:], start=2):
        row, problems = _parse_row(cells, cols, inspectors, default_radius)
        key = (row["district"], row["name"])
        if key in seen:
            problems.append(_("the same school is already on line %(line)s", line=seen[key]))
        seen.setdefault(key, line)
        result.errors.extend(RowError(line, p) for p in problems)
        parsed.append(row)
    if result.errors:
        return result

    existing = {(s.district, s.name): s for s in db.session.scalars(sa.select(School))}
    for row in parsed:
        school = existing.get((row["district"], row["name"]))
        if school is None:
            school = School(district=row["district"], name=row["name"])
            db.session.add(school)
            result.created += 1
        else:
            result.updated += 1
        school.kind = row["kind"]
        school.address = row["address"]
        school.lat, school.lon, school.radius_m = row["lat"], row["lon"], row["radius_m"]
        if row["inspectors"]:
            others = [u for u in school.assigned_users if u.role is not Role.INSPECTOR]
            school.assigned_users = others + row["inspectors"]
    return result


# The columns of the template offered for download, in the order the import reads best.
TEMPLATE_HEADER = ("区县/街道", "学校名称", "类型", "地址", "纬度", "经度", "半径（米）", "责任督学")


def template_csv() -> bytes:
    """The register's empty sheet: UTF-8 with a BOM, so Excel opens the Chinese headers as text."""
    out = io.StringIO(newline="")
    csv.writer(out).writerow(TEMPLATE_HEADER)
    return "\ufeff".encode() + out.getvalue().encode()


# ---- Who checks a school --------------------------------------------------------------------------
def conflicting_schools(role: Role, children: set[int], assigned: set[int]) -> set[int]:
    """The conflict-of-interest rule, asked from both sides (assigning a school, naming a child's
    school): a volunteer is never sent to check a school their own child attends."""
    return children & assigned if role is Role.VOLUNTEER else set()


def set_assignments(school: School, users: list[User], viewer: User) -> None:
    """A school's responsible inspectors and assigned volunteers, in one go (caller commits)."""
    wrong = [u for u in users if u.role not in ASSIGNEE_ROLES or not u.active]
    if wrong:
        raise DomainError(_("Choose from the listed people."), 422, "user_ids")
    conflicted = [u for u in users if conflicting_schools(u.role, child_school_ids(u), {school.id})]
    if conflicted:
        raise DomainError(_("%(name)s has a child at this school and cannot be assigned to check it.",
                            name=conflicted[0].name_for(viewer)), 409, "user_ids")
    school.assigned_users = users


# ---- Nearby schools -------------------------------------------------------------------------------
def parse_near(value: str | None) -> tuple[float, float] | None:
    """"31.9088,120.2791" from the phone, or None for anything else (then the list keeps its order)."""
    parts = (value or "").split(",")
    place = or_none(lambda p: parse_location(*p), parts) if len(parts) == 2 else None
    return (place.lat, place.lon) if place else None


def nearest_first(query: sa.Select, lat: float, lon: float) -> sa.Select:
    """Order by distance from (lat, lon): a flat-earth distance in SQL (plain arithmetic, the same on
    SQLite and PostgreSQL), exact enough to rank schools a few kilometres around a phone."""
    squeeze = math.cos(math.radians(lat))  # a degree of longitude is shorter away from the equator
    d_lat, d_lon = School.lat - lat, (School.lon - lon) * squeeze
    return query.order_by(None).order_by(d_lat * d_lat + d_lon * d_lon, School.id)


def distances_m(schools: list[School], lat: float, lon: float) -> dict[int, float]:
    """Each school's distance in metres, for the few on the page (geodesic, as the visit flags are)."""
    from geopy.distance import geodesic
    return {s.id: geodesic((lat, lon), (s.lat, s.lon)).meters for s in schools}
