"""Persisting the cluster model: joblib file + JSON sidecar (its version string and data
fingerprint come from ``assets.model.fingerprint``).

* ``save_model`` writes ``<path>`` (joblib pickle of the whole :class:`ClusterModel`) and
  ``<path>.json`` (version, fingerprint, chosen K and metrics: human-readable, no unpickling).
  Pickles execute code when loaded: only load files this pipeline wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:  # pragma: no cover
    from assets.model.cluster_model import ClusterModel


def model_summary(model: ClusterModel) -> dict[str, Any]:
    """JSON-able summary: version, fingerprint, chosen models and their metrics."""
    chosen = model.behaviour_metrics.filter(
        (pl.col("model_family") == model.behaviour.family) & (pl.col("k") == model.behaviour.k)
    )
    ls_chosen = model.load_shape_sweep.filter(pl.col("k") == model.load_shape.k)
    return {
        "version": model.version,
        "fingerprint_sha256": model.fingerprint,
        "sklearn_version": model.sklearn_version,
        "n_households": model.n_households,
        "random_state": model.settings.random_state,
        "load_shape": {
            "k": model.load_shape.k,
            "reason": model.load_shape_choice.reason,
            "names": list(model.load_shape.names),
            "metrics": chosen_row(ls_chosen),
            "textbook_k": model.textbook.k,
            "textbook_names": list(model.textbook.names),
        },
        "behaviour": {
            "family": model.behaviour.family,
            "k": model.behaviour.k,
            "reason": model.behaviour_choice.reason,
            "metrics": chosen_row(chosen),
            "features": list(model.settings.lifestyle_features),
        },
        "personas": [
            {"segment": e.segment, "base": e.base_persona_name, "price_responsive": e.responsive_persona_name}
            for e in model.catalogue
        ],
    }


def chosen_row(frame: pl.DataFrame) -> dict[str, Any]:
    if frame.height == 0:
        return {}
    row = frame.row(0, named=True)
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}


def save_model(model: ClusterModel, path: str | Path) -> Path:
    """Write the model (joblib) and its JSON sidecar; returns the model path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    import joblib  # lazy: pulled in only to save / load a model

    joblib.dump(model, tmp)
    tmp.replace(path)
    sidecar = path.with_name(path.name + ".json")
    sidecar.write_text(json.dumps(model_summary(model), indent=2, sort_keys=True, default=str))
    return path


def load_model(path: str | Path, expected_fingerprint: str | None = None) -> ClusterModel:
    """Load a model written by :func:`save_model` (optionally insisting on its data fingerprint)."""
    import joblib  # lazy: pulled in only to save / load a model

    from assets.model.cluster_model import ClusterModel

    model = joblib.load(Path(path))
    if not isinstance(model, ClusterModel):
        raise TypeError(f"{path} does not hold a ClusterModel")
    if expected_fingerprint is not None and model.fingerprint != expected_fingerprint:
        raise ValueError(
            f"model {path} was trained on data {model.fingerprint[:12]}, expected {expected_fingerprint[:12]}"
        )
    return model
