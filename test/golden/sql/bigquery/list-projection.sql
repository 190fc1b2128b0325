SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `origin`
FROM `ducto-test.ducto.flights`
ORDER BY `date` ASC, `event_id` ASC
LIMIT 100

-- params (0)
