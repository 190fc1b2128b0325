SELECT UNIX_MICROS(max(`date`)) AS `newest_event_time`, UNIX_MICROS(max(`ingested_at`)) AS `newest_ingested_at`
FROM `ducto-test.ducto.flights`
WHERE `date` >= @p0 AND `date` < @p1

-- query {"maximumBytesBilled":"3221225472","jobCreationMode":"JOB_CREATION_OPTIONAL","useLegacySql":false,"labels":{"app":"ducto","query":"freshness"},"location":"EU","timeoutMs":7000}
-- @p0 TIMESTAMP {"value":"2024-03-14T00:00:00.000Z"}
-- @p1 TIMESTAMP {"value":"2024-03-17T00:00:00.000Z"}
