-- helpdesk_rollout: weekly averages before and after the login-screen rollout (--rollout-date), and their change.
--
-- Empty without --rollout-date. Before: the report's days before the rollout date; after: the
-- rollout date and the days after it, up to the last attempt's day (local days of --tz, as in
-- `helpdesk`). A weekly average is the phase's count divided by its days / 7.
--   measure                          admin_resets, self_service_completed,
--                                    login_screen_completed, contacted_admin (as in `helpdesk`)
--   before_total, after_total        the counts in each phase
--   before_weeks, after_weeks        the phases' lengths in weeks
--   before_per_week, after_per_week  the weekly averages (empty for a phase without days)
--   change                           after_per_week / before_per_week - 1 (empty when the
--                                    before average is 0 or missing)
WITH measures AS (
    SELECT 1 AS position, 'admin_resets' AS measure
    UNION ALL SELECT 2 AS position, 'self_service_completed' AS measure
    UNION ALL SELECT 3 AS position, 'login_screen_completed' AS measure
    UNION ALL SELECT 4 AS position, 'contacted_admin' AS measure
),
measured AS (
    SELECT 'admin_resets' AS measure, day FROM attempts WHERE kind = 'admin' AND completed
    UNION ALL
    SELECT 'self_service_completed' AS measure, day FROM attempts WHERE kind = 'reset' AND completed
    UNION ALL
    SELECT 'login_screen_completed' AS measure, day FROM attempts
    WHERE kind = 'reset' AND completed AND channel = 'login_screen'
    UNION ALL
    SELECT 'contacted_admin' AS measure, day FROM attempts
    WHERE kind = 'reset' AND final_state = 'contacted_admin'
),
counts AS (
    SELECT
        m.measure,
        COUNT(*) FILTER (WHERE m.day < p.rollout_date) AS before_total,
        COUNT(*) FILTER (WHERE m.day >= p.rollout_date) AS after_total
    FROM measured m
    CROSS JOIN params p
    WHERE m.day IS NOT NULL
    GROUP BY m.measure
),
phases AS (
    SELECT
        p.rollout_date,
        COUNT(*) FILTER (WHERE c.day < p.rollout_date) / 7.0 AS before_weeks,
        COUNT(*) FILTER (WHERE c.day >= p.rollout_date) / 7.0 AS after_weeks
    FROM calendar c
    CROSS JOIN params p
    WHERE p.rollout_date IS NOT NULL
    GROUP BY p.rollout_date
),
averages AS (
    SELECT
        m.position,
        m.measure,
        h.rollout_date,
        COALESCE(c.before_total, 0) AS before_total,
        h.before_weeks,
        CASE WHEN h.before_weeks > 0 THEN COALESCE(c.before_total, 0) / h.before_weeks END AS before_per_week,
        COALESCE(c.after_total, 0) AS after_total,
        h.after_weeks,
        CASE WHEN h.after_weeks > 0 THEN COALESCE(c.after_total, 0) / h.after_weeks END AS after_per_week
    FROM measures m
    CROSS JOIN phases h
    LEFT JOIN counts c ON c.measure = m.measure
)
SELECT
    measure,
    rollout_date,
    before_total,
    before_weeks,
    before_per_week,
    after_total,
    after_weeks,
    after_per_week,
    CASE WHEN before_per_week > 0 THEN after_per_week / before_per_week - 1 END AS change
FROM averages
ORDER BY position
