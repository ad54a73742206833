//! Which helpdesk resets count: every portal reset (`Reset password (by admin)`), and every
//! Core Directory `Reset user password` row made by another tool.
//!
//! A Core Directory `Reset user password` row is a helpdesk reset of another tool unless
//! - the password reset service initiated it: it is the side effect of a self-service reset
//!   (an app or a user the [`ResetService`] list names; a row naming no initiator at all is
//!   nobody's reset either), or
//! - it echoes a portal reset: a `Reset password (by admin)` row of the same user lies within
//!   [`ECHO_WINDOW`] of it, either side; the reset then counts once, as the portal's.
//!
//! The decision needs every helpdesk row of the data, so it is taken once all are known
//! ([`settle`]), whatever route loaded them.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::{AdminSource, Attempt};

/// How far apart a portal reset and its Core Directory echo may lie.
pub const ECHO_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// Who counts as the password reset service when it initiates a Core Directory reset: app
/// display names (whole names) and user principal name prefixes, compared ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetService {
    apps: Vec<String>,
    upn_prefixes: Vec<String>,
}

impl Default for ResetService {
    /// Microsoft's reset service as real tenants show it (`fim_password_service@…`, an app
    /// named `Microsoft password reset service`, the `Sync_…` account of Entra Connect in
    /// hybrid tenants), and the app name some exports give the service (`Self-service
    /// Password Management`).
    fn default() -> Self {
        ResetService::new(
            vec![
                "Microsoft password reset service".into(),
                "Self-service Password Management".into(),
            ],
            vec!["fim_password_service@".into(), "Sync_".into()],
        )
    }
}

impl ResetService {
    pub fn new(apps: Vec<String>, upn_prefixes: Vec<String>) -> Self {
        let lower = |texts: Vec<String>| -> Vec<String> {
            texts
                .iter()
                .map(|text| text.trim().to_lowercase())
                .collect()
        };
        ResetService {
            apps: lower(apps),
            upn_prefixes: lower(upn_prefixes),
        }
    }

    /// The app names, lowercased.
    pub fn apps(&self) -> &[String] {
        &self.apps
    }

    /// The UPN prefixes, lowercased.
    pub fn upn_prefixes(&self) -> &[String] {
        &self.upn_prefixes
    }

    /// Whether the initiator of a row (an app's display name or a user's UPN) is the reset
    /// service.
    pub fn initiated(&self, initiator: &str) -> bool {
        let initiator = initiator.trim().to_lowercase();
        self.apps.iter().any(|app| *app == initiator)
            || self
                .upn_prefixes
                .iter()
                .any(|prefix| initiator.starts_with(prefix.as_str()))
    }
}

/// Keeps of `admin` (every helpdesk row of the data, in any order) the portal resets and the
/// other tools' resets that are neither the reset service's nor a portal reset's echo.
pub fn settle(admin: &mut Vec<Attempt>, service: &ResetService) {
    let mut portal: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for attempt in admin.iter() {
        if attempt.admin_source == Some(AdminSource::Portal)
            && let (Some(user), Some(time)) = (attempt.user.as_deref(), attempt.started)
        {
            portal.entry(user).or_default().push(time);
        }
    }
    let keep: Vec<bool> = admin
        .iter()
        .map(|attempt| {
            if attempt.admin_source != Some(AdminSource::OtherTool) {
                return true;
            }
            let Some(initiator) = attempt.initiator.as_deref() else {
                return false;
            };
            let echoes = match (attempt.user.as_deref(), attempt.started) {
                (Some(user), Some(time)) => portal.get(user).is_some_and(|times| {
                    times
                        .iter()
                        .any(|portal| (*portal - time).abs() <= ECHO_WINDOW)
                }),
                _ => false,
            };
            !echoes && !service.initiated(initiator)
        })
        .collect();
    let mut keep = keep.into_iter();
    admin.retain(|_| keep.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ADMIN_CHANNEL, AttemptKind};
    use chrono::TimeZone;

    fn helpdesk(
        id: &str,
        source: AdminSource,
        user: &str,
        minute: u32,
        initiator: Option<&str>,
    ) -> Attempt {
        let time = Utc.with_ymd_and_hms(2026, 10, 1, 9, minute, 0).unwrap();
        Attempt {
            id: id.into(),
            kind: AttemptKind::Admin,
            channel: ADMIN_CHANNEL.into(),
            client_type: None,
            user_agent: None,
            completed: true,
            started: Some(time),
            ended: Some(time),
            user: Some(user.into()),
            ip_address: None,
            rows: 1,
            furthest_step: None,
            final_state: None,
            ip_network: None,
            new_ip_for_user: None,
            local: None,
            completed_at: None,
            admin_source: Some(source),
            initiator: initiator.map(Into::into),
        }
    }

    #[test]
    fn tool_resets_count_unless_the_service_made_them_or_they_echo_the_portal() {
        use AdminSource::{OtherTool, Portal};
        let mut admin = vec![
            helpdesk("portal", Portal, "ann@x", 10, Some("admin@x")),
            // Four minutes after the portal reset of the same user: its echo.
            helpdesk("echo", OtherTool, "ann@x", 14, Some("admin@x")),
            // Six minutes after: a second reset.
            helpdesk("late", OtherTool, "ann@x", 16, Some("Helpdesk Tool")),
            helpdesk("other user", OtherTool, "bob@x", 10, Some("Helpdesk Tool")),
            helpdesk(
                "sspr",
                OtherTool,
                "cy@x",
                0,
                Some("FIM_Password_Service@support.example"),
            ),
            helpdesk("sync", OtherTool, "cy@x", 0, Some("Sync_DC01_1234@x")),
            helpdesk(
                "app",
                OtherTool,
                "cy@x",
                0,
                Some("microsoft password reset service"),
            ),
            helpdesk("nobody", OtherTool, "cy@x", 0, None),
        ];
        settle(&mut admin, &ResetService::default());
        let kept: Vec<&str> = admin.iter().map(|attempt| attempt.id.as_str()).collect();
        assert_eq!(kept, ["portal", "late", "other user"]);
    }

    #[test]
    fn the_list_is_the_configured_one() {
        let service = ResetService::new(vec!["Our Sync App".into()], vec!["svc-".into()]);
        assert!(service.initiated("our sync app"));
        assert!(service.initiated("SVC-reset@x"));
        assert!(!service.initiated("fim_password_service@support.example"));
        assert!(!service.initiated("Our Sync App 2"));
    }
}
