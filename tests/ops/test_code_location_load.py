"""The code location loads without the heavy libraries: the asset bodies import them when they run."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.ops.services import REPO

HEAVY = ("pandera", "sklearn", "scipy", "joblib", "matplotlib", "polars", "pandas")

PROBE = f"""
import json, sys
import pipelines.definitions
pipelines.definitions.defs().resolve_asset_graph()
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""


def test_loading_the_code_location_imports_no_heavy_library():
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
