-- users: the users whose resets need a look: repeat resets, attempts after hours, blocks, missing methods.
--
-- One row per user with at least one flag, over self-service reset and unlock attempts (helpdesk
-- resets left out). The most resets within 24 hours first.
--   attempts, completed      the user's self-service attempts, and how many completed
--   most_resets_in_24h       the most completed resets (unlocks not counted) that began within
--                            24 hours of the first of them
--   repeat_resets            flagged: most_resets_in_24h >= --repeat-resets (default 2)
--   after_hours              attempts begun outside the working hours (--working-hours,
--                            --working-days, --working-tz; default 08:00-18:00 mon-fri in --tz)
--   blocked                  attempts that ended blocked for too many tries
--   insufficient_methods     attempts refused for too few authentication methods: the user needs
--                            help registering them
--   channels                 the channels used, space-separated
--   first_attempt, last_attempt  when the first and last attempt began (UTC)
--   flags                    what put the user here, space-separated
WITH self_service AS (
    SELECT *
    FROM attempts
    WHERE kind IN ('reset', 'unlock') AND "user" IS NOT NULL
),
resets AS (
    SELECT attempt_id, "user", started
    FROM self_service
    WHERE kind = 'reset' AND completed AND started IS NOT NULL
),
windows AS (
    SELECT a.attempt_id, a."user", COUNT(*) AS resets
    FROM resets a
    JOIN resets b ON b."user" = a."user" AND b.started >= a.started
    WHERE b.started < a.started + INTERVAL '24 hours'
    GROUP BY a.attempt_id, a."user"
),
most AS (
    SELECT "user", MAX(resets) AS most_resets_in_24h
    FROM windows
    GROUP BY "user"
),
per_user AS (
    SELECT
        "user",
        COUNT(*) AS attempts,
        COUNT(*) FILTER (WHERE completed) AS completed,
        COUNT(*) FILTER (WHERE after_hours) AS after_hours,
        COUNT(*) FILTER (WHERE final_state = 'blocked') AS blocked,
        COUNT(*) FILTER (WHERE final_state = 'insufficient_methods') AS insufficient_methods,
        ARRAY_TO_STRING(ARRAY_AGG(DISTINCT channel ORDER BY channel), ' ') AS channels,
        MIN(started) AS first_attempt,
        MAX(started) AS last_attempt
    FROM self_service
    GROUP BY "user"
),
flagged AS (
    SELECT
        u.*,
        COALESCE(m.most_resets_in_24h, 0) AS most_resets_in_24h,
        COALESCE(m.most_resets_in_24h, 0) >= p.repeat_resets_threshold AS repeat_resets
    FROM per_user u
    LEFT JOIN most m ON m."user" = u."user"
    CROSS JOIN params p
)
SELECT
    "user",
    attempts,
    completed,
    most_resets_in_24h,
    repeat_resets,
    after_hours,
    blocked,
    insufficient_methods,
    channels,
    first_attempt,
    last_attempt,
    CONCAT_WS(
        ' ',
        CASE WHEN repeat_resets THEN 'repeat_resets' END,
        CASE WHEN after_hours > 0 THEN 'after_hours' END,
        CASE WHEN blocked > 0 THEN 'blocked' END,
        CASE WHEN insufficient_methods > 0 THEN 'insufficient_methods' END
    ) AS flags
FROM flagged
WHERE repeat_resets OR after_hours > 0 OR blocked > 0 OR insufficient_methods > 0
ORDER BY most_resets_in_24h DESC, blocked DESC, insufficient_methods DESC, after_hours DESC, "user"
