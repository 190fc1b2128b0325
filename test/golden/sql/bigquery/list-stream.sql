SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p0 AND `date` < @p1
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
ORDER BY `date` DESC, `event_id` DESC

-- params (2)
-- {"name":"p0","value":-9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p1","value":9007199254740991,"type":"TIMESTAMP"}
