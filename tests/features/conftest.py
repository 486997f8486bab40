"""Fixtures of the feature-layer tests (builders live in feature_fixtures.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # feature_fixtures.py beside this file (tests/features is not a package)
    sys.path.insert(0, str(HERE))

from feature_fixtures import WarehouseBuilder  # noqa: E402


@pytest.fixture
def builder() -> WarehouseBuilder:
    return WarehouseBuilder()
