SELECT count(*) AS "count"
FROM "flights"

-- params (0)
