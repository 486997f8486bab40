"""The 48 half-hour slots of a UK local day and the column names that carry one value per slot.

No dependencies, so that settings modules (and the code location) can use them without polars.
"""

N_SLOTS = 48
SHAPE_COLUMNS = [f"shape_s{i:02d}" for i in range(N_SLOTS)]
PROFILE_COLUMNS = [f"profile_kwh_s{i:02d}" for i in range(N_SLOTS)]
