"""The demo's advice is pinned: a restructuring must leave ``recommend --demo --format json`` byte-for-byte equal.

A commit that changes advice on purpose regenerates the stored copy and says why in its message:

    ADVISOR_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_demo.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden" / "demo_recommendations.json"


def _key(rec: dict) -> tuple[str, str]:
    return rec["resource_id"], rec["rule"]


def _differences(expected: list[dict], actual: list[dict]) -> list[str]:
    """Readable differences: resources added or removed, and the top-level fields that changed."""
    old, new = {_key(r): r for r in expected}, {_key(r): r for r in actual}
    lines = [f"new: {k}" for k in sorted(new.keys() - old.keys())]
    lines += [f"gone: {k}" for k in sorted(old.keys() - new.keys())]
    for key in sorted(old.keys() & new.keys()):
        changed = sorted(f for f in old[key].keys() | new[key].keys() if old[key].get(f) != new[key].get(f))
        if changed:
            lines.append(f"changed {key}: {', '.join(changed)}")
    if not lines and [_key(r) for r in expected] != [_key(r) for r in actual]:
        lines.append("same recommendations in a different order")
    return lines


def test_demo_recommendations_match_the_stored_copy(tmp_path):
    out = tmp_path / "recs.json"
    subprocess.run([sys.executable, "-m", "advisor", "recommend", "--demo", "--format", "json", "--output", str(out)],
                   check=True, capture_output=True, text=True)
    text = out.read_text()
    if os.environ.get("ADVISOR_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    expected = GOLDEN.read_text()
    if text != expected:
        diff = _differences(json.loads(expected), json.loads(text))
        raise AssertionError("the demo's recommendations changed (regenerate the stored copy only for a change of "
                             "advice made on purpose):\n" + "\n".join(diff[:40] or ["formatting only"]))
