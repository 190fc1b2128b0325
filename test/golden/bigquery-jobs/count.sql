SELECT count(*) AS `count`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p0 AND `date` < @p1
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)

-- query {"maximumBytesBilled":"3221225472","jobCreationMode":"JOB_CREATION_OPTIONAL","useLegacySql":false,"labels":{"app":"ducto","query":"count"},"location":"EU","timeoutMs":7000}
-- @p0 TIMESTAMP {"value":"2024-02-14T00:00:00.000Z"}
-- @p1 TIMESTAMP {"value":"2024-03-17T00:00:00.000Z"}
