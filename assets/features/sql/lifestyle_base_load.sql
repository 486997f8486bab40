-- Base load: the $quantile (linear interpolation) of actual readings starting in local slots
-- [$slot_lo, $slot_hi). {readings}: clean readings table; {grid}: the window's included half hours.
SELECT r.household_id, quantile_cont(r.kwh, $quantile) AS base_load_kwh
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.quality_code = 'A' AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
  AND g.slot >= $slot_lo AND g.slot < $slot_hi
GROUP BY ALL
