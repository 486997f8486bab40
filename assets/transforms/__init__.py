"""Domain logic as plain functions (polars / DuckDB SQL). Nothing here imports Dagster."""
