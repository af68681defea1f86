"""Hand-written Jira issue documents shaped like Jira Cloud's (fields, changelog histories, comments)."""

from __future__ import annotations

STATUSES = [
    {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
    {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
    # Localised names: categories must come from ids, never from these strings.
    {"id": "10068", "name": "已完成", "statusCategory": {"key": "done"}},
    {"id": "10070", "name": "进行中", "statusCategory": {"key": "indeterminate"}},
]
STATUS = {s["id"]: s for s in STATUSES}


def user(account_id: str | None, name: str, *, app: bool = False, email: str | None = None,
         active: bool = True) -> dict:
    out = {"accountId": account_id, "displayName": name, "accountType": "app" if app else "atlassian",
           "active": active}
    if email is not None:
        out["emailAddress"] = email
    return out


def history(hid: int, when: str, author: dict | None, *items: dict) -> dict:
    out = {"id": str(hid), "created": when, "items": list(items)}
    if author is not None:
        out["author"] = author
    return out


def status_item(frm: str, to: str) -> dict:
    return {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": frm,
            "fromString": STATUS[frm]["name"], "to": to, "toString": STATUS[to]["name"]}


def assignee_item(frm: dict | None, to: dict | None) -> dict:
    return {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
            "from": frm and frm["accountId"], "fromString": frm and frm["displayName"],
            "to": to and to["accountId"], "toString": to and to["displayName"]}


def description_item(before: str, after: str) -> dict:
    return {"field": "description", "fieldtype": "jira", "fieldId": "description", "from": None,
            "fromString": before, "to": None, "toString": after}


def comment(cid: int, when: str, author: dict | None, text: str) -> dict:
    return {"id": str(cid), "created": when, "author": author,
            "body": {"type": "doc", "version": 1,
                     "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}}


def issue(key: str, iid: int, *, created: str, updated: str, status: str = "1", labels: list[str] | None = None,
          assignee: dict | None = None, reporter: dict | None = None, histories: list[dict] | None = None,
          comments: list[dict] | None = None, description=None, resolved: str | None = None,
          links: list[dict] | None = None, summary: str | None = None) -> dict:
    s = STATUS[status]
    return {
        "id": str(iid), "key": key,
        "fields": {
            "summary": summary or f"Ticket {key}", "issuetype": {"name": "Task"}, "labels": labels or [],
            "status": {"id": s["id"], "name": s["name"], "statusCategory": s["statusCategory"]},
            "assignee": assignee, "reporter": reporter, "created": created, "updated": updated,
            "resolutiondate": resolved, "issuelinks": links or [], "subtasks": [], "description": description,
            "comment": {"comments": comments or [], "total": len(comments or []), "maxResults": 5000,
                        "startAt": 0},
        },
        "changelog": {"startAt": 0, "maxResults": 100, "total": len(histories or []),
                      "histories": histories or []},
    }
