"""SegmentationConfig (launchpad) takes its defaults from SegmentationSettings and rejects bad values."""

import pydantic
import pytest

from assets.model.assets import SegmentationConfig
from assets.model.settings import SegmentationSettings

RENAMED = {"pseudonymise_ids": "pseudonymise"}


def test_config_defaults_are_the_settings_defaults(monkeypatch):
    monkeypatch.delenv("METER_PSEUDONYM_KEY", raising=False)
    assert SegmentationConfig().settings() == SegmentationSettings()
    defaults, config = SegmentationSettings(), SegmentationConfig()
    for name in SegmentationConfig.model_fields:
        assert getattr(config, name) == getattr(defaults, RENAMED.get(name, name)), name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"k_max": 2}, "greater than or equal to 3"),
        ({"persona_k_max": 1}, "greater than or equal to 2"),
        ({"k_anonymity": 0}, "greater than or equal to 1"),
        ({"random_state": -1}, "greater than or equal to 0"),
    ],
)
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        SegmentationConfig(**overrides)


def test_pseudonymisation_key_is_read_at_run_time(monkeypatch):
    monkeypatch.delenv("METER_PSEUDONYM_KEY", raising=False)
    config = SegmentationConfig(pseudonymise_ids=True)  # valid: the key comes from the run's environment
    with pytest.raises(ValueError, match="pseudonym_key"):
        config.settings()
    monkeypatch.setenv("METER_PSEUDONYM_KEY", "secret")
    assert config.settings().pseudonym_key == "secret"
