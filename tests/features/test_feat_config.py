"""FeatureConfig (launchpad) takes its defaults from FeatureSettings and rejects bad values clearly."""

from dataclasses import fields

import pydantic
import pytest

from assets.features.assets import FeatureConfig
from assets.features.settings import FeatureSettings


def test_config_defaults_are_the_settings_defaults():
    assert FeatureConfig().settings() == FeatureSettings()
    defaults = FeatureSettings()
    config = FeatureConfig()
    for name in FeatureConfig.model_fields:
        value = getattr(defaults, name)
        assert getattr(config, name) == (value.isoformat() if hasattr(value, "isoformat") else value), name
    assert set(FeatureConfig.model_fields) <= {f.name for f in fields(FeatureSettings)}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"baseline_end": "2011-06-01"}, "windows must be ordered"),
        ({"treatment_start": "2012-06-01"}, "windows must be ordered"),
        ({"treatment_end": "2013-01-01"}, "windows must be ordered"),
        ({"baseline_start": "2012-13-01"}, "not a date in YYYY-MM-DD form"),
        ({"coverage_threshold": 0.0}, "greater than 0"),
        ({"coverage_threshold": 1.5}, "less than or equal to 1"),
        ({"fdr_alpha": 1.0}, "less than 1"),
        ({"bootstrap_replicates": 0}, "greater than or equal to 1"),
    ],
)
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        FeatureConfig(**overrides)


def test_config_accepts_other_ordered_windows():
    s = FeatureConfig(
        baseline_start="2012-03-01", baseline_end="2012-09-01", treatment_start="2013-02-01", treatment_end="2013-08-01"
    ).settings()
    assert (s.baseline_end.month, s.treatment_start.month) == (9, 2)
