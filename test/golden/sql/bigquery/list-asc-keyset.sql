SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p2 AND `date` < @p3
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE (`date` > @p0 OR (`date` = @p0 AND `event_id` > @p1))
ORDER BY `date` ASC, `event_id` ASC
LIMIT @p4

-- params (5)
-- {"name":"p0","value":978307200000000,"type":"TIMESTAMP"}
-- {"name":"p1","value":"ev-1","type":"STRING"}
-- {"name":"p2","value":978307200000000,"type":"TIMESTAMP"}
-- {"name":"p3","value":9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p4","value":100,"type":"INT64"}
