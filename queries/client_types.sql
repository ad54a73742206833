-- client_types: every raw ClientType value seen, the channel the rules gave it, and its counts.
--
-- Microsoft has not documented the ClientType values, so this is where unmapped values show up:
-- a value landing in `unknown` needs a rule. `none` stands for attempts without any client type
-- (classified by user agent, if a rule has user_agent patterns).
--   attempts, completed   reset attempts with this client type, and how many completed
--   unlock_attempts       self-service unlock attempts with this client type
--   users                 distinct users among them
SELECT
    COALESCE(client_type, 'none') AS client_type,
    channel,
    SUM(CASE WHEN kind = 'reset' THEN 1 ELSE 0 END) AS attempts,
    SUM(CASE WHEN kind = 'reset' AND completed THEN 1 ELSE 0 END) AS completed,
    SUM(CASE WHEN kind = 'unlock' THEN 1 ELSE 0 END) AS unlock_attempts,
    COUNT(DISTINCT "user") AS users
FROM attempts
WHERE kind IN ('reset', 'unlock')
GROUP BY client_type, channel
ORDER BY attempts DESC, unlock_attempts DESC, client_type, channel
