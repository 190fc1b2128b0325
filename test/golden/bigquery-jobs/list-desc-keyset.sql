SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p3 AND `date` < @p4
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE `delay` >= @p0
  AND (`date` < @p1 OR (`date` = @p1 AND `event_id` < @p2))
ORDER BY `date` DESC, `event_id` DESC
LIMIT @p5

-- query {"maximumBytesBilled":"3221225472","jobCreationMode":"JOB_CREATION_OPTIONAL","useLegacySql":false,"labels":{"app":"ducto","query":"list"},"location":"EU","timeoutMs":7000}
-- @p0 INT64 15
-- @p1 TIMESTAMP {"value":"2024-03-10T00:00:05.000123Z"}
-- @p2 STRING "ev-cursor"
-- @p3 TIMESTAMP {"value":"2024-03-09T00:00:00.000Z"}
-- @p4 TIMESTAMP {"value":"2024-03-10T00:00:05.000124Z"}
-- @p5 INT64 26
