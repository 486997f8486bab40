"""Fixtures of the feature-layer tests (builders live in feature_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.features.feature_fixtures import WarehouseBuilder


@pytest.fixture
def builder() -> WarehouseBuilder:
    return WarehouseBuilder()
