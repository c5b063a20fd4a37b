"""Every button a person can press, on every page as every role, says in Chinese what it does (the crawl
that checks it is tests/core/test_zh_everywhere.py's, which renders every page once for both checks).

Each label on a button (or a link styled as one) must be in LABELS with what it does: a label that
says something else ("首页" on the button that starts a covert check) or a new button nobody has
read yet fails the crawl until it is looked at and written down.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

# Every label a button may carry, with what pressing it does. "N" stands for a number in the label.
LABELS = {
    "新建计划": "open the form for a new sealed visit plan (leaders, admins)",
    "安排回避本校": "recuse the chosen inspector from this school, with the reason (admins, leaders; audited)",
    "解除回避": "lift an inspector's recusal from this school (admins, leaders; audited)",
    "重新派出错过的检查": "send a plan's missed tasks again, to someone who may go (planners; audited)",
    "抽取回头看任务": "draw a sealed plan of follow-up visits (回头看) at every school with responded tickets",
    "维持问责": "uphold an accountability review (一案双查), with the leader's note",
    "不予问责": "dismiss an accountability review, with the leader's note",
    "抽取计划": "draw the sealed plan: score the schools, draw them and create the tasks",
    "修改密码": "change one's own password (the current one first)",
    "保存账号": "save the admin's changes to an account",
    "保存子女就读学校": "the coordinator records a volunteer's children's schools now (a child changed school)",
    "重置密码": "give the account a temporary password, end its sessions, force a change at next sign-in",
    "下载空白模板": "download the school register's empty CSV sheet to fill in",
    "较早": "the audit trail's next page of older entries", "较新": "the audit trail's page of newer entries",
    "English": "switch the interface to English", "简体中文": "switch the interface to Chinese",
    "通报": "open the signed daily report's circular (whom it names, who has read it)",
    "发出通报": "send the circular to the leaders and, as its own excerpt, to every school (asks first)",
    "Excel": "download the daily report as a spreadsheet", "PDF": "download the daily report, or a hand-over sheet, as PDF",
    "下发交办单": "number the visit's hand-over sheet and notify the school to sign for it",
    "签收": "the school's duty officer signs for a hand-over sheet (records who and when)",
    "交办单": "open the visit's hand-over sheet",
    "整改反馈": "download the school's reports on a hand-over sheet's problems as one PDF (整改反馈)",
    "下载 CSV": "download the chosen records as CSV", "下载 Excel": "download the chosen records as XLSX",
    "数据导出": "open the export page", "每日专报": "open the daily report", "地图": "open the coverage map",
    "查看学校": "open the school's page from its popup on the map",
    "导航前往": "open the phone's own map app with the way to the school (a geo: link)",
    "重试": "load the map's schools again after a failed attempt",
    "显示": "apply the filters (exports; district and days on the map)",
    "导入学校": "open the school register import (the map with no schools yet)",
    "上传": "upload the chosen photo (only without the phone script)",
    "保存": "save the finding (only without the phone script)",
    "合格": "answer the item: pass", "不合格": "answer the item: fail", "不适用": "answer the item: n/a",
    "提交": "submit the visit (asks first); send a public complaint",
    "我要反映问题": "open the public complaint form for this school (no account)",
    "查看办理进度": "open the complaint's tracking page", "查询": "look up a complaint by its tracking code",
    "交学校整改": "hand the complaint to the school as a ticket", "安排核查": "assign an unannounced check",
    "不予受理": "reject the complaint with the public reason", "登记来电来信": "open the form to log a call or letter",
    "保存并显示跟踪码": "save a hotline or letter complaint and show its code", "立即同步": "send what is waiting on the phone now",
    "添加表中没有的问题": "add a problem that is not on the checklist",
    "开始": "start a volunteer's note at this school", "开始暗访": "start a covert check",
    "开始检查": "start an overt inspection",
    "开始回头看": "start a follow-up visit (回头看) re-checking the school's tickets (only where some await it)",
    "以家长身份开始": "start a volunteer's open visit (明查) at this school", "开始电话督导": "start a remote check (by phone)", "查看今日自查": "open today's submitted self-check",
    "今日自查": "start the school's daily self-check",
    "继续检查": "continue the visit in progress here", "继续": "continue a volunteer's note in progress",
    "放弃草稿": "discard the visit in progress (asks first)",
    "离线备用": "keep this school's start pages on the phone for offline use",
    "附近学校": "list schools nearest to the phone's position", "搜索": "search schools",
    "打开相机": "open the in-app QR scanner", "回头看": "open the follow-up queue",
    "确认整改（销号）": "close out the ticket after re-checking (asks first)",
    "退回": "send the ticket back with a new deadline",
    "提交整改情况": "the school reports its rectification",
    "全部标为已读": "mark every notice as read", "返回首页": "go to the home page",
    "退出登录": "sign out of this browser", "在所有设备上退出": "sign out on every device",
    "我的检查": "list my visits", "我的记录": "list my notes (a volunteer's visits)", "登录": "sign in", "工作人员登录": "go to the staff sign-in",
    "保存安排": "save the school's assigned inspectors and volunteers", "停用": "disable the account",
    "启用": "enable the account", "创建账号": "create the account", "新建账号": "open the new-account form",
    "编辑": "edit the checklist", "发布新版本": "publish a new checklist version", "导入": "import schools",
    "打印二维码海报": "print this school's QR poster", "打印全部二维码": "print every school's poster",
    "更换二维码": "issue a new QR code for the school", "查看真实姓名": "reveal a volunteer's real name (logged)",
    "清除登录失败记录": "clear a locked-out user's failed sign-ins", "校验记录链": "verify the audit chain",
    "零报告（今日无异常）": "file the school's zero report for the day in one tap",
    "学校日报告汇总": "open the bureau's day view of the schools' daily reports",
    "报送": "file the school's daily report with its numbers", "报送更正": "file a correction (a new version)",
    "签发专报": "sign and freeze the daily report (asks first; shown disabled before its 16:00)",
    "生成邀请": "issue single-use volunteer invitations and show their QR codes once",
    "撤回": "withdraw an unused volunteer invitation", "志愿者邀请": "open the volunteer invitations list",
    "志愿者": "open the coordinator's volunteer roster", "同意并加入": "accept the agreement and register as a volunteer",
    "布置任务": "give the volunteer a dated task at a school", "停用志愿者": "deactivate a volunteer (asks first)",
}
# What a volunteer's screen must never say to someone glancing at it (the disguise).
GIVEAWAYS = ("检查", "暗访", "督查", "志愿者")


class _Buttons(HTMLParser):
    def __init__(self):
        super().__init__()
        self.labels: list[str] = []
        self._open: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self._open is None and (tag == "button" or (tag == "a" and "button" in classes)):
            self._open, self._depth = [], 0
            self._tag = tag
        elif self._open is not None and tag == self._tag:
            self._depth += 1

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._tag:
            if self._depth:
                self._depth -= 1
                return
            label = re.sub(r"\s+", " ", "".join(self._open)).strip()
            if label:
                self.labels.append(label)
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)


def labels_on(html: str) -> set[str]:
    parser = _Buttons()
    parser.feed(html)
    # Counts and names inside a label ("跟进核查（3 项待核查）", a school's name) are data.
    return {re.sub(r"\d+", "N", label) for label in parser.labels}


def test_the_parser_reads_buttons_and_button_links():
    html = """<button type="submit" class="choice">合格</button><a class="button primary" href="/x">
      继续检查</a><a href="/y">plain link</a><button><span>跟进</span>（3 项）</button>"""
    assert labels_on(html) == {"合格", "继续检查", "跟进（N 项）"}
