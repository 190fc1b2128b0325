SELECT `event_id`, UNIX_MICROS(`date`) AS `date`, `delay`, `distance`, `origin`, `destination`
FROM `ducto-test.ducto.flights`
WHERE `event_id` = @p0

-- params (1)
-- {"name":"p0","value":"ev-42","type":"STRING"}
