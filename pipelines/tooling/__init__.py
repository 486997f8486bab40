"""Command-line tooling around the code location, not part of it: ``demo`` (``make demo``), ``bench``
(``make bench``), ``engine_bench`` (``make bench-engines``), ``engine_parity`` (``make engine-parity``)
and ``backfill`` (backfills and re-runs through a running webserver). The code location
(``pipelines/definitions.py`` and what it loads) never imports this package (an import contract)."""
