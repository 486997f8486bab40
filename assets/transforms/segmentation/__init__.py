"""Segmentation: load-shape clusters, behavioural personas, interventions and DR targets.

Pure functions on polars frames and a SegmentationSettings dataclass; no Dagster import.
Entry points per asset are in ``assets.transforms.segmentation.api``.
"""
