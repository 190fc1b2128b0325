SELECT "origin",
  "destination",
  count(*) AS "count",
  min("delay") AS "delay_min",
  max("delay") AS "delay_max",
  avg("delay") AS "delay_avg",
  sum("delay") AS "delay_sum",
  min("distance") AS "distance_min",
  max("distance") AS "distance_max",
  avg("distance") AS "distance_avg",
  sum("distance") AS "distance_sum"
FROM "flights"
WHERE "delay" >= $p0
GROUP BY "origin", "destination"
ORDER BY "origin" ASC NULLS LAST, "destination" ASC NULLS LAST

-- params (1)
-- {"name":"p0","value":30,"type":"INT64"}
