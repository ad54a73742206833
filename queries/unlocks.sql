-- unlocks: self-service account unlocks (on-premises accounts unlocked without a reset), by channel.
--
-- An unlock attempt is a correlation id with an `Unlock user account (self-service)` row; it is
-- completed when that row succeeded. These attempts are never counted as resets.
SELECT
    a.channel,
    COUNT(*) AS attempts,
    SUM(CASE WHEN a.completed THEN 1 ELSE 0 END) AS completed,
    CAST(SUM(CASE WHEN a.completed THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS success_rate,
    COUNT(DISTINCT a."user") AS users,
    COUNT(DISTINCT a.ip_address) AS ips
FROM attempts a
LEFT JOIN channel_order o ON o.channel = a.channel
WHERE a.kind = 'unlock'
GROUP BY a.channel, o.position
ORDER BY o.position, a.channel
