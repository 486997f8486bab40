"""Software-defined assets of meter-personas, one package per pipeline stage in data-flow order.

``ingest`` -> ``clean`` -> ``features`` -> ``model`` -> ``reports``: each holds its asset definitions
(``assets.py``, the only module of a stage that imports Dagster), its pure logic (plain polars /
DuckDB functions, tested directly), its pandera schemas (``schemas/``) and its SQL. ``common`` sits
below them all (warehouse access, partitions, metadata helpers, resources, the table-model base);
``synthetic`` is the built-in data generator. See docs/ARCHITECTURE.md.
"""
