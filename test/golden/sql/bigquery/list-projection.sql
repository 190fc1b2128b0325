SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `origin`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p0 AND `date` < @p1
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
ORDER BY `date` ASC, `event_id` ASC
LIMIT @p2

-- params (3)
-- {"name":"p0","value":-9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p1","value":9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p2","value":100,"type":"INT64"}
