-- The counts behind the report's "What could not be computed" list: one row. What the data hold
-- (schedule events, households per tariff group with features, pre-period profiles) and what the
-- feature layer could measure from them (measured households, matched designs, the baseline-year placebo).
SELECT
    (SELECT count(DISTINCT event_id) FROM ingest.tariff_schedule WHERE event_id IS NOT NULL) AS schedule_events,
    (SELECT count(*) FROM features.household_features WHERE tariff_group = $treated) AS treated,
    (SELECT count(*) FROM features.household_features WHERE tariff_group = $control) AS controls,
    (SELECT count(*) FROM features.baseline_features) AS with_pre_period,
    (SELECT count(*) FROM features.treatment_features
        WHERE tariff_group = $treated AND response_method <> 'none') AS treated_measured,
    (SELECT count(*) FROM features.treatment_features
        WHERE tariff_group = $treated AND response_method <> 'none'
          AND comparison_design = 'all_controls') AS treated_all_controls,
    (SELECT coalesce(max(n_households), 0) FROM features.tariff_response_summary
        WHERE analysis = 'placebo' AND band = 'High') AS baseline_placebo_households,
    (SELECT count(*) FROM reports.dr_targets WHERE expected_kw_reduction IS NULL) AS unsized_targets
