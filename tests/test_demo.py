"""`nox -s demo` runs this module: it must walk the whole flow and write both files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketpulse.testing import demo


def test_demo_walks_the_whole_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "FileNotReadyError: 401 File not found" in out
    assert "all_personalized=True" in out
    assert "secret=***" in out
    assert "tp_demo_0123456789abcdef" not in out
    png, pdf = sorted(tmp_path.iterdir(), key=lambda p: p.suffix, reverse=True)
    assert png.name.endswith(".png")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert pdf.name.endswith(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert f"{png} ({png.stat().st_size:,} bytes)" in out
