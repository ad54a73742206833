-- helpdesk: per period, the self-service resets that spared the helpdesk, the helpdesk resets still made, and the estimated savings.
--
-- One row per period (`--by`, `--tz`), every period from the first attempt's to the last's.
-- The assumptions are columns too, so every export carries them.
--   period                   the period's first day, YYYY-MM-DD (weeks start on Monday)
--   phase                    with --rollout-date: `before` when the period's days in the report
--                            all lie before that date, `after` when none does, else `rollout`;
--                            empty without --rollout-date
--   self_service_completed   completed self-service resets, every channel but admin (unlocks
--                            excluded)
--   login_screen_completed   of these, from the Windows login screen
--   admin_resets             successful helpdesk resets: admin_resets_portal + admin_resets_other_tools
--   admin_resets_portal      of these, made in the Entra portal (`Reset password (by admin)`)
--   admin_resets_other_tools of these, made with another tool (Graph, PowerShell, a helpdesk
--                            application): Core Directory `Reset user password` rows initiated
--                            neither by the reset service nor echoing a portal reset
--   contacted_admin          self-service attempts that ended contacting an admin: failed
--                            deflection
--   estimated_calls_avoided  self_service_completed x deflection
--   estimated_savings        estimated_calls_avoided x (cost_helpdesk - cost_self_service)
--   deflection, cost_helpdesk, cost_self_service, currency
--                            the assumptions: --deflection (default 1), --cost-helpdesk (default
--                            60, Microsoft's estimator), --cost-self-service (default 2, same
--                            source), --currency (default USD)
WITH periods AS (
    SELECT period, MIN(day) AS first_day, MAX(day) AS last_day
    FROM calendar
    GROUP BY period
),
per_period AS (
    SELECT
        period,
        COUNT(*) FILTER (WHERE kind = 'reset' AND completed) AS self_service_completed,
        COUNT(*) FILTER (WHERE kind = 'reset' AND completed AND channel = 'login_screen') AS login_screen_completed,
        COUNT(*) FILTER (WHERE kind = 'admin' AND completed) AS admin_resets,
        COUNT(*) FILTER (WHERE kind = 'admin' AND completed AND admin_source = 'portal') AS admin_resets_portal,
        COUNT(*) FILTER (WHERE kind = 'admin' AND completed AND admin_source = 'other_tools') AS admin_resets_other_tools,
        COUNT(*) FILTER (WHERE kind = 'reset' AND final_state = 'contacted_admin') AS contacted_admin
    FROM attempts
    WHERE period IS NOT NULL
    GROUP BY period
)
SELECT
    p.period,
    CASE
        WHEN x.rollout_date IS NULL THEN NULL
        WHEN p.last_day < x.rollout_date THEN 'before'
        WHEN p.first_day >= x.rollout_date THEN 'after'
        ELSE 'rollout'
    END AS phase,
    COALESCE(a.self_service_completed, 0) AS self_service_completed,
    COALESCE(a.login_screen_completed, 0) AS login_screen_completed,
    COALESCE(a.admin_resets, 0) AS admin_resets,
    COALESCE(a.admin_resets_portal, 0) AS admin_resets_portal,
    COALESCE(a.admin_resets_other_tools, 0) AS admin_resets_other_tools,
    COALESCE(a.contacted_admin, 0) AS contacted_admin,
    COALESCE(a.self_service_completed, 0) * x.deflection AS estimated_calls_avoided,
    COALESCE(a.self_service_completed, 0) * x.deflection * (x.cost_helpdesk - x.cost_self_service) AS estimated_savings,
    x.deflection,
    x.cost_helpdesk,
    x.cost_self_service,
    x.currency
FROM periods p
LEFT JOIN per_period a ON a.period = p.period
CROSS JOIN params x
ORDER BY p.period
