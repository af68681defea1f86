"""Edits of the demo engagement file that tests make to see figures move."""

DEMO_ID = "fraud-model-handoff-demo"  # the demo's [engagement].id, derived from its name (no id in its file)

PRIYA_INTERNAL = '  { side = "internal", org = "Client ML team" },\n]\n'
# The roster edit: Priya Nair turns out to have been an Acme contractor until she joined on 2026-10-01.
PRIYA_EDITED = ('  { side = "vendor", org = "Acme Consulting", until = 2026-10-01 },\n'
                '  { side = "internal", org = "Client ML team", from = 2026-10-01 },\n]\n')


def edit_roster(toml):
    text = toml.read_text()
    start = text.index('name = "Priya Nair"')
    at = text.index(PRIYA_INTERNAL, start)
    toml.write_text(text[:at] + PRIYA_EDITED + text[at + len(PRIYA_INTERNAL):])
