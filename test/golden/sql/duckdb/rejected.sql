SELECT "message_id", "event_id", "code", "detail", "payload", CAST("attributes" AS VARCHAR) AS "attributes", "publish_time" AS "publish_time", "received_at" AS "received_at", "replayed_at" AS "replayed_at", "replay_outcome"
FROM "flights_rejected"
ORDER BY "received_at" DESC, "message_id" DESC
LIMIT 50

-- params (0)
