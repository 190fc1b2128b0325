SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p3 AND `date` < @p4
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE `origin` IN (@p0)
  AND (`date` < @p1 OR (`date` = @p1 AND `event_id` < @p2))
ORDER BY `date` DESC, `event_id` DESC
LIMIT @p5

-- params (6)
-- {"name":"p0","value":"LAX","type":"STRING"}
-- {"name":"p1","value":978307200123456,"type":"TIMESTAMP"}
-- {"name":"p2","value":"ev-42","type":"STRING"}
-- {"name":"p3","value":-9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p4","value":978307200123457,"type":"TIMESTAMP"}
-- {"name":"p5","value":25,"type":"INT64"}
