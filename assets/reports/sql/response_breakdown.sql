-- The population effects of features.tariff_response_summary the report shows with their intervals: time of
-- day, season, rebound, pre-loading, the cross-fitted responders and the reference-day sensitivity (the
-- placebo rows are shown by their own block).
SELECT analysis, band, window_kind, start_bucket, season, method, n_households, n_events,
       effect_pct, ci_low_pct, ci_high_pct, n_flagged
FROM features.tariff_response_summary
WHERE analysis IN ('treatment', 'responders_heldout', 'responders_in_sample', 'sensitivity_adjacent_days')
ORDER BY CASE analysis WHEN 'treatment' THEN 0 WHEN 'responders_heldout' THEN 1 WHEN 'responders_in_sample' THEN 2
         ELSE 3 END, method DESC, band, window_kind, season, start_bucket
