SELECT UNIX_MICROS(TIMESTAMP_TRUNC(`date`, HOUR, 'UTC')) AS `bucket`,
  count(*) AS `count`,
  min(`delay`) AS `delay_min`,
  max(`delay`) AS `delay_max`,
  avg(`delay`) AS `delay_avg`,
  sum(`delay`) AS `delay_sum`,
  min(`distance`) AS `distance_min`,
  max(`distance`) AS `distance_max`,
  avg(`distance`) AS `distance_avg`,
  sum(`distance`) AS `distance_sum`
FROM `ducto-test.ducto.flights`
GROUP BY `bucket`
ORDER BY `bucket` ASC NULLS LAST

-- params (0)
