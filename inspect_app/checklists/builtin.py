"""The templates the product ships, written from the seed documents (shared/seeds):
000 (Jiangyin inspection duties), 002 (Xuchang: 27 plans and rules), 003 (joint-prevention plans:
gate procedure, canteen, dorms), 004 (Nanchang second round: the 13-point check).
The parents' overt visit (PARENT_OVERT) follows 000's 100 parent volunteers "明查暗访" and 003's gate,
canteen and hygiene rules, as far as a parent let in openly can see them.

Installed by `flask checklists install` (and `flask demo`); a template already present is left as it
is, because admins may have published newer versions of it.
"""
from inspect_app.checklists.models import Severity as S, VisitMode as M

# (code, section_zh, section_en, text_zh, text_en, guidance_zh, severity, photo_required, deadline_hours)
ONSITE = [
    ("G1", "校门管理", "School gate", "校门设置体温检测点，入校人员“一测二问三登记”落实到位",
     "Gate temperature point; everyone entering is measured, asked and registered",
     "现场观察入校流程：测体温、问行程与健康状况、登记信息，三步缺一即为不合格。", S.MAJOR, True, 24),
    ("G2", "校门管理", "School gate", "落实“五个一律”：校外无关人员一律不准进校门",
     "Unrelated outsiders are never let in", "尝试以访客身份进入或观察门卫对外来人员的处理。", S.MAJOR, False, 24),
    ("G3", "校门管理", "School gate", "师生进入校门一律核验身份和检测体温",
     "Identity and temperature are checked for every student and staff member", "", S.MAJOR, False, 24),
    ("G4", "校门管理", "School gate", "入校登记簿（或电子登记）记录完整、可追溯",
     "Entry register is complete and traceable", "抽查当日登记记录，看姓名、时间、体温、事由是否齐全。", S.MINOR, True, 72),
    ("G5", "校门管理", "School gate", "校门口无人员聚集，上下学错峰安排落实",
     "No crowding at the gate; staggered arrival and departure", "", S.MINOR, False, 72),
    ("C1", "校园封闭管理", "Closed campus", "实行校园封闭管理，校门有专人值守",
     "Campus is closed and the gate is staffed at all times", "", S.MAJOR, False, 24),
    ("C2", "校园封闭管理", "Closed campus", "学生未经学校批准不得提前返校、不得随意离校",
     "Students do not return early or leave without approval", "", S.MINOR, False, 72),
    ("I1", "临时隔离室", "Isolation room", "设置独立的临时隔离室（观察点），位置相对独立、通风良好",
     "A separate, well-ventilated temporary isolation room exists", "", S.CRITICAL, True, 24),
    ("I2", "临时隔离室", "Isolation room", "隔离室配备口罩、手套、防护服、体温计、消毒用品等",
     "Isolation room is stocked with masks, gloves, gowns, thermometers and disinfectant", "", S.MAJOR, True, 24),
    ("I3", "临时隔离室", "Isolation room", "发热师生处置流程明确，与医疗机构对接畅通",
     "Clear procedure for a feverish person, with a named clinic contact", "", S.MAJOR, False, 48),
    ("D1", "消毒与通风", "Disinfection and ventilation", "教室、食堂、图书馆、实验室、宿舍等重点场所每日消毒并有记录",
     "Classrooms, canteen, library, labs and dorms are disinfected daily, with records",
     "查阅消毒记录：日期、场所、消毒剂、操作人、签字。", S.MAJOR, True, 48),
    ("D2", "消毒与通风", "Disinfection and ventilation", "门把手、课桌椅、楼梯扶手等高频接触物体表面每日消毒",
     "High-touch surfaces are disinfected daily", "", S.MINOR, False, 48),
    ("D3", "消毒与通风", "Disinfection and ventilation", "教室、办公室等室内场所定时开窗通风并有记录",
     "Rooms are aired at set times, with records", "", S.MINOR, False, 48),
    ("D4", "消毒与通风", "Disinfection and ventilation", "按要求开展重点场所环境采样",
     "Environmental sampling of key places is done as required", "", S.MINOR, False, 72),
    ("K1", "食堂", "Canteen", "食堂实行错峰就餐，就餐间隔符合要求",
     "Staggered meals with enough distance between diners", "", S.MAJOR, True, 48),
    ("K2", "食堂", "Canteen", "食堂工作人员佩戴口罩、穿工作服，健康证齐全",
     "Canteen staff wear masks and work clothes and hold health certificates", "", S.MAJOR, True, 48),
    ("K3", "食堂", "Canteen", "食品进货查验和留样台账完整", "Food purchase checks and sample ledger are complete",
     "", S.MAJOR, False, 72),
    ("R1", "教室", "Classrooms", "教室保持清洁，垃圾及时清理，座位间隔合理",
     "Classrooms are clean, rubbish cleared, seats spaced", "", S.MINOR, False, 72),
    ("R2", "教室", "Classrooms", "洗手设施完好，配备洗手液或速干手消毒剂",
     "Hand-washing points work and have soap or sanitiser", "", S.MINOR, True, 48),
    ("W1", "学生宿舍", "Dormitories", "宿舍严禁外来人员进入，有专人管理和检查",
     "No outsiders in dorms; a named person manages and checks them", "", S.MAJOR, False, 48),
    ("W2", "学生宿舍", "Dormitories", "宿舍勤通风、勤打扫，学生不聚集、不串门",
     "Dorms aired and cleaned often; no gathering or visiting between rooms", "", S.MINOR, False, 72),
    ("H1", "健康监测", "Health monitoring", "落实学生晨午检制度，记录完整",
     "Morning and noon health checks are done and recorded", "抽查当日晨午检记录。", S.MAJOR, True, 24),
    ("H2", "健康监测", "Health monitoring", "落实因病缺勤登记和病因追踪",
     "Absences for illness are registered and followed up", "", S.MAJOR, False, 48),
    ("H3", "健康监测", "Health monitoring", "复学证明查验制度落实到位", "Return-to-school certificates are checked",
     "", S.MINOR, False, 72),
    ("H4", "健康监测", "Health monitoring", "按时执行“日报告、零报告”", "Daily and zero reports are sent on time",
     "", S.MAJOR, False, 24),
    ("P1", "防控物资与人员防护", "Supplies and staff protection", "口罩、消毒剂、额温枪等防控物资储备充足",
     "Enough masks, disinfectant and thermometers in stock", "", S.MAJOR, True, 48),
    ("P2", "防控物资与人员防护", "Supplies and staff protection", "门卫、保洁、食堂等工作人员工作期间佩戴口罩",
     "Gate, cleaning and canteen staff wear masks on duty", "", S.MINOR, False, 24),
    ("P3", "防控物资与人员防护", "Supplies and staff protection", "开展防控知识宣传教育（宣传栏、主题班会等）",
     "Prevention education is visible (boards, class meetings)", "", S.MINOR, False, 72),
]

