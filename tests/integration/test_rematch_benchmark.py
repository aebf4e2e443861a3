"""``python -m benchmarks.rematch``, tiny: the embedded system re-matches every rejected and
declined proposal without that volunteer. Timings are the benchmark's business, not asserted."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_rematch_benchmark_checks_pass(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # benchmarks/ is a package at the root, not installed
    rematch = importlib.import_module("benchmarks.rematch")
    environment = dict(os.environ)

    status = rematch.main(["--requests", "3", "--json"])

    report = json.loads(capsys.readouterr().out)
    assert report["checks"] and all(report["checks"].values()), report["checks"]
    assert status == 0
    for phase in ("first_proposal", "after_reject", "after_decline"):
        assert report[phase]["count"] == 3
    assert dict(os.environ) == environment  # the forced MIENSKIP_* settings are put back
