SELECT max("date") AS "newest_event_time", max("ingested_at") AS "newest_ingested_at"
FROM "flights"

-- params (0)
