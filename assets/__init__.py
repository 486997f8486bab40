"""Software-defined assets of meter-personas.

Modules at this level (``ingest``, ``clean``, ``features``, ``model``, ``reports``) are thin Dagster
wrappers. The domain logic lives in ``assets.transforms`` (plain polars / DuckDB functions that
know nothing of Dagster), the table schemas in ``assets.schemas``, and the built-in synthetic data
generator in ``assets.synthetic``.
"""
