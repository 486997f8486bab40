-- Population High-event effect for the report: the treatment effect
-- (features.tariff_response_summary, primary method, all events, every season and start time).
SELECT analysis, effect_pct, ci_low_pct, ci_high_pct, n_households, n_events
FROM features.tariff_response_summary
WHERE analysis = 'treatment'
  AND band = 'High' AND method = 'primary' AND window_kind = 'event'
  AND start_bucket = 'all' AND season = 'all'