COVERT = [
    ("V1", "校门（上学、放学时段）", "Gate at drop-off and pick-up", "入校时有人测体温、问询并登记",
     "People entering are measured, asked and registered", "只记录在校门外能看到的情况，不要进入校园。", S.MAJOR, False, 24),
    ("V2", "校门（上学、放学时段）", "Gate at drop-off and pick-up", "外来人员（含家长）不能随意进入校园",
     "Outsiders, parents included, cannot walk in", "", S.MAJOR, False, 24),
    ("V3", "校门（上学、放学时段）", "Gate at drop-off and pick-up", "校门口无明显人员聚集",
     "No obvious crowding at the gate", "", S.MINOR, True, 48),
    ("V4", "校门（上学、放学时段）", "Gate at drop-off and pick-up", "门卫和值守人员佩戴口罩",
     "Gate staff wear masks", "", S.MINOR, False, 24),
    ("V5", "校门（上学、放学时段）", "Gate at drop-off and pick-up", "错峰上下学安排得到执行",
     "Staggered times are kept", "", S.MINOR, False, 72),
    ("V6", "校园周边", "Around the school", "校门外张贴防控须知或宣传材料",
     "Prevention notices are posted at the gate", "", S.MINOR, False, 72),
    ("V7", "校园周边", "Around the school", "校园周边无聚集性活动或违规开展的线下培训",
     "No gatherings or unlawful in-person tutoring near the school", "", S.MAJOR, True, 48),
    ("V8", "家长所见", "What parents hear", "学校按要求向家长发布健康监测和返校要求",
     "The school tells parents about health checks and return rules", "根据孩子或家长群收到的通知判断。", S.MINOR, False, 72),
    ("V9", "家长所见", "What parents hear", "孩子反映每天有晨午检",
     "Children say they are checked every morning and noon", "", S.MINOR, False, 72),
]

