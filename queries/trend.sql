-- trend: password resets per period and channel, and the login screen's share of self-service resets.
--
-- One row per period (`--by day|week|month` in the zone of `--tz`, default weeks in UTC) and
-- channel (every channel of `channels`, helpdesk `admin` included, zeros too), every period from
-- the first attempt's to the last's. An attempt belongs to the period of its first row.
-- Unlocks are not resets.
--   period               the period's first day, YYYY-MM-DD (weeks start on Monday)
--   attempts, completed  reset attempts (for `admin`: helpdesk resets) and how many completed
--   success_rate         completed / attempts (empty without attempts)
--   login_screen_share   of the period's completed self-service resets (helpdesk excluded), the
--                        share from the login screen; the same on every row of the period, empty
--                        when the period has no completed self-service reset
WITH periods AS (
    SELECT DISTINCT period FROM calendar
),
per_period_channel AS (
    SELECT
        period,
        channel,
        COUNT(*) AS attempts,
        COUNT(*) FILTER (WHERE completed) AS completed
    FROM attempts
    WHERE kind IN ('reset', 'admin') AND period IS NOT NULL
    GROUP BY period, channel
),
shares AS (
    SELECT
        period,
        CAST(COUNT(*) FILTER (WHERE channel = 'login_screen') AS DOUBLE) / COUNT(*) AS login_screen_share
    FROM attempts
    WHERE kind = 'reset' AND completed AND period IS NOT NULL
    GROUP BY period
)
SELECT
    p.period,
    c.channel,
    COALESCE(g.attempts, 0) AS attempts,
    COALESCE(g.completed, 0) AS completed,
    CAST(g.completed AS DOUBLE) / g.attempts AS success_rate,
    s.login_screen_share
FROM periods p
CROSS JOIN channel_order c
LEFT JOIN per_period_channel g ON g.period = p.period AND g.channel = c.channel
LEFT JOIN shares s ON s.period = p.period
ORDER BY p.period, c.position
