"""Prints the fault suite's figures at the end of the run, with or without `-s`."""

from __future__ import annotations

import json


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.faults.scenario import ARTIFACTS, RESULTS

    if not RESULTS:
        return
    terminalreporter.section("fault injection: counts")
    for variant, counts in RESULTS.items():
        terminalreporter.write_line(json.dumps(counts, sort_keys=True))
    terminalreporter.write_line(f"(also in {ARTIFACTS / 'last.json'})")
