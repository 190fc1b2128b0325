SELECT count(*) AS `count`
FROM `ducto-test.ducto.flights`

-- params (0)
