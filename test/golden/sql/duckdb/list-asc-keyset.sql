SELECT "event_id", "date", "delay", "distance", "origin", "destination"
FROM "flights"
WHERE ("date" > $p0 OR ("date" = $p0 AND "event_id" > $p1))
ORDER BY "date" ASC, "event_id" ASC
LIMIT 100

-- params (2)
-- {"name":"p0","value":978307200000000,"type":"TIMESTAMP"}
-- {"name":"p1","value":"ev-1","type":"STRING"}
