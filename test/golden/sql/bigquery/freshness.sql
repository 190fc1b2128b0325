SELECT UNIX_MICROS(max(`date`)) AS `newest_event_time`, UNIX_MICROS(max(`ingested_at`)) AS `newest_ingested_at`
FROM `ducto-test.ducto.flights`

-- params (0)
