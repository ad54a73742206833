-- reach_adoption: completed password resets from the Windows sign-in screen per period (`reach`
-- shows them beside the devices ready for the link).
--
-- One row per period of the report (`--by`, default weeks from Monday, in the zone of `--tz`),
-- from the first attempt's to the last's, zeros too.
--   week                  the period's first day, YYYY-MM-DD
--   login_screen_resets   completed self-service resets classified `login_screen`
WITH periods AS (
    SELECT DISTINCT period FROM calendar
),
resets AS (
    SELECT period, COUNT(*) AS login_screen_resets
    FROM attempts
    WHERE kind = 'reset' AND completed AND channel = 'login_screen' AND period IS NOT NULL
    GROUP BY period
)
SELECT
    p.period AS week,
    COALESCE(r.login_screen_resets, 0) AS login_screen_resets
FROM periods p
LEFT JOIN resets r ON r.period = p.period
ORDER BY p.period
