-- ips: where self-service attempts came from, by IP address and by network, with abuse flags.
--
-- One row per IP address, then one per network (IPv4 /24, IPv6 /48), over self-service reset and
-- unlock attempts with an address (helpdesk resets come from the helpdesk's own address and are
-- left out). Most users first.
--   scope                  `address`, `network`, or `not_an_address`: an ipAddress field whose text
--                          is no IP address (kept as found, so odd or forged values stay visible)
--   ip                     the address, or the network as CIDR (198.51.100.0/24, 2001:db8::/48)
--   attempts, completed    attempts from it, and how many completed
--   users                  distinct users
--   channels               the channels seen, space-separated
--   first_seen, last_seen  when its first and last attempt began (UTC)
--   peak_users_per_hour    the most distinct users in one clock hour (UTC): bursts
--   new_for_user           attempts from an address the user had not used in any earlier attempt
--                          of the data read (see `attempts.new_ip_for_user`)
--   many_users             flagged: users >= --ip-users (default 5). A password-spray or SSPR-abuse
--                          signal, or a shared NAT or proxy address: compare its network's row
WITH sources AS (
    SELECT CASE WHEN ip_network IS NULL THEN 'not_an_address' ELSE 'address' END AS scope,
        ip_address AS ip, completed, "user", channel, started, new_ip_for_user
    FROM attempts
    WHERE kind IN ('reset', 'unlock') AND ip_address IS NOT NULL
    UNION ALL
    SELECT 'network' AS scope, ip_network AS ip, completed, "user", channel, started, new_ip_for_user
    FROM attempts
    WHERE kind IN ('reset', 'unlock') AND ip_network IS NOT NULL
),
hourly AS (
    SELECT scope, ip, STRFTIME(started, '%Y-%m-%d %H') AS hour, COUNT(DISTINCT "user") AS users
    FROM sources
    WHERE started IS NOT NULL
    GROUP BY scope, ip, hour
),
peaks AS (
    SELECT scope, ip, MAX(users) AS peak_users_per_hour
    FROM hourly
    GROUP BY scope, ip
),
per_source AS (
    SELECT
        scope,
        ip,
        COUNT(*) AS attempts,
        COUNT(*) FILTER (WHERE completed) AS completed,
        COUNT(DISTINCT "user") AS users,
        ARRAY_TO_STRING(ARRAY_AGG(DISTINCT channel ORDER BY channel), ' ') AS channels,
        MIN(started) AS first_seen,
        MAX(started) AS last_seen,
        COUNT(*) FILTER (WHERE new_ip_for_user) AS new_for_user
    FROM sources
    GROUP BY scope, ip
)
SELECT
    s.scope,
    s.ip,
    s.attempts,
    s.completed,
    s.users,
    s.channels,
    s.first_seen,
    s.last_seen,
    COALESCE(k.peak_users_per_hour, 0) AS peak_users_per_hour,
    s.new_for_user,
    s.users >= p.ip_users_threshold AS many_users
FROM per_source s
LEFT JOIN peaks k ON k.scope = s.scope AND k.ip = s.ip
CROSS JOIN params p
ORDER BY s.scope, s.users DESC, s.attempts DESC, s.ip
