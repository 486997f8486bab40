"""Shared fixtures: the real LCL sample (read in place), tmp warehouses, the model on a synthetic population."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from assets.common.warehouse import WarehouseSettings, connect

REPO = Path(__file__).resolve().parents[1]
LCL_SAMPLE = REPO.parent / "shared" / "data" / "lcl"


@pytest.fixture(scope="session")
def lcl_sample() -> Path:
    """The real LCL slice beside the repo; tests needing it skip (with the reason) if absent."""
    if not (LCL_SAMPLE / "readings").is_dir():
        pytest.skip(f"real LCL sample not found at {LCL_SAMPLE} (expected ../shared/data/lcl beside the repo)")
    return LCL_SAMPLE


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(WarehouseSettings(warehouse_path, memory_limit="1GB")) as connection:
        yield connection


# The clustering model fitted on a synthetic population with planted archetypes
# (tests/model/seg_synthetic.py): shared by tests/model and tests/reports, fitted once per session.


@pytest.fixture(scope="session")
def feature_builder():
    from tests.model.seg_synthetic import make_household_features

    return make_household_features


@pytest.fixture(scope="session")
def fast_settings():
    from assets.model.settings import SegmentationSettings

    return SegmentationSettings(
        random_state=7, kmeans_n_init=4, n_bootstrap=3, load_shape_bootstrap=2, gmm_n_init=1, persona_k_max=7
    )


@pytest.fixture(scope="session")
def synthetic(feature_builder):
    return feature_builder()


@pytest.fixture(scope="session")
def fitted(synthetic, fast_settings):
    from assets.model.cluster_model import assign_segments, fit_cluster_model

    features, _ = synthetic
    model = fit_cluster_model(features, fast_settings)
    return model, assign_segments(features, model)


@pytest.fixture(scope="session")
def outputs(synthetic, fitted):
    """Every asset output on the synthetic population (validated by the api functions)."""
    from assets.model import api
    from assets.reports import api as report_api

    features, _ = synthetic
    model, assignments = fitted
    personas = api.compute_personas(features, assignments, model)
    interventions = report_api.compute_interventions(features, assignments, personas.personas, model)
    dr = report_api.compute_dr_targets(features, assignments, model)
    expectations = report_api.compute_expectations(features, assignments, model)
    return {
        "features": features,
        "model": model,
        "assignments": assignments,
        "personas": personas,
        "interventions": interventions,
        "dr": dr,
        "expectations": expectations,
    }


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Work around a shutdown leak in the duckdb 2.0 bindings (not in our code).

    ``duckdb/__init__.py`` installs the Python relation methods (``duckdb._relation.CONNECTION_METHODS``)
    as attributes of the nanobind type ``_duckdb.DuckDBPyConnection``. That forms the cycle type ->
    function -> ``duckdb._relation`` globals -> type, which interpreter finalization sometimes fails to
    free, depending only on object layout (adding an unused annotated function to a conftest flips it).
    nanobind then prints "leaked N instances" (the ``_duckdb._sqltypes`` constants) at exit. At this
    point no connection is open and every reference to duckdb objects is accounted for; breaking the
    cycle here, after the last test and the last of pytest's own hooks, lets finalization free it.
    """
    import _duckdb
    import duckdb._relation

    for name in duckdb._relation.CONNECTION_METHODS:
        if name in vars(_duckdb.DuckDBPyConnection):
            delattr(_duckdb.DuckDBPyConnection, name)
