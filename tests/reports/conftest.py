"""Fixtures of the report tests: a seeded plant (see ``seed.py``) on each database."""

from __future__ import annotations

import pytest

from tests.reports import seed as seeding


@pytest.fixture
def seeded(engine, tmp_path):
    """The seeded plant on SQLite and on PostgreSQL."""
    return seeding.seed(engine, tmp_path)
