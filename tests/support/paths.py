"""Where tests find the project and the shared material beside its clone (../shared, absent on some machines)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project's root (tests/support/paths.py -> ../..)
SHARED = ROOT.parent / "shared"  # the SPEC and the real API recordings, beside the clone
SAMPLES = SHARED / "api-samples"
APP = str(ROOT / "app.py")
