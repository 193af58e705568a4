"""Progress on stderr for long scans: a line now and then when not on a terminal."""

from __future__ import annotations

import pytest

from dirigent.cli.dlt_options import ConsoleProgress


def test_lines_report_count_share_and_rate(capsys: pytest.CaptureFixture[str]) -> None:
    with ConsoleProgress(every_s=0.0) as progress:
        progress.start("scanning orders.dlt", 200)
        progress.advance(50)
        progress.advance(150)
        progress.finish()
    out = capsys.readouterr()
    assert out.out == ""  # stdout stays for the listing or the JSON
    lines = out.err.splitlines()
    assert lines[0].startswith("scanning orders.dlt: 50/200 (25%)")
    assert lines[-1].startswith("scanning orders.dlt: 200/200 (100%)")
    assert lines[-1].endswith("done")


def test_quiet_when_disabled_or_quick(capsys: pytest.CaptureFixture[str]) -> None:
    for progress in (ConsoleProgress(enabled=False, every_s=0.0), ConsoleProgress(every_s=60)):
        with progress:
            progress.start("x", 10)
            progress.advance(10)
            progress.finish()
    assert capsys.readouterr().err == ""