# A parent volunteer let in openly as a parent supervisor (明查): what a parent can see on a walk
# through gate, canteen and washrooms, and ask the staff; no records to audit, no rooms to open.
PARENT_OVERT = [
    ("PG1", "校门", "Gate", "家长进校时被测体温、询问并登记（“一测二问三登记”）",
     "As a parent you were measured, asked and registered on the way in",
     "说明家长监督员身份后，留意门卫是否仍按规定核验，不因身份放行。", S.MAJOR, False, 24),
    ("PG2", "校门", "Gate", "外卖、快递等校外人员不能进入校园",
     "Delivery couriers and other outsiders are kept out", "", S.MAJOR, False, 24),
    ("PG3", "校门", "Gate", "门卫、值守人员佩戴口罩，在岗值守",
     "Gate staff are on duty and wear masks", "", S.MINOR, False, 24),
    ("PC1", "食堂", "Canteen", "学生错峰就餐，排队时保持间距",
     "Students eat in staggered shifts and keep their distance in line", "在就餐时段观察，不拍摄学生正脸。", S.MAJOR, True, 48),
    ("PC2", "食堂", "Canteen", "食堂工作人员穿工作服、戴口罩，工作服清洁",
     "Canteen staff wear clean work clothes and masks", "", S.MAJOR, False, 24),
    ("PC3", "食堂", "Canteen", "餐桌椅、地面和餐具清洁，餐余垃圾及时清理",
     "Tables, floor and tableware are clean; food waste is cleared promptly", "", S.MINOR, True, 48),
    ("PC4", "食堂", "Canteen", "有就餐、消毒记录台账，食材进货查验有记录",
     "Meal and disinfection records, and checked-in food deliveries, are kept", "可请食堂负责人出示台账。", S.MINOR, False, 72),
    ("PH1", "卫生", "Hygiene", "教室、走廊开窗通风，无异味",
     "Classrooms and corridors are aired, no bad smell", "", S.MINOR, False, 48),
    ("PH2", "卫生", "Hygiene", "洗手设施运行良好，有洗手液或肥皂",
     "Hand-washing points work and have soap", "", S.MAJOR, True, 24),
    ("PH3", "卫生", "Hygiene", "厕所清洁，垃圾及时清理",
     "Toilets are clean and rubbish is cleared", "", S.MINOR, True, 48),
    ("PH4", "卫生", "Hygiene", "门把手、楼梯扶手等高频接触处有日常消毒安排",
     "Door handles, stair rails and other touch points are disinfected daily", "可询问保洁人员消毒时间和记录。", S.MINOR, False, 72),
]

