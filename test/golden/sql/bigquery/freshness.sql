SELECT UNIX_MICROS(max(`date`)) AS `newest_event_time`, UNIX_MICROS(max(`ingested_at`)) AS `newest_ingested_at`
FROM `ducto-test.ducto.flights`
WHERE `date` >= @p0 AND `date` < @p1

-- params (2)
-- {"name":"p0","value":-9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p1","value":9007199254740991,"type":"TIMESTAMP"}
