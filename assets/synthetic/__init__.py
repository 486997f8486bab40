"""Deterministic synthetic LCL-shaped smart-meter data with planted ground truth (no Dagster here).

Public API (import it from the submodule; the package attribute ``generate`` is the submodule)::

    from assets.synthetic.generate import GenerationSummary, generate

CLI: ``python -m assets.synthetic.generate --out DIR --households N --seed S``.

One concept per module: :mod:`.settings` (what is planted: :class:`GeneratorSettings`),
:mod:`.timegrid` (UTC grid, local calendar), :mod:`.weather` (date-keyed daily weather),
:mod:`.tariff_calendar` (2013 dToU schedule and its UTC alignment), :mod:`.archetypes` (local-time load shapes),
:mod:`.population` (household attributes and ground truth), :mod:`.load` (vectorised kWh),
:mod:`.faults` (planted data-quality faults), :mod:`.formatting` (LCL text), :mod:`.writers`
(files), :mod:`.generate` (orchestration, summary, CLI).
"""
