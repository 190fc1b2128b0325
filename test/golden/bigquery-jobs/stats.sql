SELECT `origin`,
  UNIX_MICROS(TIMESTAMP_TRUNC(`date`, DAY, 'UTC')) AS `bucket`,
  count(*) AS `count`,
  min(`delay`) AS `delay_min`,
  max(`delay`) AS `delay_max`,
  avg(`delay`) AS `delay_avg`,
  sum(`delay`) AS `delay_sum`,
  min(`distance`) AS `distance_min`,
  max(`distance`) AS `distance_max`,
  avg(`distance`) AS `distance_avg`,
  sum(`distance`) AS `distance_sum`
FROM (
  SELECT *
  FROM `ducto-test.ducto.flights`
  WHERE `date` >= @p1 AND `date` < @p2
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)
WHERE `date` >= @p0
GROUP BY `origin`, `bucket`
ORDER BY `origin` ASC NULLS LAST, `bucket` ASC NULLS LAST

-- query {"maximumBytesBilled":"3221225472","jobCreationMode":"JOB_CREATION_OPTIONAL","useLegacySql":false,"labels":{"app":"ducto","query":"stats"},"location":"EU","timeoutMs":7000}
-- @p0 TIMESTAMP {"value":"2024-03-10T00:00:00.000Z"}
-- @p1 TIMESTAMP {"value":"2024-03-10T00:00:00.000Z"}
-- @p2 TIMESTAMP {"value":"2024-03-17T00:00:00.000Z"}
