SELECT "event_id", "date", "delay", "distance", "origin", "destination"
FROM "flights"
WHERE "origin" IN ($p0)
  AND ("date" < $p1 OR ("date" = $p1 AND "event_id" < $p2))
ORDER BY "date" DESC, "event_id" DESC
LIMIT 25

-- params (3)
-- {"name":"p0","value":"LAX","type":"STRING"}
-- {"name":"p1","value":978307200123456,"type":"TIMESTAMP"}
-- {"name":"p2","value":"ev-42","type":"STRING"}
