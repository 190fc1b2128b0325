SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p1 AND `date` < @p2
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE `event_id` = @p0

-- query {"maximumBytesBilled":"3221225472","jobCreationMode":"JOB_CREATION_OPTIONAL","useLegacySql":false,"labels":{"app":"ducto","query":"get"},"location":"EU","timeoutMs":7000}
-- @p0 STRING "ev-wanted"
-- @p1 TIMESTAMP {"value":"2024-02-14T00:00:00.000Z"}
-- @p2 TIMESTAMP {"value":"2024-03-17T00:00:00.000Z"}
