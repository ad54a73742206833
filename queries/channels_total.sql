-- channels_total: the total row the terminal table shows under the `channels` report.
SELECT
    'total' AS channel,
    COUNT(*) AS attempts,
    SUM(CASE WHEN completed THEN 1 ELSE 0 END) AS completed,
    CAST(SUM(CASE WHEN completed THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS success_rate,
    1.0 AS share_of_completed,
    COUNT(DISTINCT "user") AS users,
    COUNT(DISTINCT ip_address) AS ips
FROM attempts
WHERE kind IN ('reset', 'admin')