MECHANISM_13 = [
    ("M01", "组织领导", "Leadership", "学习传达上级关于疫情防控的指示和部署，并有落实记录",
     "Higher-level instructions were studied, passed on and acted upon", "", S.MINOR, False, 72),
    ("M02", "组织领导", "Leadership", "成立疫情防控工作领导小组，建立工作机制，责任层层压实",
     "A prevention leading group exists with clear responsibilities", "", S.MAJOR, False, 72),
    ("M03", "方案预案", "Plans", "制定疫情防控工作方案、应急预案和开学防控预案并落实",
     "Prevention plan, emergency plan and reopening plan exist and are applied", "", S.MAJOR, False, 72),
    ("M04", "值班值守", "Duty", "建立24小时应急值班值守机制，落实“五个一律”",
     "24-hour duty and the five rules at the gate", "", S.MAJOR, False, 48),
    ("M05", "信息报送", "Reporting", "排查掌握师生健康信息，执行“日报告、零报告”和重大情况第一时间报告",
     "Health information tracked; daily and zero reports; immediate reports of serious events", "", S.MAJOR, False, 48),
    ("M06", "早发现早隔离", "Early detection", "落实“早发现、早报告、早隔离、早治疗”，设置独立隔离区并与医疗机构对接",
     "Early detection and isolation with a separate area and a clinic contact", "", S.CRITICAL, False, 24),
    ("M07", "人文关怀", "Care", "开展学生思想引导和心理疏导，关爱一线医务人员子女",
     "Guidance and psychological support, care for children of front-line medics", "", S.MINOR, False, 72),
    ("M08", "停止聚集", "No gatherings", "禁止师生聚集性活动，停止线下培训",
     "Gatherings banned; in-person tutoring stopped", "", S.MAJOR, False, 48),
    ("M09", "线上教学", "Online teaching", "落实“停课不停教不停学”，线上教学规范有序",
     "Online teaching runs properly while classes are suspended", "", S.MINOR, False, 72),
    ("M10", "物资保障", "Supplies", "防控物资、药品等应急储备充足，后勤保障到位",
     "Emergency supplies and logistics are sufficient", "", S.MAJOR, True, 48),
    ("M11", "错峰开学", "Staggered reopening", "制定错时开学、错峰返校工作方案",
     "A plan for staggered reopening and return exists", "", S.MINOR, False, 72),
    ("M12", "宣传教育", "Publicity", "及时发布信息、宣传防控知识，总结特色亮点工作",
     "Information and prevention knowledge published; good practice written up", "", S.MINOR, False, 72),
    ("M13", "问题整改", "Rectification", "上一轮督查反馈问题已整改到位",
     "Problems from the previous round have been rectified", "对照上一轮整改单逐项核实。", S.MAJOR, False, 48),
]

_BUREAU_DOCS = [
    "关于做好校外培训机构疫情防控工作的紧急通知",
    "关于进一步做好校外培训机构疫情防控工作的紧急通知",
    "教育系统疫情防控Ⅰ级应急响应工作预案",
    "各类学校加强疫情防控工作指南",
    "疫情防控期间开展网上教学工作的实施方案",
    "幼儿园延期开学期间网络在线辅教辅学的通知",
    "教育系统落实疫情防控工作主体责任和监督责任的通知",
    "疫情防控工作专项督导检查的通知",
    "教育系统疫情防控后勤保障工作的通知",
]
_SCHOOL_DOCS = [
    ("疫情防控期间学校教学方案（含网上教学）", "Teaching plan during the epidemic (incl. online)"),
    ("学校突发公共卫生事件应急方案", "Public-health emergency plan"),
    ("开学前准备工作方案", "Pre-opening preparation plan"),
    ("学校分批开学方案（包括人员密集场所的管理）", "Staged reopening plan (incl. crowded places)"),
    ("师生假期行踪和身体的健康状况排查制度", "Holiday travel and health screening rule"),
    ("卫生安全防护教育预案（包含开学第一课）", "Health-protection education plan (incl. first lesson)"),
    ("加强校园卫生安全管理预案", "Campus hygiene and safety plan"),
    ("公共场所消毒防疫工作预案", "Disinfection plan for shared places"),
    ("督导检查工作预案", "Internal inspection plan"),
    ("学校联防联控工作制度", "Joint prevention and control rule"),
    ("传染病疫情及突发公共卫生事件的报告制度", "Reporting rule for outbreaks and emergencies"),
    ("学生晨午检制度", "Morning and noon check rule"),
    ("因病缺勤登记、病因追踪制度", "Sick-absence registration and follow-up rule"),
    ("复学证明查验制度", "Return-to-school certificate rule"),
    ("学生健康管理制度", "Student health management rule"),
    ("环境卫生检查通报制度", "Environmental hygiene inspection rule"),
    ("通风、消毒制度", "Ventilation and disinfection rule"),
    ("传染病防控健康教育制度", "Infectious disease health education rule"),
]
PLANS_27 = (
    [(f"D{n:02d}", "上级文件传达落实", "Higher-level documents",
      f"已传达并落实《{title}》", f"Higher-level document {n} received and acted upon",
      "查看传达记录和落实情况。", S.MINOR, False, 168) for n, title in enumerate(_BUREAU_DOCS, start=1)]
    + [(f"D{n:02d}", "学校方案与制度", "School plans and rules", f"已制定《{zh}》并落实",
        f"{en}: written and applied", "查看文本、印发记录和执行痕迹。", S.MINOR, False, 168)
       for n, (zh, en) in enumerate(_SCHOOL_DOCS, start=len(_BUREAU_DOCS) + 1)]
)

