"""`nox -s demo` runs this module: the whole flow, both files written, no temp dir left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ticketpulse.testing import demo

ROOT = Path(__file__).resolve().parent.parent


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


def test_demo_leaves_no_temporary_directory_behind(tmp_path: Path) -> None:
    """What ``nox -s demo`` runs, without --out: its files go, with their directory."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "ticketpulse.testing.demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"7. download() into {temp}{os.sep}ticketpulse-demo-" in result.stdout
    assert ".pdf (" in result.stdout  # the files were written there
    assert list(temp.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]  # nor anything else
    assert result.stdout.rstrip().endswith("--out DIR keeps them)")
