SELECT `message_id`, `event_id`, `code`, `detail`, `payload`, TO_JSON_STRING(`attributes`) AS `attributes`, UNIX_MICROS(`publish_time`) AS `publish_time`, UNIX_MICROS(`received_at`) AS `received_at`, UNIX_MICROS(`replayed_at`) AS `replayed_at`, `replay_outcome`
FROM `ducto-test.ducto.flights_rejected`
WHERE `received_at` >= @p0 AND `received_at` < @p1
ORDER BY `received_at` DESC, `message_id` DESC
LIMIT @p2

-- params (3)
-- {"name":"p0","value":-9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p1","value":9007199254740991,"type":"TIMESTAMP"}
-- {"name":"p2","value":50,"type":"INT64"}
