"""Task-list checkboxes in ticket bodies: Markdown (`- [ ]`, `- [x]`, nested) and Jira ADF task items.

Checkboxes inside fenced code blocks (``` or ~~~) are not items. Items are numbered in body order
(position 0, 1, ...) with their nesting level (0 = top level).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)])[ \t]+\[(?P<mark>[ xX])\][ \t]+(?P<text>.*?)\s*$")
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")


@dataclass(frozen=True)
class ChecklistEntry:
    position: int
    level: int
    text: str
    checked: bool


def parse_markdown_checklist(body: str | None) -> list[ChecklistEntry]:
    """Checkbox items of a Markdown body in order, with nesting level, skipping fenced code blocks."""
    items: list[ChecklistEntry] = []
    fence: str | None = None
    indents: list[int] = []  # indentation of the open list levels
    for line in (body or "").splitlines():
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group("fence")[0] == fence[0] and len(opened.group("fence")) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group("fence")
            continue
        m = _ITEM.match(line)
        if not m:
            continue
        indent = len(m.group("indent").expandtabs(4))
        while indents and indent < indents[-1]:
            indents.pop()
        if not indents or indent > indents[-1]:
            indents.append(indent)
        items.append(ChecklistEntry(len(items), len(indents) - 1, m.group("text"), m.group("mark") in "xX"))
    return items


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format node (Jira v3 bodies); strings pass through."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(adf_text(n) for n in node)
    if not isinstance(node, dict):
        return str(node)
    kind = node.get("type")
    if kind == "text":
        return node.get("text", "")
    if kind == "hardBreak":
        return "\n"
    if kind == "inlineCard":
        return (node.get("attrs") or {}).get("url", "")
    inner = adf_text(node.get("content", []))
    marks_link = [m for n in node.get("content", []) if isinstance(n, dict) for m in n.get("marks", [])
                  if m.get("type") == "link"]
    links = " ".join(m.get("attrs", {}).get("href", "") for m in marks_link)
    if links:
        inner = f"{inner} {links}"
    if kind == "taskItem":
        mark = "x" if (node.get("attrs") or {}).get("state") == "DONE" else " "
        return f"- [{mark}] {inner}\n"
    if kind in ("paragraph", "heading", "listItem", "codeBlock", "blockquote", "rule"):
        return inner + "\n"
    return inner


def adf_checklist(node: Any) -> list[ChecklistEntry]:
    """Task items (`taskItem`, state DONE/TODO) of an ADF document in order, with nesting level."""
    items: list[ChecklistEntry] = []

    def walk(n: Any, level: int) -> None:
        if isinstance(n, list):
            for child in n:
                walk(child, level)
            return
        if not isinstance(n, dict):
            return
        if n.get("type") == "taskItem":
            text = adf_text(n.get("content", [])).strip()
            checked = (n.get("attrs") or {}).get("state") == "DONE"
            items.append(ChecklistEntry(len(items), level, text, checked))
            return
        if n.get("type") == "codeBlock":
            return
        if n.get("type") == "taskList":
            for child in n.get("content", []):
                nested = isinstance(child, dict) and child.get("type") == "taskList"
                walk(child, level + 1 if nested else level)
            return
        walk(n.get("content", []), level)

    walk(node, 0)
    return items


def checklist_of(body: Any) -> list[ChecklistEntry]:
    """Checklist of a body in either form: ADF (dict) or Markdown/wiki text."""
    if isinstance(body, dict):
        return adf_checklist(body)
    return parse_markdown_checklist(body)


def newly_ticked(before: str | None, after: str | None) -> list[str]:
    """Texts of items unchecked (or absent) in `before` and checked in `after` (a body edit's ticks)."""
    was_checked = {e.text for e in parse_markdown_checklist(before) if e.checked}
    return [e.text for e in parse_markdown_checklist(after) if e.checked and e.text not in was_checked]
