"""The VEE rule catalogue is the one home of each rule: README, schema and SQL agree with it."""

import math
import re
from dataclasses import fields
from pathlib import Path

import pytest
from pydantic import ValidationError

from assets.clean import clean_readings
from assets.clean.assets import VeeConfig
from assets.clean.schemas.quarantined_readings import QuarantinedReadings
from assets.clean.vee_rules import QUARANTINE_RULES, RULES, RULES_BY_ID, VeeSettings, rule_parameters

README = Path(__file__).resolve().parents[2] / "README.md"
SQL_DIR = Path(clean_readings.__file__).parent / "sql"


def readme_vee_table() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Validation, estimation and editing (VEE)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| ([A-Z]\d\d_[A-Z_]+) \| (\w+) \|", section, flags=re.MULTILINE)


def test_readme_vee_table_lists_exactly_the_catalogue():
    assert readme_vee_table() == [(r.rule_id, r.action) for r in RULES]


def test_quarantine_schema_allows_exactly_the_catalogue_quarantine_rules():
    (allowed,) = [
        check.statistics["allowed_values"]
        for check in QuarantinedReadings.to_schema().columns["rule_id"].checks
        if "allowed_values" in check.statistics
    ]
    assert set(allowed) == QUARANTINE_RULES == {r.rule_id for r in RULES if r.action == "quarantine"}


def test_every_rule_predicate_reaches_the_clean_sql():
    """Each rule is used by the SQL either through its predicate placeholder or the row-rule CASE."""
    sql = " ".join(p.read_text() for p in SQL_DIR.glob("*.sql"))
    for rule in RULES:
        if rule.scope == "raw row":
            assert rule.predicate in clean_readings._sql("classify"), rule.rule_id
        else:
            assert "{" + rule.rule_id + "}" in sql, rule.rule_id


def test_predicate_parameters_are_settings_or_layouts():
    available = rule_parameters(VeeSettings())
    used = {p for rule in RULES for p in rule.parameters}
    assert used <= set(available)
    assert {f.name for f in fields(VeeSettings)} <= used  # every threshold is read by some rule
    assert RULES_BY_ID["V08_IMPLAUSIBLE_VALUE"].parameters == ("max_kwh_per_half_hour",)


def test_config_defaults_are_the_settings_defaults():
    assert VeeConfig().settings() == VeeSettings()
    assert set(VeeConfig.model_fields) == {f.name for f in fields(VeeSettings)}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_kwh_per_half_hour", -1.0),
        ("max_kwh_per_half_hour", 0.0),
        ("max_kwh_per_half_hour", math.nan),
        ("max_kwh_per_half_hour", math.inf),
        ("spike_iqr_multiplier", -1.0),
        ("spike_iqr_multiplier", math.nan),
        ("spike_min_kwh", -1.0),
        ("spike_min_kwh", math.inf),
        ("max_gap_half_hours_to_estimate", -1),
        ("max_gap_half_hours_to_estimate", 49),
    ],
)
def test_bad_threshold_rejected_naming_the_field(name, value):
    with pytest.raises(ValidationError, match=name):
        VeeConfig(**{name: value})
    with pytest.raises(ValueError, match=name):
        VeeSettings(**{name: value})


def test_inconsistent_combination_rejected():
    with pytest.raises(ValidationError, match=r"spike_min_kwh .* max_kwh_per_half_hour"):
        VeeConfig(max_kwh_per_half_hour=3.0, spike_min_kwh=4.0)
    with pytest.raises(ValueError, match=r"spike_min_kwh .* max_kwh_per_half_hour"):
        VeeSettings(max_kwh_per_half_hour=3.0, spike_min_kwh=4.0)
    assert VeeConfig(max_kwh_per_half_hour=3.0, spike_min_kwh=3.0).settings().spike_min_kwh == 3.0


@pytest.mark.parametrize("bad", [{"max_kwh_per_half_hour": -1.0}, {"spike_min_kwh": 30.0}])
def test_dagster_run_with_bad_vee_config_fails_before_any_sql(tmp_path: Path, bad: dict):
    import dagster as dg

    from assets.clean.assets import clean
    from assets.common.resources import Warehouse
    from pipelines.engines import DuckDBEngine

    warehouse = tmp_path / "w.duckdb"
    result = dg.materialize(
        [clean],
        partition_key="2012-01-01",
        resources={"warehouse": Warehouse(database=str(warehouse)), "engine": DuckDBEngine()},
        run_config={"ops": {"clean": {"config": bad}}},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert next(iter(bad)) in failure.step_failure_data.error.message
    assert not warehouse.exists()  # the warehouse was never opened
