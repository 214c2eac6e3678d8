"""Helpers for tests: the shared data folder and an in-process ``energy`` runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A file of ``../shared/data``; skips (outside CI) or fails (in CI) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data file missing: {path}")
        pytest.skip(f"shared data file missing: {path}")
    return path


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``energy ARGS…`` in-process; returns (exit status, stdout, stderr)."""
    import contextlib
    import io

    from energy.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()
