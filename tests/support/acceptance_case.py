"""The acceptance case of the tiny engagement (tests/support/engagement_factory.py): Pat (pat@gmail.com, known
only through the roster) adds one data commit in week 3; M1 (>= 2 internal data commits) is met in week 3 by
Ann's two and Pat's one; M2 (training stage 3) is never met."""

from __future__ import annotations

import datetime as dt

from tests.support.engagement_factory import COMMITS

PAT = ("Pat Person", "pat@gmail.com")
WITH_PAT = [*COMMITS, (3, PAT, "data/p.py")]
M1 = {"id": "M1", "due_week": 3, "title": "Internal data commits",
      "criteria": [{"metric": "internal_commits", "op": ">=", "value": 2, "capability": "data"}]}
M2 = {"id": "M2", "due_week": 4, "title": "Training stage 3",
      "criteria": [{"metric": "ladder_stage", "op": ">=", "value": 3, "capability": "training"}]}
NOW = dt.datetime(2026, 10, 2, 9, tzinfo=dt.UTC)


def roster(pat_side: str = "internal") -> list[dict]:
    return [
        {"name": "Ann Client", "emails": ["ann@client.com"], "affiliations": [{"side": "internal"}]},
        {"name": "Vic Vendor", "emails": ["vic@acme.com"], "affiliations": [{"side": "vendor"}]},
        {"name": "Pat Person", "emails": ["pat@gmail.com"], "affiliations": [{"side": pat_side}]},
        {"name": "Ida Internal", "emails": ["ida@client.com"], "affiliations": [{"side": "internal"}]},
    ]
