SELECT "event_id", "date", "delay", "distance", "origin", "destination"
FROM "flights"
ORDER BY "date" DESC, "event_id" DESC

-- params (0)
