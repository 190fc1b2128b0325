SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM `ducto-test.ducto.flights`
ORDER BY `date` DESC, `event_id` DESC

-- params (0)
