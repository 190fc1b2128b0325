SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p9 AND `date` < @p10
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE `origin` IN (@p0, @p1)
  AND `destination` IN (@p2)
  AND `delay` > @p3
  AND `delay` <= @p4
  AND `distance` >= @p5
  AND `distance` < @p6
  AND `date` >= @p7
  AND `date` < @p8
ORDER BY `date` ASC, `event_id` ASC
LIMIT @p11

-- params (12)
-- {"name":"p0","value":"LAX","type":"STRING"}
-- {"name":"p1","value":"SFO","type":"STRING"}
-- {"name":"p2","value":"JFK","type":"STRING"}
-- {"name":"p3","value":-10,"type":"INT64"}
-- {"name":"p4","value":60,"type":"INT64"}
-- {"name":"p5","value":100,"type":"INT64"}
-- {"name":"p6","value":2000,"type":"INT64"}
-- {"name":"p7","value":978307200000000,"type":"TIMESTAMP"}
-- {"name":"p8","value":978393600000000,"type":"TIMESTAMP"}
-- {"name":"p9","value":978307200000000,"type":"TIMESTAMP"}
-- {"name":"p10","value":978393600000000,"type":"TIMESTAMP"}
-- {"name":"p11","value":100,"type":"INT64"}
