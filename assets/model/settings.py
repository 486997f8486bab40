"""Settings of the segmentation layer: one frozen dataclass, every threshold documented here.

Every function of ``assets.model`` and ``assets.reports`` takes a
:class:`SegmentationSettings`. Nothing below is a result: these are the knobs and the rules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import ClassVar, Literal

from assets.features import slots
from assets.features.slots import N_SLOTS  # noqa: F401  (re-exported: the model reads the slot count here)

# Version of the modelling code. Bump when a change can alter labels for the same data; it is part
# of the persisted model's version string (see model_store.model_version_string).
SEGMENTATION_CODE_VERSION = "1.0.0"

SHAPE_COLUMNS: tuple[str, ...] = tuple(slots.SHAPE_COLUMNS)  # the features' 48-slot shape

# Columns of features.household_features this layer reads (the contract allows more).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "household_id",
    "tariff_group",
    "acorn",
    "acorn_group",
    "is_treated",
    "mean_daily_kwh",
    "peak_kwh_per_half_hour",
    "peak_offpeak_ratio",
    "daily_cv",
    "load_factor",
    "evening_peak_hour",
    "weekday_weekend_ratio",
    "shape_entropy",
    "night_share",
    "daytime_share",
    "evening_share",
    *SHAPE_COLUMNS,
    "response_method",
    "high_did_pct",
    "low_did_pct",
    "rebound_did_pct",
    "high_p_value",
    "responder",
)

# Lifestyle features clustered for the behavioural personas: they exist for every household
# (treated or control), so nobody is imputed on them. ``log_mean_daily_kwh`` is derived
# (log of mean_daily_kwh) so that level enters once, on a log scale, next to the shape ratios;
# ``morning_share`` (06:00-10:00) is derived from the shape columns (inputs.prepare_features).
DEFAULT_LIFESTYLE_FEATURES: tuple[str, ...] = (
    "log_mean_daily_kwh",
    "peak_offpeak_ratio",
    "daily_cv",
    "load_factor",
    "night_share",
    "morning_share",
    "daytime_share",
    "evening_share",
    "evening_peak_hour",
    "weekday_weekend_ratio",
    "shape_entropy",
)

# Stage 2 (explanation): categorical and continuous features tested across personas. Only OUTSIDE
# covariates -- register fields the personas were not built from -- can explain them; everything else
# (the lifestyle features the clusters were fitted on, tariff_group and the measured response that
# define the price-responsive personas) is tested too but labelled descriptive: its differences
# across personas hold by construction (circular), so its p-values are not evidence.
DEFAULT_OUTSIDE_COVARIATES: tuple[str, ...] = ("acorn_group", "acorn")
DEFAULT_CATEGORICAL_FEATURES: tuple[str, ...] = ("acorn_group", "acorn", "tariff_group")
DEFAULT_CONTINUOUS_FEATURES: tuple[str, ...] = (
    "mean_daily_kwh",
    "peak_kw",
    "peak_offpeak_ratio",
    "daily_cv",
    "load_factor",
    "night_share",
    "morning_share",
    "daytime_share",
    "evening_share",
    "evening_peak_hour",
    "weekday_weekend_ratio",
    "shape_entropy",
    "high_reduction_shrunk_pct",
)

PROGRAMS: tuple[str, ...] = (
    "critical-peak pricing / dynamic ToU",
    "peak-time rebate",
    "automation / direct load control",
    "behavioural DR messaging",
    "no action",
)


@dataclass(frozen=True)
class NamingRules:
    """Thresholds of the persona / load-shape naming rules (see persona_naming.name_from_levels).

    Shares are fractions of daily kWh in UK-local windows of the mean (centroid) profile; a flat
    profile has night (00-07) 7/24 = 0.29, daytime (10-16) 0.25, evening (16-22) 0.25.
    Peak ratios are the window maximum of the profile divided by its mean (profile mean = 1).
    """

    night_heavy_share: float = 0.45
    # "Flat": max/mean <= flat_max_to_mean AND, given the population, <= the all-household centroid's
    # max/mean - flat_margin_sd x the households' SD of max/mean (0.2 = Cohen's "small" standardised
    # difference; real LCL: 1.46 - 0.2 x 0.73 = 1.31). The all-home average day is never "flat" (it was).
    flat_max_to_mean: float = 1.5
    flat_margin_sd: float = 0.2
    high_use_daily_kwh: float = 20.0  # absolute fallback, used only without a population median
    # "high all-day user": mean daily kWh >= this x the population median (relative, so the rule holds
    # for any fleet's level; 1.5 x the LCL median of ~8 kWh/day ~ 12 kWh/day)
    high_use_vs_population: float = 1.5
    double_peak_min: float = 1.3
    double_peak_morning_vs_evening: float = 0.6
    double_peak_max_trough: float = 0.75
    daytime_share: float = 0.30
    evening_share: float = 0.32
    # The midday trough a double peak must have (local hours [start, end)). A class constant, not a
    # field: it is not part of the settings hash (model version string). Every other window the rules
    # read is a feature's own (night/daytime/evening share, morning share, peak hours: catalogue).
    double_peak_trough_hours: ClassVar[tuple[float, float]] = (11.0, 15.0)


@dataclass(frozen=True)
class SegmentationSettings:
    """All knobs of clustering, personas, interventions, DR targets and report."""

    random_state: int = 20240601
    # BLAS/OpenMP threads while fitting: 1 is faster for a few thousand households, immune to
    # oversubscription when other runs share the machine, and bit-for-bit reproducible.
    n_threads: int = 1
    # Households below this mean daily use are left out of FITTING (vacant homes / metering faults:
    # their normalised shape is noise and becomes a one-household cluster); they are still assigned.
    min_daily_kwh_for_fit: float = 0.5

    # --- load-shape (textbook) segmentation -------------------------------------------------
    load_shape_resolution: Literal["half_hourly", "hourly"] = "half_hourly"
    k_min: int = 2
    k_max: int = 10
    textbook_k: int = 3
    # Chosen-K rule (load_shape.choose_load_shape_k): "gap" = the gap statistic's rule (Tibshirani,
    # Walther & Hastie 2001): the smallest eligible K with Gap(K) >= Gap(K+1) - s(K+1). Silhouette favours
    # K=2 on blended routines (five planted blended archetypes: K=2, ARI ~0.2; gap: K=5, ARI ~0.8).
    # "silhouette" = the earlier rule, kept for comparison: best silhouette, every K within
    # silhouette_tie_tolerance of the best tied, ties broken by the inertia elbow (kneedle), then smaller K.
    k_rule: Literal["gap", "silhouette"] = "gap"
    # Reference data sets of the gap statistic (uniform in the data's principal-axes box); the paper
    # uses 10-20. s(K) carries their Monte Carlo error. 0 = no gap statistic (the silhouette rule).
    gap_references: int = 10
    # K-means restarts on a reference set: uniform data have no competing local optima worth more
    # restarts, and the references are B x (k_max - k_min + 1) fits, the gap's whole cost.
    gap_reference_n_init: int = 1
    silhouette_tie_tolerance: float = 0.01
    kmeans_n_init: int = 10
    load_shape_bootstrap: int = 5
    # Eligible K: no cluster smaller than this (singletons / pairs are outliers, not archetypes; a
    # genuine rare archetype such as night storage heating, ~1 % of LCL, must stay possible) and a
    # stability ARI >= min_stability_ari.
    load_shape_min_cluster_size: int = 3
    # Both segmentations: no cluster below this share of the households fitted (an outlier split --
    # K=2 separating 5 of 201 real LCL homes with silhouette 0.62 -- is not a segmentation a utility
    # can act on). Such groups are reported as an outlier group beside the chosen K instead.
    min_cluster_share: float = 0.05
    # Load shape: clusters below min_cluster_share are allowed only as an outlier group holding at most
    # this share of the households, beside >= 2 main clusters (LCL's night-heavy cluster: 54 of 5,358).
    max_outlier_share: float = 0.05

    # --- behavioural personas (stage 1) ------------------------------------------------------
    lifestyle_features: tuple[str, ...] = DEFAULT_LIFESTYLE_FEATURES
    persona_k_min: int = 2
    persona_k_max: int = 8
    model_families: tuple[str, ...] = ("kmeans", "gmm")
    # None = no PCA; int = components; float in (0, 1) = share of variance kept.
    pca_components: int | float | None = None
    gmm_covariance_type: Literal["full", "tied", "diag", "spherical"] = "full"
    gmm_n_init: int = 3
    gmm_reg_covar: float = 1e-3
    # Eligibility of a (family, K) candidate before ranking (see model_selection.choose_behaviour_model).
    n_bootstrap: int = 10
    bootstrap_fraction: float = 0.8
    min_stability_ari: float = 0.6
    min_cluster_size: int = 5
    bic_delta: float = 10.0
    silhouette_max_samples: int = 4000
    # Forced choice (None = automatic rule).
    persona_family: str | None = None
    persona_k: int | None = None

    # --- responsiveness ----------------------------------------------------------------------
    # high_did_pct is a FRACTION of the household's reference in features.household_features
    # (-0.058 = 5.8 % less load in High periods); x100 gives the percent used everywhere here.
    did_pct_multiplier: float = 100.0
    # Standard error of a household's High estimate: from the studentised DiD (t_stat_column, if the
    # frame has it and it is finite), else from high_p_value (one-sided "reduced load" p-value of the
    # features layer: p_value_sides = 1), else the spread of all estimates.
    # Preferred: se_column, the features layer's bootstrap over the household's own events (a fraction,
    # x did_pct_multiplier); the estimate is then used unclipped. The t / p-value route below (with its
    # |t| cap and +-max_abs_reduction_pct clip) is only a fallback for frames without that column.
    se_column: str | None = "high_did_pct_se"
    t_stat_column: str | None = "high_t_stat"
    p_value_sides: int = 1
    max_abs_t: float = 10.0
    max_abs_reduction_pct: float = 60.0
    # "responder_flag": the features layer's significance-tested `responder` (and a positive
    # reduction); "shrunk_reduction": shrunk High reduction >= responsive_min_reduction_pct.
    responsive_rule: Literal["responder_flag", "shrunk_reduction"] = "responder_flag"
    responsive_min_reduction_pct: float = 5.0
    # (The segment prior's strength n0 is estimated from the data: responsiveness.segment_prior_strength.)
    min_measured_for_label: int = 5
    unresponsive_below_pct: float = 2.0
    # Response model for never-treated households (response_model.py): repeated K-fold CV over measured
    # households (repeats x folds), corrected repeated-CV intervals and a permutation null of its gain over
    # ranking by peak load; candidate families in order of preference on ties (ridge, logistic, boosting:
    # boosting is off by default: the slowest fit, and the null refits every family); the ridge penalty is
    # chosen by GCV inside each training fold; the capture statistic takes the top share of each fold.
    # response_bootstrap: draws of the paired household bootstrap of the held-out-event comparison.
    response_cv_folds: int = 5
    response_cv_repeats: int = 5
    response_permutations: int = 200
    response_families: tuple[str, ...] = ("ridge", "logistic")
    response_ridge_alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
    response_logistic_c: float = 1.0
    response_capture_share: float = 1 / 3
    response_bootstrap: int = 500
    # Prior (%) of the persona catalogue's response when NO household has a measured response (e.g. a fleet
    # without a pricing trial), from a source the utility names. Set (not None), it also says the utility
    # accepts outside evidence: the DR list then sizes every household by its offered program's evidence
    # (intention-to-treat, program_evidence.csv), as it sizes never-treated households. None: the list's
    # expected kW stays empty and it ranks by peak load (reports.dr_targets.NO_RESPONSE).
    external_prior_reduction_pct: float | None = None

    # --- naming ---------------------------------------------------------------------------------
    naming: NamingRules = field(default_factory=NamingRules)

    # --- stage 2 explanation --------------------------------------------------------------------
    categorical_features: tuple[str, ...] = DEFAULT_CATEGORICAL_FEATURES
    outside_covariates: tuple[str, ...] = DEFAULT_OUTSIDE_COVARIATES
    continuous_features: tuple[str, ...] = DEFAULT_CONTINUOUS_FEATURES
    p_adjust: Literal["bh", "holm"] = "bh"
    alpha: float = 0.05
    # Power at which the response test's minimum detectable difference is stated (the usual 80 %).
    power_target: float = 0.8
    top_features: int = 4

    # --- interventions ----------------------------------------------------------------------------
    # No setting: programs are chosen and sized only from assets/reports/program_evidence.csv
    # (sourced low / central / high figures; rule in assets/reports/interventions.py).

    # --- DR targets and privacy -------------------------------------------------------------------
    dr_budget_households: int | None = None  # None = the size of the textbook selection
    pseudonymise: bool = False
    pseudonym_key: str | None = None
    pseudonym_salt: str = "meter-personas"
    k_anonymity: int = 5

    model_version: str = SEGMENTATION_CODE_VERSION

    def as_dict(self) -> dict:
        return asdict(self)

    def __post_init__(self) -> None:
        if not 2 <= self.k_min <= self.textbook_k <= self.k_max:
            raise ValueError("need 2 <= k_min <= textbook_k <= k_max")
        if not 2 <= self.persona_k_min <= self.persona_k_max:
            raise ValueError("need 2 <= persona_k_min <= persona_k_max")
        unknown = set(self.model_families) - {"kmeans", "gmm"}
        if unknown or not self.model_families:
            raise ValueError(f"model_families must be a non-empty subset of kmeans, gmm: {unknown}")
        if not 0.0 <= self.min_cluster_share < 0.5:
            raise ValueError("min_cluster_share must be in [0, 0.5)")
        if self.gap_references < 0 or self.gap_reference_n_init < 1:
            raise ValueError("gap_references must be >= 0 and gap_reference_n_init >= 1")
        if not 0.0 < self.bootstrap_fraction <= 1.0:
            raise ValueError("bootstrap_fraction must be in (0, 1]")
        if self.pseudonymise and not self.pseudonym_key:
            raise ValueError("pseudonymise=True needs a pseudonym_key")
        if not 0.0 < self.power_target < 1.0:
            raise ValueError("power_target must be in (0, 1)")
        if self.p_value_sides not in (1, 2):
            raise ValueError("p_value_sides must be 1 or 2")
        if self.k_anonymity < 1:
            raise ValueError("k_anonymity must be >= 1")
        bad = set(self.response_families) - {"ridge", "logistic", "boosting"}
        if bad or not self.response_families:
            raise ValueError(f"response_families must be a non-empty subset of ridge, logistic, boosting: {bad}")
        if self.response_cv_folds < 2 or self.response_cv_repeats < 1 or self.response_permutations < 0:
            raise ValueError("need response_cv_folds >= 2, response_cv_repeats >= 1, response_permutations >= 0")
        if not 0.0 < self.response_capture_share <= 1.0:
            raise ValueError("response_capture_share must be in (0, 1]")
