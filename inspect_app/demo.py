"""The demo city: one county-level city (Jiangyin, as in the source documents), ~30 schools.

Loaded only by `flask demo`; running it again updates in place and never duplicates.
"""
import sqlalchemy as sa

from inspect_app.accounts.models import Role, User
from inspect_app.extensions import db
from inspect_app.schools.models import School, SchoolKind

DEMO_PASSWORD = "demo-pass-1"

K = SchoolKind
# (district, name, kind, address, lat, lon)
SCHOOLS = [
    ("澄江街道", "江阴市实验小学", K.PRIMARY, "江阴市澄江中路89号", 31.9087, 120.2790),
    ("澄江街道", "江阴市南菁高级中学", K.SENIOR_HIGH, "江阴市人民东路188号", 31.9046, 120.2956),
    ("澄江街道", "江阴市第一中学", K.JUNIOR_HIGH, "江阴市虹桥南路58号", 31.9012, 120.2697),
    ("澄江街道", "江阴市城中实验小学", K.PRIMARY, "江阴市君山路18号", 31.9161, 120.2843),
    ("澄江街道", "江阴市澄江中心幼儿园", K.KINDERGARTEN, "江阴市朝阳路66号", 31.9129, 120.2733),
    ("澄江街道", "江阴市特殊教育学校", K.SPECIAL, "江阴市长山大道12号", 31.8952, 120.3101),
    ("南闸街道", "江阴市南闸实验学校", K.NINE_YEAR, "江阴市南闸街道观山路3号", 31.8613, 120.2952),
    ("南闸街道", "江阴市南闸中心幼儿园", K.KINDERGARTEN, "江阴市南闸街道东大街21号", 31.8588, 120.2881),
    ("云亭街道", "江阴市云亭中学", K.JUNIOR_HIGH, "江阴市云亭街道定山路6号", 31.8889, 120.3502),
    ("云亭街道", "江阴市云亭中心小学", K.PRIMARY, "江阴市云亭街道澄杨路101号", 31.8851, 120.3438),
    ("夏港街道", "江阴市夏港中学", K.JUNIOR_HIGH, "江阴市夏港街道夏港路55号", 31.9091, 120.2203),
    ("夏港街道", "江阴市夏港实验小学", K.PRIMARY, "江阴市夏港街道滨江西路9号", 31.9148, 120.2139),
    ("申港街道", "江阴市申港中学", K.JUNIOR_HIGH, "江阴市申港街道申港大道77号", 31.9002, 120.1611),
    ("利港街道", "江阴市利港实验小学", K.PRIMARY, "江阴市利港街道利中路19号", 31.9239, 120.1138),
    ("璜土镇", "江阴市璜土中学", K.JUNIOR_HIGH, "江阴市璜土镇璜石路2号", 31.9305, 120.0522),
    ("璜土镇", "江阴市璜土实验小学", K.PRIMARY, "江阴市璜土镇花园路36号", 31.9268, 120.0589),
    ("月城镇", "江阴市月城中学", K.JUNIOR_HIGH, "江阴市月城镇月城路11号", 31.8370, 120.2378),
    ("青阳镇", "江阴市青阳中学", K.JUNIOR_HIGH, "江阴市青阳镇迎宾路88号", 31.8003, 120.2885),
    ("青阳镇", "江阴市青阳实验小学", K.PRIMARY, "江阴市青阳镇人民路5号", 31.7966, 120.2822),
    ("徐霞客镇", "江阴市徐霞客中学", K.JUNIOR_HIGH, "江阴市徐霞客镇璜塘路30号", 31.7867, 120.3502),
    ("徐霞客镇", "江阴市峭岐实验小学", K.PRIMARY, "江阴市徐霞客镇峭岐振兴路16号", 31.8122, 120.3871),
    ("华士镇", "江阴市华士高级中学", K.SENIOR_HIGH, "江阴市华士镇华西大道100号", 31.8322, 120.4506),
    ("华士镇", "江阴市华士实验小学", K.PRIMARY, "江阴市华士镇勤丰路25号", 31.8288, 120.4437),
    ("周庄镇", "江阴市周庄中学", K.JUNIOR_HIGH, "江阴市周庄镇长寿路8号", 31.8551, 120.3992),
    ("新桥镇", "江阴市新桥中心小学", K.PRIMARY, "江阴市新桥镇新华路17号", 31.8155, 120.4710),
    ("长泾镇", "江阴市长泾中学", K.JUNIOR_HIGH, "江阴市长泾镇东大街50号", 31.7651, 120.4722),
    ("顾山镇", "江阴市顾山中心小学", K.PRIMARY, "江阴市顾山镇北国路3号", 31.8064, 120.5341),
    ("祝塘镇", "江阴市祝塘中学", K.JUNIOR_HIGH, "江阴市祝塘镇文化路12号", 31.7596, 120.4108),
    ("澄江街道", "江阴中等专业学校", K.VOCATIONAL, "江阴市虹桥北路2号", 31.9221, 120.2640),
    ("澄江街道", "江阴市启航课外培训中心", K.TRAINING, "江阴市人民中路228号", 31.9060, 120.2830),
]

# (username, role, display name, pseudonym, index of the school for duty officers)
ACCOUNTS = [
    ("admin", Role.ADMIN, "系统管理员", None, None),
    ("leader", Role.LEADER, "王局长", None, None),
    ("inspector", Role.INSPECTOR, "李督学", None, None),
    ("inspector2", Role.INSPECTOR, "陈督学", None, None),
    ("volunteer", Role.VOLUNTEER, "赵家长", "志愿者07", None),
    ("officer", Role.DUTY_OFFICER, "周老师", None, 0),
    ("officer2", Role.DUTY_OFFICER, "吴老师", None, 1),
]


def load_demo() -> dict[str, int]:
    """Create or update the demo schools and accounts (the caller commits)."""
    existing = {(s.district, s.name): s for s in db.session.scalars(sa.select(School))}
    schools: list[School] = []
    created = 0
    for district, name, kind, address, lat, lon in SCHOOLS:
        school = existing.get((district, name))
        if school is None:
            school = School(district=district, name=name)
            db.session.add(school)
            created += 1
        school.kind, school.address, school.lat, school.lon = kind, address, lat, lon
        school.radius_m = school.radius_m or 200
        schools.append(school)
    db.session.flush()

    users = {u.username: u for u in db.session.scalars(
        sa.select(User).where(User.username.in_([a[0] for a in ACCOUNTS])))}
    for username, role, display_name, pseudonym, school_index in ACCOUNTS:
        user = users.get(username)
        if user is None:
            user = User(username=username)
            db.session.add(user)
            users[username] = user
        user.role, user.display_name, user.pseudonym = role, display_name, pseudonym
        if role is Role.VOLUNTEER:  # the demo's parent too: the real name only sealed
            user.seal_identity(display_name, None)
        user.school_id = schools[school_index].id if school_index is not None else None
        user.manages_volunteers = role is Role.ADMIN
        user.active = True
        user.disabled_at = None
        user.set_password(DEMO_PASSWORD)

    # Responsible inspectors split the city; the volunteer is assigned a handful of schools.
    for index, school in enumerate(schools):
        keep = [u for u in school.assigned_users if u.username not in users]
        inspector = users["inspector"] if index % 2 == 0 else users["inspector2"]
        extra = [users["volunteer"]] if index in (2, 3, 8, 10, 17) else []
        school.assigned_users = keep + [inspector] + extra
    return {"schools": len(schools), "created": created, "accounts": len(ACCOUNTS)}
