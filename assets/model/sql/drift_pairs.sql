-- Each household's persona in the $previous and the $current monthly snapshot of {history}.
SELECT p.persona_name AS from_persona, c.persona_name AS to_persona
FROM {history} p
JOIN {history} c USING (household_id)
WHERE p.as_of_month = $previous AND c.as_of_month = $current
