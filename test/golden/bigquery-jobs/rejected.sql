SELECT `message_id`, `event_id`, `code`, `detail`, `payload`, TO_JSON_STRING(`attributes`) AS `attributes`, UNIX_MICROS(`publish_time`) AS `publish_time`, UNIX_MICROS(`received_at`) AS `received_at`, UNIX_MICROS(`replayed_at`) AS `replayed_at`, `replay_outcome`
FROM `ducto-test.ducto.flights_rejected`
WHERE `received_at` >= @p0 AND `received_at` < @p1
ORDER BY `received_at` DESC, `message_id` DESC
LIMIT @p2

-- query {"maximumBytesBilled":"3221225472","jobCreationMode":"JOB_CREATION_OPTIONAL","useLegacySql":false,"labels":{"app":"ducto","query":"rejected"},"location":"EU","timeoutMs":7000}
-- @p0 TIMESTAMP {"value":"2024-02-14T00:00:00.000Z"}
-- @p1 TIMESTAMP {"value":"2024-03-17T00:00:00.000Z"}
-- @p2 INT64 20
