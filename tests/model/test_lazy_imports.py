"""Loading the features and model stages (as the code location does) must not import the heavy
scientific libraries: scikit-learn, scipy, joblib and matplotlib are imported inside the functions
that use them (about 2.5 s saved on every code-location load, CLI call and run)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "scipy", "joblib", "matplotlib")
MODULES = (
    "assets.features.compute",
    "assets.features.assets",
    "assets.model.api",
    "assets.model.tables",
    "assets.model.assets",
)


def test_stage_modules_do_not_import_heavy_libraries_at_load():
    code = (
        "import importlib, json, sys\n"
        f"for m in {MODULES!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_pickled_model_classes_keep_their_import_path():
    from assets.model.cluster_model import ClusterModel
    from assets.model.clustering import FittedClusters

    assert (ClusterModel.__module__, FittedClusters.__module__) == (
        "assets.model.cluster_model",
        "assets.model.clustering",
    )