SELF_CHECK = [
    ("S1", "今日情况", "Today", "今日校门“一测二问三登记”正常运行", "Gate procedure ran normally today",
     "", S.MAJOR, False, 24),
    ("S2", "今日情况", "Today", "今日晨午检已完成，发现异常已按规定处置", "Morning and noon checks done; anything unusual handled",
     "", S.MAJOR, False, 24),
    ("S3", "今日情况", "Today", "今日因病缺勤已登记并追踪病因", "Today's sick absences registered and followed up",
     "", S.MAJOR, False, 24),
    ("S4", "今日情况", "Today", "今日重点场所已消毒并记录", "Key places disinfected today, with records", "", S.MINOR, False, 24),
    ("S5", "今日情况", "Today", "今日教室等场所已按时通风", "Rooms aired on time today", "", S.MINOR, False, 24),
    ("S6", "今日情况", "Today", "临时隔离室处于可用状态，物资齐全", "Isolation room ready and stocked", "", S.MAJOR, False, 24),
    ("S7", "今日情况", "Today", "食堂错峰就餐，工作人员防护到位", "Canteen staggered; staff protected", "", S.MINOR, False, 24),
    ("S8", "今日情况", "Today", "防控物资储备充足", "Supplies sufficient", "", S.MINOR, False, 48),
    ("S9", "今日情况", "Today", "今日无发热或疑似病例（有则已报告）", "No fever or suspected case today (or reported)",
     "如有，请在备注中写明处置和报告情况。", S.CRITICAL, False, 24),
]

# Templates whose every item is shown rectified by a document (ChecklistItem.document_evidence).
DOCUMENT_TEMPLATES = {"plans27"}

BUILTIN = [
    ("onsite", "现场防控检查", "On-site prevention check", {M.OVERT}, ONSITE),
    ("covert", "家长志愿者暗访", "Covert check (volunteers)", {M.COVERT}, COVERT),
    ("mechanism13", "第二轮督查十三项机制检查", "13-point mechanism check", {M.OVERT}, MECHANISM_13),
    ("plans27", "二十七项方案制度查验", "27 plans and rules check", {M.OVERT}, PLANS_27),
    ("selfcheck", "学校每日自查", "School daily self-check", {M.SELF_CHECK}, SELF_CHECK),
    # Offered to volunteers only, and to them only for an overt visit (checklists.models.ROLE_TEMPLATES).
    ("parent_overt", "家长进校观察（校门·食堂·卫生）", "Parent's visit: gate, canteen, hygiene", {M.OVERT}, PARENT_OVERT),
]
