SELECT "event_id", "date", "delay", "distance", "origin", "destination"
FROM "flights"
WHERE "event_id" = $p0

-- params (1)
-- {"name":"p0","value":"ev-42","type":"STRING"}
