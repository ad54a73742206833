-- channels: of all password resets, how many came from each channel, and how many completed.
--
-- One row per channel, in the rules' order, then `unknown`, then `admin` (helpdesk resets),
-- channels without attempts included with zeros so the shape never changes. Self-service unlocks
-- are not resets: see `unlocks`.
--   attempts            reset attempts (correlation ids); for `admin`, `Reset password (by admin)` rows
--   completed           attempts that completed (a successful reset)
--   success_rate        completed / attempts (empty when there were no attempts)
--   share_of_completed  the channel's share of all completed resets, helpdesk included
--   users, ips          distinct users and distinct IP addresses among the attempts
WITH per_channel AS (
    SELECT
        channel,
        COUNT(*) AS attempts,
        SUM(CASE WHEN completed THEN 1 ELSE 0 END) AS completed,
        COUNT(DISTINCT "user") AS users,
        COUNT(DISTINCT ip_address) AS ips
    FROM attempts
    WHERE kind IN ('reset', 'admin')
    GROUP BY channel
),
all_channels AS (
    SELECT channel, position FROM channel_order
    UNION ALL
    SELECT channel, 1000000 AS position FROM per_channel
    WHERE channel NOT IN (SELECT channel FROM channel_order)
),
totals AS (
    SELECT SUM(completed) AS all_completed FROM per_channel
)
SELECT
    c.channel,
    COALESCE(p.attempts, 0) AS attempts,
    COALESCE(p.completed, 0) AS completed,
    CAST(p.completed AS DOUBLE) / p.attempts AS success_rate,
    CASE WHEN t.all_completed > 0
        THEN CAST(COALESCE(p.completed, 0) AS DOUBLE) / t.all_completed
        ELSE 0.0 END AS share_of_completed,
    COALESCE(p.users, 0) AS users,
    COALESCE(p.ips, 0) AS ips
FROM all_channels c
LEFT JOIN per_channel p ON p.channel = c.channel
CROSS JOIN totals t
ORDER BY c.position, c.channel
