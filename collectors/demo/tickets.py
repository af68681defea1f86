"""The demo engagement's tickets: a recorded Jira site (runbook executions and three incident drills).

`build_demo` serves these issues (collectors/demo/jira_replay.py) to the real Jira collector once, with
`collect --record`, into the demo's `recordings/`; the engagement file's `[[sources.jira]]` has
`replay = "recordings"`, so `python -m collectors collect` replays them with no server.

The story: early runbook executions are done by internal people but prompted by the vendor (a
comment, a tick), one is executed by the vendor, later ones are unprompted; three drills — a vendor-led
pass, an internal fail past SLA, an internal pass with a postmortem. `INTENDED_*` are written by hand.
"""

from __future__ import annotations

JIRA_IDS = {  # roster name -> Jira account ids (emails are hidden in Jira Cloud)
    "Marco Bianchi": "5b10ac8d82e05b22cc7d0001",
    "Sofia Lindqvist": "5b10ac8d82e05b22cc7d0002",
    "Tom Becker": "5b10ac8d82e05b22cc7d0003",
    "Ines Ortiz": "5b10ac8d82e05b22cc7d0004",
    "Ivan Kowalski": "5b10ac8d82e05b22cc7d0005",
    "Priya Nair": "5b10ac8d82e05b22cc7d0006",
}
BASE_URL = "https://fraud-model.atlassian.net"
STATUSES = [
    {"id": "10000", "name": "To Do", "statusCategory": {"key": "new"}},
    {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
    {"id": "10001", "name": "Done", "statusCategory": {"key": "done"}},
]
_STATUS = {s["id"]: s for s in STATUSES}
_AUTOMATION = {"accountId": "557058:automation", "displayName": "Automation for Jira", "accountType": "app"}

# week -> (started, completed, internal, vendor, unprompted_internal, items_checked, items_total, value)
INTENDED_RUNBOOK_WEEKLY = {
    2: (1, 1, 1, 0, 0, 4, 4, 0.0),
    3: (2, 2, 1, 1, 0, 6, 6, 0.0),
    5: (1, 1, 1, 0, 1, 3, 3, 1.0),
    6: (1, 1, 1, 0, 1, 3, 3, 1.0),
    7: (1, 1, 1, 0, 1, 3, 3, 1.0),
    8: (1, 0, 0, 0, 0, 0, 0, None),
}
# week -> (drills, internal, vendor, passes, internal_passes, value)
INTENDED_DRILL_WEEKLY = {
    2: (1, 0, 1, 1, 0, 0.0),
    4: (1, 1, 0, 0, 0, 0.0),
    7: (1, 1, 0, 1, 1, 1.0),
}


def _user(name: str) -> dict:
    return {"accountId": JIRA_IDS[name], "displayName": name, "accountType": "atlassian", "active": True}


def _ts(when: str) -> str:
    """'2026-09-15 10:00' (UTC) as Jira writes it, in the site's +0200 offset."""
    day, clock = when.split(" ")
    hour, minute = map(int, clock.split(":"))
    hour += 2
    return f"{day}T{hour:02d}:{minute:02d}:00.000+0200"


def _checklist(items: list[tuple[str, bool]]) -> dict:
    return {"type": "doc", "version": 1, "content": [{"type": "taskList", "content": [
        {"type": "taskItem", "attrs": {"state": "DONE" if done else "TODO"}, "content": [{"type": "text", "text": t}]}
        for t, done in items]}]}


def _md(items: list[tuple[str, bool]]) -> str:
    return "\n".join(f"- [{'x' if done else ' '}] {t}" for t, done in items)


class _Issue:
    def __init__(self, n: int, summary: str, created: str, labels: list[str], assignee: str | None):
        self.key, self.id = f"MLOPS-{n}", str(20000 + n)
        self.summary, self.created, self.labels, self.assignee = summary, created, labels, assignee
        self.status, self.histories, self.comments, self.links = "10000", [], [], []
        self.description, self.resolved, self.updated = None, None, created

    def _touch(self, when: str) -> None:
        self.updated = max(self.updated, when)

    def move(self, when: str, who: str, to: str) -> _Issue:
        s_from, s_to = _STATUS[self.status], _STATUS[to]
        self.histories.append({"id": str(len(self.histories) + 1) + self.id, "author": _user(who), "created": _ts(when),
                               "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                                          "from": s_from["id"], "fromString": s_from["name"], "to": s_to["id"],
                                          "toString": s_to["name"]}]})
        self.status = to
        if s_to["statusCategory"]["key"] == "done" and self.resolved is None:
            self.resolved = when
        self._touch(when)
        return self

    def tick(self, when: str, who: str, before: list[tuple[str, bool]], after: list[tuple[str, bool]]) -> _Issue:
        self.histories.append({"id": str(len(self.histories) + 1) + self.id, "author": _user(who), "created": _ts(when),
                               "items": [{"field": "description", "fieldtype": "jira", "fieldId": "description",
                                          "from": None, "fromString": _md(before), "to": None,
                                          "toString": _md(after)}]})
        self.description = _checklist(after)
        self._touch(when)
        return self

    def comment(self, when: str, who: dict | str, text: str) -> _Issue:
        author = who if isinstance(who, dict) else _user(who)
        self.comments.append({"id": str(len(self.comments) + 1) + self.id, "author": author, "created": _ts(when),
                              "body": {"type": "doc", "version": 1, "content": [
                                  {"type": "paragraph", "content": [{"type": "text", "text": text}]}]}})
        self._touch(when)
        return self

    def doc(self) -> dict:
        s = _STATUS[self.status]
        return {"id": self.id, "key": self.key, "fields": {
            "summary": self.summary, "issuetype": {"name": "Task"}, "labels": self.labels,
            "status": {"id": s["id"], "name": s["name"], "statusCategory": s["statusCategory"]},
            "assignee": _user(self.assignee) if self.assignee else None, "reporter": _user("Marco Bianchi"),
            "created": _ts(self.created), "updated": _ts(self.updated),
            "resolutiondate": _ts(self.resolved) if self.resolved else None,
            "issuelinks": [{"type": {"name": "Relates", "inward": "relates to", "outward": "relates to"},
                            "outwardIssue": {"key": k}} for k in self.links],
            "subtasks": [], "description": self.description,
            "comment": {"comments": self.comments, "total": len(self.comments), "maxResults": 5000, "startAt": 0}},
            "changelog": {"startAt": 0, "maxResults": len(self.histories), "total": len(self.histories),
                          "histories": list(reversed(self.histories))}}


