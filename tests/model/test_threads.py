"""The model's BLAS / OpenMP thread limit covers the libraries scikit-learn and scipy load.

``threadpool_limits`` limits only libraries already loaded when it is entered; scikit-learn and
scipy are imported lazily, so fit_cluster_model loads them first. Without that, scipy's OpenBLAS ran
one thread per core inside the limit and spun against other processes on a loaded machine (the
real-sample fit took 553 s instead of 58 s under load 12). Run in a fresh interpreter: this test
process has imported scikit-learn already."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    assert "scipy.linalg" not in sys.modules and "sklearn" not in sys.modules
    import assets.model.cluster_model as cm
    from threadpoolctl import threadpool_info

    def fake_fit(features, settings):
        import scipy.linalg  # noqa: F401 - what the real fit loads on first use
        import sklearn.mixture  # noqa: F401
        return [(i["internal_api"], i["num_threads"]) for i in threadpool_info()]

    cm._fit = fake_fit
    print(json.dumps(cm.fit_cluster_model(None)))
    """
)


def test_thread_limit_covers_libraries_loaded_by_the_fit():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PATH": "", "PYTHONPATH": str(REPO)},  # no *_NUM_THREADS from the caller
    )

    pools = json.loads(out.stdout.strip().splitlines()[-1])
    assert any(api in ("openblas", "mkl", "blis") for api, _ in pools)  # scipy's BLAS is loaded and seen
    assert all(threads == 1 for _, threads in pools), pools
