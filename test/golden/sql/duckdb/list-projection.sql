SELECT "event_id", "date", "delay", "origin"
FROM "flights"
ORDER BY "date" ASC, "event_id" ASC
LIMIT 100

-- params (0)
