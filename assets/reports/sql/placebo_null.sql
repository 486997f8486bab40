-- The pseudo-treatment placebo's null distribution: the pooled effect of every draw (features.placebo_draws).
SELECT band, effect_pct FROM features.placebo_draws WHERE effect_pct IS NOT NULL ORDER BY band, draw
