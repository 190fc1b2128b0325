SELECT count(*) AS `count`,
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
  WHERE `date` >= @p0 AND `date` < @p1
  QUALIFY ROW_NUMBER() OVER (PARTITION BY `event_id`, `date`, `origin`, `destination` ORDER BY `ingested_at`) = 1
)

-- params (2)
-- {"name":"p0","value":-9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p1","value":9007199254740991,"type":"TIMESTAMP"}
