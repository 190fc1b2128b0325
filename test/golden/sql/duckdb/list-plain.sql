SELECT "event_id", "date", "delay", "distance", "origin", "destination"
FROM "flights"
ORDER BY "date" ASC, "event_id" ASC
LIMIT 100

-- params (0)
