SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p1 AND `date` < @p2
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE `event_id` = @p0

-- params (3)
-- {"name":"p0","value":"ev-42","type":"STRING"}
-- {"name":"p1","value":-9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p2","value":9007199254740991,"type":"TIMESTAMP"}
