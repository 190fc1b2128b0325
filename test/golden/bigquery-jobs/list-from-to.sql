SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p4 AND `date` < @p5
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE `date` >= @p0
  AND `date` < @p1
  AND `origin` IN (@p2, @p3)
ORDER BY `date` ASC, `event_id` ASC
LIMIT @p6

-- query {"maximumBytesBilled":"3221225472","jobCreationMode":"JOB_CREATION_OPTIONAL","useLegacySql":false,"labels":{"app":"ducto","query":"list"},"location":"EU","timeoutMs":7000}
-- @p0 TIMESTAMP {"value":"2024-03-10T00:00:00.000Z"}
-- @p1 TIMESTAMP {"value":"2024-03-13T00:00:00.000Z"}
-- @p2 STRING "LAX"
-- @p3 STRING "SFO"
-- @p4 TIMESTAMP {"value":"2024-03-10T00:00:00.000Z"}
-- @p5 TIMESTAMP {"value":"2024-03-13T00:00:00.000Z"}
-- @p6 INT64 100
