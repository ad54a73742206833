-- summary: the headline numbers of the report window, one per row.
--
-- Built on the other reports (each is also a table named after it). Every row has a metric, a
-- number (`value`) and, where it helps, a text (`detail`).
--   first_attempt, last_attempt   detail: when the first and last attempt began (UTC)
--   attempts                      self-service reset attempts (unlocks and helpdesk excluded)
--   completed                     of these, completed
--   success_rate                  completed / attempts
--   login_screen_share            completed from the Windows login screen / completed self-service
--   admin_resets                  successful helpdesk resets (portal and other tools, see `helpdesk`)
--   top_drop_off                  the most frequent final state other than `completed` (detail)
--                                 and its attempts (value); ties by name
--   flagged_ips                   addresses flagged `many_users` in `ips` (detail: the threshold)
--   flagged_users                 users listed in `users`
--   estimated_calls_avoided       total of `helpdesk`
--   estimated_savings             total of `helpdesk` (detail: the currency)
--   unknown_share                 self-service reset attempts in channel `unknown` / all of them:
--                                 how far the channel rules fit the data (see `calibrate`)
WITH resets AS (
    SELECT
        COUNT(*) AS attempts,
        COUNT(*) FILTER (WHERE completed) AS completed,
        COUNT(*) FILTER (WHERE completed AND channel = 'login_screen') AS login_screen,
        COUNT(*) FILTER (WHERE channel = 'unknown') AS unknown
    FROM attempts
    WHERE kind = 'reset'
),
span AS (
    SELECT
        STRFTIME(MIN(started), '%Y-%m-%dT%H:%M:%SZ') AS first_attempt,
        STRFTIME(MAX(started), '%Y-%m-%dT%H:%M:%SZ') AS last_attempt
    FROM attempts
),
admin AS (
    SELECT COUNT(*) AS admin_resets FROM attempts WHERE kind = 'admin' AND completed
),
drop_offs AS (
    SELECT final_state, COUNT(*) AS attempts
    FROM attempts
    WHERE kind = 'reset' AND final_state <> 'completed'
    GROUP BY final_state
),
most_drop_offs AS (
    SELECT MAX(attempts) AS attempts FROM drop_offs
),
top_drop_off AS (
    SELECT MIN(d.final_state) AS final_state, COALESCE(MAX(d.attempts), 0) AS attempts
    FROM drop_offs d
    JOIN most_drop_offs m ON m.attempts = d.attempts
),
flagged_ips AS (
    SELECT COUNT(*) AS flagged FROM ips WHERE scope = 'address' AND many_users
),
flagged_users AS (
    SELECT COUNT(*) AS flagged FROM users
),
savings AS (
    SELECT
        COALESCE(SUM(estimated_calls_avoided), 0.0) AS calls_avoided,
        COALESCE(SUM(estimated_savings), 0.0) AS savings
    FROM helpdesk
),
headlines AS (
SELECT 1 AS position, 'first_attempt' AS metric, CAST(NULL AS DOUBLE) AS value, first_attempt AS detail FROM span
UNION ALL
SELECT 2 AS position, 'last_attempt' AS metric, CAST(NULL AS DOUBLE) AS value, last_attempt AS detail FROM span
UNION ALL
SELECT 3 AS position, 'attempts' AS metric, CAST(attempts AS DOUBLE) AS value, CAST(NULL AS VARCHAR) AS detail FROM resets
UNION ALL
SELECT 4 AS position, 'completed' AS metric, CAST(completed AS DOUBLE) AS value, CAST(NULL AS VARCHAR) AS detail FROM resets
UNION ALL
SELECT 5 AS position, 'success_rate' AS metric, CAST(completed AS DOUBLE) / attempts AS value, CAST(NULL AS VARCHAR) AS detail FROM resets
UNION ALL
SELECT 6 AS position, 'login_screen_share' AS metric, CAST(login_screen AS DOUBLE) / completed AS value, CAST(NULL AS VARCHAR) AS detail FROM resets
UNION ALL
SELECT 7 AS position, 'admin_resets' AS metric, CAST(admin_resets AS DOUBLE) AS value, CAST(NULL AS VARCHAR) AS detail FROM admin
UNION ALL
SELECT 8 AS position, 'top_drop_off' AS metric, CAST(attempts AS DOUBLE) AS value, final_state AS detail FROM top_drop_off
UNION ALL
SELECT 9 AS position, 'flagged_ips' AS metric, CAST(f.flagged AS DOUBLE) AS value, CONCAT('users >= ', CAST(p.ip_users_threshold AS VARCHAR)) AS detail
FROM flagged_ips f CROSS JOIN params p
UNION ALL
SELECT 10 AS position, 'flagged_users' AS metric, CAST(flagged AS DOUBLE) AS value, CAST(NULL AS VARCHAR) AS detail FROM flagged_users
UNION ALL
SELECT 11 AS position, 'estimated_calls_avoided' AS metric, calls_avoided AS value, CAST(NULL AS VARCHAR) AS detail FROM savings
UNION ALL
SELECT 12 AS position, 'estimated_savings' AS metric, s.savings AS value, p.currency AS detail
FROM savings s CROSS JOIN params p
UNION ALL
SELECT 13 AS position, 'unknown_share' AS metric, CAST(unknown AS DOUBLE) / attempts AS value, CAST(NULL AS VARCHAR) AS detail FROM resets
)
SELECT metric, value, detail
FROM headlines
ORDER BY position
