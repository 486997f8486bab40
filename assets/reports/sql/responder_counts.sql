-- How the population effect's households, the funnel's measured households and the responders reconcile:
-- dynamic-tariff households with a price response (features), of them segmented, BH-flagged responders
-- (significant reduction over all High events), of them segmented, and of those how many have their own
-- 95 % event-bootstrap interval covering 0.
WITH seg AS (SELECT household_id, is_price_responsive_persona FROM model.segment_assignments),
t AS (
    SELECT t.household_id, t.responder AND t.high_did_pct < 0 AS flagged,
           t.high_did_pct_ci_low <= 0 AND 0 <= t.high_did_pct_ci_high AS covers_zero,
           seg.household_id IS NOT NULL AS segmented, coalesce(seg.is_price_responsive_persona, false) AS in_persona
    FROM features.treatment_features t LEFT JOIN seg USING (household_id)
    WHERE t.tariff_group = $treated AND t.response_method <> 'none' AND t.high_did_pct IS NOT NULL
)
SELECT
    count(*) AS with_response,
    count(*) FILTER (WHERE segmented) AS with_response_segmented,
    count(*) FILTER (WHERE flagged) AS flagged,
    count(*) FILTER (WHERE flagged AND segmented) AS flagged_segmented,
    count(*) FILTER (WHERE flagged AND segmented AND covers_zero) AS flagged_covering_zero,
    count(*) FILTER (WHERE in_persona) AS in_responsive_persona
FROM t
