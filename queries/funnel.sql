-- funnel: how far self-service reset attempts got in each channel, and why the others stopped.
--
-- One row per channel in the rules' order, then `unknown`; helpdesk resets have no flow and are
-- left out, and so are unlocks. Channels without attempts are included with zeros. An attempt
-- counts in every step up to the furthest one its rows show, and in exactly one final state:
-- `completed` plus the drop-off columns (cancelled .. no_outcome) equals `attempts`.
--   attempts              attempts started (every attempt: the user submitted their user ID)
--   shown_options         of these, presented with verification options (or into a method)
--   verified              completed all verification steps required
--   submitted_password    submitted a new password
--   completed             reset their password
--   cancelled             abandoned or canceled
--   blocked               too many tries: blocked for 24 hours
--   insufficient_methods  too few authentication methods registered: needs registration help
--   not_enabled           SSPR not enabled for the user, no licence, or not in the SSPR group
--   onprem_failure        password writeback or the on-premises password service failed
--   banned_password       the new password broke the password policy (banned password)
--   contacted_admin       gave up and contacted an admin: a failed deflection
--   other_failure         failed with a text that names none of these causes
--   no_outcome            no completion, drop-off or failure row: left silently or partly logged
--   success_rate          completed / attempts (empty without attempts)
WITH per_channel AS (
    SELECT
        channel,
        COUNT(*) AS attempts,
        COUNT(*) FILTER (WHERE furthest_step IN ('shown_options', 'verified', 'submitted_password', 'completed')) AS shown_options,
        COUNT(*) FILTER (WHERE furthest_step IN ('verified', 'submitted_password', 'completed')) AS verified,
        COUNT(*) FILTER (WHERE furthest_step IN ('submitted_password', 'completed')) AS submitted_password,
        COUNT(*) FILTER (WHERE furthest_step = 'completed') AS completed,
        COUNT(*) FILTER (WHERE final_state = 'cancelled') AS cancelled,
        COUNT(*) FILTER (WHERE final_state = 'blocked') AS blocked,
        COUNT(*) FILTER (WHERE final_state = 'insufficient_methods') AS insufficient_methods,
        COUNT(*) FILTER (WHERE final_state = 'not_enabled') AS not_enabled,
        COUNT(*) FILTER (WHERE final_state = 'onprem_failure') AS onprem_failure,
        COUNT(*) FILTER (WHERE final_state = 'banned_password') AS banned_password,
        COUNT(*) FILTER (WHERE final_state = 'contacted_admin') AS contacted_admin,
        COUNT(*) FILTER (WHERE final_state = 'other_failure') AS other_failure,
        COUNT(*) FILTER (WHERE final_state = 'no_outcome') AS no_outcome
    FROM attempts
    WHERE kind = 'reset'
    GROUP BY channel
)
SELECT
    c.channel,
    COALESCE(p.attempts, 0) AS attempts,
    COALESCE(p.shown_options, 0) AS shown_options,
    COALESCE(p.verified, 0) AS verified,
    COALESCE(p.submitted_password, 0) AS submitted_password,
    COALESCE(p.completed, 0) AS completed,
    COALESCE(p.cancelled, 0) AS cancelled,
    COALESCE(p.blocked, 0) AS blocked,
    COALESCE(p.insufficient_methods, 0) AS insufficient_methods,
    COALESCE(p.not_enabled, 0) AS not_enabled,
    COALESCE(p.onprem_failure, 0) AS onprem_failure,
    COALESCE(p.banned_password, 0) AS banned_password,
    COALESCE(p.contacted_admin, 0) AS contacted_admin,
    COALESCE(p.other_failure, 0) AS other_failure,
    COALESCE(p.no_outcome, 0) AS no_outcome,
    CAST(p.completed AS DOUBLE) / p.attempts AS success_rate
FROM channel_order c
LEFT JOIN per_channel p ON p.channel = c.channel
WHERE c.channel <> 'admin'
ORDER BY c.position
