"""Spark in local mode for the engine tests: one session per test session (local[2], UTC).

The tests need the ``spark`` extra (pyspark, sqlglot) and Java 17+. Without them they skip with
the reason, except in CI (``CI=true``), where ``.ci/run`` installs both and a skip would hide a
broken install: there they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


def _unavailable() -> str | None:
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:
        return f"the spark extra is not installed ({exc}): make env-spark"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java runtime (java on PATH or JAVA_HOME): apt-get install openjdk-17-jre-headless"
    return None


def require_spark() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"Spark tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    require_spark()
    from assets.common.spark import build_session

    session = build_session(master="local[2]", config={"spark.sql.shuffle.partitions": "2"})
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path: Path, spark) -> Iterator[Path]:
    """A fresh lake folder; the session catalog forgets the previous test's tables."""
    for database in ("ingest", "clean", "features"):
        spark.sql(f"DROP DATABASE IF EXISTS `{database}` CASCADE")
    yield tmp_path / "lake"