def _steps(*names: str, done: int = 0) -> list[tuple[str, bool]]:
    return [(n, i < done) for i, n in enumerate(names)]


def demo_issues() -> list[dict]:
    train = ("freeze the data cut", "launch train.yml", "compare PR-AUC with the champion", "register the model")
    deploy = ("deploy to staging", "smoke-test scoring", "promote to production")
    rb_train, rb_deploy = ["runbook", "runbook:training", "training"], ["runbook", "runbook:deploy", "deployment"]
    issues = []
    # Week 2: Ines retrains, prompted by Marco's comment.
    r1 = _Issue(1, "Retrain: September data cut", "2026-09-15 08:00", rb_train, "Ines Ortiz")
    r1.description = _checklist(_steps(*train, done=4))
    r1.move("2026-09-15 08:30", "Ines Ortiz", "3").comment("2026-09-15 10:00", "Marco Bianchi",
                                                           "Don't forget to freeze the data cut first.")
    r1.move("2026-09-16 12:00", "Ines Ortiz", "10001")
    issues.append(r1)
    # Week 3: Ivan deploys; Sofia ticks the first step for him (a vendor tick).
    r2 = _Issue(2, "Deploy fraud model v3", "2026-09-22 08:00", rb_deploy, "Ivan Kowalski")
    r2.description = _checklist(_steps(*deploy))
    r2.tick("2026-09-22 12:00", "Sofia Lindqvist", _steps(*deploy), _steps(*deploy, done=1))
    r2.tick("2026-09-23 10:00", "Ivan Kowalski", _steps(*deploy, done=1), _steps(*deploy, done=3))
    r2.move("2026-09-23 15:00", "Ivan Kowalski", "10001")
    issues.append(r2)
    # Week 3: Marco runs a retrain himself (vendor executor).
    r3 = _Issue(3, "Retrain: hotfix features", "2026-09-24 08:00", rb_train, "Marco Bianchi")
    r3.description = _checklist(_steps(*train[:3], done=3))
    r3.move("2026-09-24 16:00", "Marco Bianchi", "10001")
    issues.append(r3)
    # Weeks 5-7: unprompted internal executions (the automation's comment is a bot's, not the vendor's).
    r4 = _Issue(4, "Retrain: October data cut", "2026-10-06 08:00", rb_train, "Priya Nair")
    r4.description = _checklist(_steps(*train[:3], done=3))
    r4.comment("2026-10-06 08:01", _AUTOMATION, "Runbook checklist attached.")
    r4.move("2026-10-06 14:00", "Priya Nair", "10001")
    issues.append(r4)
    r5 = _Issue(5, "Deploy fraud model v4", "2026-10-13 08:00", rb_deploy, "Tom Becker")  # internal since 10-07
    r5.description = _checklist(_steps(*deploy, done=3))
    r5.move("2026-10-14 09:00", "Tom Becker", "10001")
    issues.append(r5)
    r6 = _Issue(6, "Retrain: new merchant features", "2026-10-20 08:00", rb_train, "Ines Ortiz")
    r6.description = _checklist(_steps(*train[:3], done=3))
    r6.move("2026-10-20 15:00", "Ines Ortiz", "10001")
    issues.append(r6)
    # Week 8: started, not completed yet.
    r7 = _Issue(7, "Deploy fraud model v5", "2026-10-27 08:00", rb_deploy, "Ivan Kowalski")
    r7.description = _checklist(_steps(*deploy, done=1))
    r7.move("2026-10-27 09:00", "Ivan Kowalski", "3")
    issues.append(r7)

    # Drill 1, week 2: vendor-led, sev2 restored in 2 h, postmortem next day -> pass (vendor).
    d1 = _Issue(10, "Drill: feature store outage", "2026-09-17 09:00", ["drill", "sev2", "operations"],
                "Marco Bianchi")
    d1.move("2026-09-17 09:10", "Marco Bianchi", "3").move("2026-09-17 11:00", "Marco Bianchi", "10001")
    d1.links = ["MLOPS-11"]
    pm1 = _Issue(11, "Postmortem: feature store outage drill", "2026-09-18 10:00", ["postmortem"], "Marco Bianchi")
    # Drill 2, week 4: internal, sev1 restored in 2.5 h (> 60 min) -> fail despite a postmortem page.
    d2 = _Issue(12, "Drill: scoring latency spike", "2026-09-30 09:00", ["drill", "sev1", "operations"],
                "Ivan Kowalski")
    d2.description = "Postmortem: https://wiki.client.example/ml/postmortem-2026-09-30"
    d2.move("2026-09-30 09:05", "Ivan Kowalski", "3").move("2026-09-30 11:30", "Ivan Kowalski", "10001")
    # Drill 3, week 7: internal, sev2 restored in 3 h, postmortem ticket two days later -> internal pass.
    d3 = _Issue(13, "Drill: model rollback", "2026-10-21 09:00", ["drill", "sev2", "operations"], "Priya Nair")
    d3.move("2026-10-21 09:02", "Priya Nair", "3").move("2026-10-21 12:00", "Priya Nair", "10001")
    d3.links = ["MLOPS-14"]
    pm3 = _Issue(14, "Postmortem: rollback drill", "2026-10-23 10:00", ["postmortem"], "Priya Nair")
    issues += [d1, pm1, d2, d3, pm3]
    return [i.doc() for i in issues]


def site():
    """The recorded Jira site of the demo (statuses and issues), served while `build_demo` records it."""
    from collectors.demo.jira_replay import JiraSite

    return JiraSite(demo_issues(), statuses=STATUSES, timezone="UTC")


def jira_source(recordings: str):
    """The demo engagement's `[[sources.jira]]`, replayed from `recordings`."""
    from engagement.config import JiraSource

    return JiraSource(base_url=BASE_URL, name="fraud-model Jira", jql="project = MLOPS", token_env="DEMO_JIRA_TOKEN",
                      replay=recordings)


def toml_section(recordings: str) -> str:
    """The demo engagement file's Jira source: its recording, replayed by the real collector."""
    return "\n".join(["", "[[sources.jira]]", f'base_url = "{BASE_URL}"', 'name = "fraud-model Jira"',
                      'jql = "project = MLOPS"', 'token_env = "DEMO_JIRA_TOKEN"', f'replay = "{recordings}"',
                      ""])
