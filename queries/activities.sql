-- activities: every (service, activity, result) seen in the data, and whether ssprlens gives the activity a meaning.
--
-- A new activity Microsoft introduces shows up here at once, `interpreted` false, instead of being
-- silently ignored. Names are shown as found; `none` stands for a missing value.
--   service           loggedByService
--   activity          activityDisplayName
--   result            success, failure, timeout, ...
--   rows              records
--   correlation_ids   distinct correlation ids among them
--   first, last       the earliest and latest activityDateTime (UTC)
--   interpreted       whether the model reads the activity (matched ignoring case): the flow, the
--                     self-service reset and unlock, the portal's admin reset, the newer
--                     experience's `User started password reset`, Core Directory's `Reset user
--                     password`; every other activity is context, never an attempt
SELECT
    COALESCE(e.service, 'none') AS service,
    COALESCE(e.activity, 'none') AS activity,
    COALESCE(e.result, 'none') AS result,
    COUNT(*) AS "rows",
    COUNT(DISTINCT e.correlation_id) AS correlation_ids,
    STRFTIME(MIN(e.time), '%Y-%m-%dT%H:%M:%SZ') AS "first",
    STRFTIME(MAX(e.time), '%Y-%m-%dT%H:%M:%SZ') AS "last",
    MAX(CASE WHEN i.activity IS NULL THEN 0 ELSE 1 END) = 1 AS interpreted
FROM events e
LEFT JOIN interpreted_activities i ON i.activity = LOWER(TRIM(e.activity))
GROUP BY e.service, e.activity, e.result
ORDER BY "rows" DESC, service, activity, result
