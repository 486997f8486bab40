-- The checks that can fail (features.response_checks), one row per check and band, in report order.
SELECT "check", band, n_households, n_controls, n_events, n_draws, estimate_pct, low_pct, high_pct,
       estimate_percentile, permutation_p_value, share_draws_any_flagged, ci_coverage, verdict, reason
FROM features.response_checks
ORDER BY CASE "check" WHEN 'pseudo_treatment_placebo' THEN 0 WHEN 'baseline_year_placebo' THEN 1 ELSE 2 END,
         band
