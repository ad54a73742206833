//! The types the stages share, and nothing else.
//!
//! The fetcher produces [`AuditRecord`]s (one directoryAudit as found in any export shape), the
//! transformer turns them into [`Event`]s and groups those into [`Attempt`]s, and the reporter turns
//! events and attempts into tables. Stages never import each other; they meet here.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};

/// One directoryAudit record as read, before any normalisation.
///
/// Every field is optional because real exports omit or null any of them. Strings are kept as
/// found; the transformer decides what they mean.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Option<String>,
    pub activity_date_time: Option<String>,
    pub logged_by_service: Option<String>,
    pub category: Option<String>,
    pub activity_display_name: Option<String>,
    pub operation_type: Option<String>,
    pub result: Option<String>,
    pub result_reason: Option<String>,
    pub correlation_id: Option<String>,
    pub initiated_by: Option<Initiator>,
    pub target_resources: Vec<TargetResource>,
    pub additional_details: Vec<Detail>,
    pub user_agent: Option<String>,
    /// `callerIpAddress` of an Azure Monitor diagnostic record wrapping the directoryAudit.
    pub caller_ip_address: Option<String>,
}

/// `initiatedBy`: the user or the app that caused the event.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Initiator {
    pub user: Option<UserIdentity>,
    pub app: Option<AppIdentity>,
}

/// `initiatedBy.user`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UserIdentity {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub ip_address: Option<String>,
}

/// `initiatedBy.app`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AppIdentity {
    pub app_id: Option<String>,
    pub display_name: Option<String>,
    pub service_principal_id: Option<String>,
    pub service_principal_name: Option<String>,
}

/// One entry of `targetResources`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TargetResource {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub kind: Option<String>,
    pub user_principal_name: Option<String>,
}

/// One `{key, value}` entry of `additionalDetails`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Detail {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// What an `additionalDetails` entry means to ssprlens, by its key compared ignoring case and
/// white space (`ClientType`, `Client Type`, `clientType` are one key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailKey {
    ClientType,
    UserAgent,
    Other,
}

impl DetailKey {
    pub fn of(key: &str) -> Self {
        if Self::same_key(key, "clienttype") {
            DetailKey::ClientType
        } else if Self::same_key(key, "user-agent") || Self::same_key(key, "useragent") {
            DetailKey::UserAgent
        } else {
            DetailKey::Other
        }
    }

    /// Whether `key` is `name` (lowercase, without white space) once keys are compared as
    /// additionalDetails keys are: ignoring case and white space.
    pub fn same_key(key: &str, name: &str) -> bool {
        if key.is_ascii() {
            // Every key Entra writes: compared byte by byte, no decoding.
            key.bytes()
                .filter(|&byte| !char::from(byte).is_whitespace())
                .map(|byte| byte.to_ascii_lowercase())
                .eq(name.bytes())
        } else {
            key.chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .eq(name.chars())
        }
    }
}

/// The fields of one directoryAudit that attempts read, borrowed from the bytes it was decoded
/// from (owned only where a JSON escape was undone): what the lean decoder gives, and what
/// [`AuditRecord::view`] gives of a fully decoded record. Strings are kept as found; the
/// record's target and its client type and user agent details are picked out by
/// [`RecordView::offer_target`] and [`RecordView::offer_detail`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RecordView<'a> {
    pub id: Option<Cow<'a, str>>,
    pub activity_date_time: Option<Cow<'a, str>>,
    pub activity_display_name: Option<Cow<'a, str>>,
    pub result: Option<Cow<'a, str>>,
    pub result_reason: Option<Cow<'a, str>>,
    pub correlation_id: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    pub caller_ip_address: Option<Cow<'a, str>>,
    /// `initiatedBy.user`'s fields.
    pub initiator_id: Option<Cow<'a, str>>,
    pub initiator_upn: Option<Cow<'a, str>>,
    pub initiator_ip: Option<Cow<'a, str>>,
    /// `initiatedBy.app.displayName`.
    pub initiator_app: Option<Cow<'a, str>>,
    /// The fields of the first target naming a user (a UPN or type `User`), else of the first.
    pub target_id: Option<Cow<'a, str>>,
    pub target_upn: Option<Cow<'a, str>>,
    /// Whether a target was offered, and whether it names a user.
    target: Option<bool>,
    /// The first client type and user agent details whose value is not blank.
    pub detail_client_type: Option<Cow<'a, str>>,
    pub detail_user_agent: Option<Cow<'a, str>>,
}

impl<'a> RecordView<'a> {
    /// Takes one entry of `targetResources`, in record order.
    pub fn offer_target(
        &mut self,
        id: Option<Cow<'a, str>>,
        upn: Option<Cow<'a, str>>,
        kind: Option<&str>,
    ) {
        let names_user =
            upn.is_some() || kind.is_some_and(|kind| kind.eq_ignore_ascii_case("user"));
        if self.target.is_none() || names_user && self.target == Some(false) {
            (self.target_id, self.target_upn) = (id, upn);
            self.target = Some(names_user);
        }
    }

    /// Takes one entry of `additionalDetails`, in record order.
    pub fn offer_detail(&mut self, key: &str, value: Option<Cow<'a, str>>) {
        let slot = match DetailKey::of(key) {
            DetailKey::ClientType => &mut self.detail_client_type,
            DetailKey::UserAgent => &mut self.detail_user_agent,
            DetailKey::Other => return,
        };
        if slot.is_none()
            && value
                .as_deref()
                .is_some_and(|value| !value.trim().is_empty())
        {
            *slot = value;
        }
    }
}

impl AuditRecord {
    /// The fields attempts read, borrowed.
    pub fn view(&self) -> RecordView<'_> {
        let user = self.initiated_by.as_ref().and_then(|by| by.user.as_ref());
        let app = self.initiated_by.as_ref().and_then(|by| by.app.as_ref());
        let mut view = RecordView {
            id: borrowed(&self.id),
            activity_date_time: borrowed(&self.activity_date_time),
            activity_display_name: borrowed(&self.activity_display_name),
            result: borrowed(&self.result),
            result_reason: borrowed(&self.result_reason),
            correlation_id: borrowed(&self.correlation_id),
            user_agent: borrowed(&self.user_agent),
            caller_ip_address: borrowed(&self.caller_ip_address),
            initiator_id: user.and_then(|user| borrowed(&user.id)),
            initiator_upn: user.and_then(|user| borrowed(&user.user_principal_name)),
            initiator_ip: user.and_then(|user| borrowed(&user.ip_address)),
            initiator_app: app.and_then(|app| borrowed(&app.display_name)),
            ..RecordView::default()
        };
        for target in &self.target_resources {
            view.offer_target(
                borrowed(&target.id),
                borrowed(&target.user_principal_name),
                target.kind.as_deref(),
            );
        }
        for detail in &self.additional_details {
            view.offer_detail(
                detail.key.as_deref().unwrap_or_default(),
                borrowed(&detail.value),
            );
        }
        view
    }
}

/// What an activity means for password-reset accounting.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// `Self-service password reset flow activity progress`: one step of an attempt.
    FlowProgress,
    /// `Reset password (self-service)`: the reset itself.
    SelfServiceReset,
    /// `Unlock user account (self-service)`: marks the correlation id as an unlock.
    SelfServiceUnlock,
    /// `Reset password (by admin)`: one helpdesk reset made in the Entra portal.
    AdminReset,
    /// `User started password reset` (service `Authentication Methods`): the start of a
    /// self-service reset in the newer experience, a row of its attempt like a flow row.
    ResetStarted,
    /// `Reset user password` (service `Core Directory`): a helpdesk reset made with another
    /// tool, unless the reset service initiated it or it echoes a portal reset (see
    /// [`crate::transformer::helpdesk`]).
    DirectoryReset,
    /// Anything else: blocks, password changes, registration, other Core Directory rows.
    #[default]
    Other,
}

impl ActivityKind {
    /// The activity names the model gives a meaning, each with its kind.
    pub const NAMES: [(&str, ActivityKind); 6] = [
        (
            "Self-service password reset flow activity progress",
            ActivityKind::FlowProgress,
        ),
        (
            "Reset password (self-service)",
            ActivityKind::SelfServiceReset,
        ),
        (
            "Unlock user account (self-service)",
            ActivityKind::SelfServiceUnlock,
        ),
        ("Reset password (by admin)", ActivityKind::AdminReset),
        ("User started password reset", ActivityKind::ResetStarted),
        ("Reset user password", ActivityKind::DirectoryReset),
    ];

    /// Classifies an activity display name (exact names, compared ignoring case and outer
    /// spaces: Microsoft spells `User started password reset` in lowercase in places).
    pub fn of(activity: Option<&str>) -> Self {
        let Some(activity) = activity.map(str::trim) else {
            return ActivityKind::Other;
        };
        Self::NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(activity))
            .map_or(ActivityKind::Other, |(_, kind)| *kind)
    }
}

/// One normalised audit event: the row of the `events` table.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Event {
    /// The record id, or `sha256:<hex>` of the record's bytes when the record has none.
    pub id: String,
    /// `activityDateTime` in UTC; `None` when the record carries no time at all.
    pub time: Option<DateTime<Utc>>,
    pub service: Option<String>,
    pub category: Option<String>,
    pub activity: Option<String>,
    pub kind: ActivityKind,
    pub result: Option<String>,
    pub result_reason: Option<String>,
    pub correlation_id: Option<String>,
    pub initiator_upn: Option<String>,
    pub initiator_id: Option<String>,
    pub initiator_app: Option<String>,
    pub target_upn: Option<String>,
    pub target_id: Option<String>,
    /// Canonical form when the address parses; the trimmed raw text otherwise.
    pub ip_address: Option<String>,
    /// The first non-empty `ClientType` detail of this record (key matched ignoring case and spaces).
    pub client_type: Option<String>,
    pub user_agent: Option<String>,
    /// The other `additionalDetails`, in record order.
    pub details: Vec<(String, String)>,
}

/// The fields of one normalised event that attempts read, borrowed from the record they came
/// from: [`Event`] less what only the `events` table shows, and with the IP address trimmed but
/// not yet in canonical form (attempts canonicalise only the addresses they keep).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EventView<'a> {
    pub id: Cow<'a, str>,
    pub time: Option<DateTime<Utc>>,
    pub activity: Option<Cow<'a, str>>,
    pub kind: ActivityKind,
    pub result: Option<Cow<'a, str>>,
    pub result_reason: Option<Cow<'a, str>>,
    pub correlation_id: Option<Cow<'a, str>>,
    pub initiator_upn: Option<Cow<'a, str>>,
    pub initiator_id: Option<Cow<'a, str>>,
    pub initiator_app: Option<Cow<'a, str>>,
    pub target_upn: Option<Cow<'a, str>>,
    pub target_id: Option<Cow<'a, str>>,
    pub ip_address: Option<Cow<'a, str>>,
    pub client_type: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
}

/// What an [`Event`] holds besides the fields of its [`EventView`]: what only the `events`
/// table shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EventExtras {
    pub service: Option<String>,
    pub category: Option<String>,
    pub details: Vec<(String, String)>,
}

impl EventView<'_> {
    /// The whole event: the view's fields owned (the IP address as it is), and `extras`.
    pub fn into_event(self, extras: EventExtras) -> Event {
        let owned = |text: Option<Cow<'_, str>>| text.map(Cow::into_owned);
        Event {
            id: self.id.into_owned(),
            time: self.time,
            service: extras.service,
            category: extras.category,
            activity: owned(self.activity),
            kind: self.kind,
            result: owned(self.result),
            result_reason: owned(self.result_reason),
            correlation_id: owned(self.correlation_id),
            initiator_upn: owned(self.initiator_upn),
            initiator_id: owned(self.initiator_id),
            initiator_app: owned(self.initiator_app),
            target_upn: owned(self.target_upn),
            target_id: owned(self.target_id),
            ip_address: owned(self.ip_address),
            client_type: owned(self.client_type),
            user_agent: owned(self.user_agent),
            details: extras.details,
        }
    }
}

impl Event {
    /// The fields attempts read, borrowed.
    pub fn view(&self) -> EventView<'_> {
        EventView {
            id: Cow::Borrowed(&self.id),
            time: self.time,
            activity: borrowed(&self.activity),
            kind: self.kind,
            result: borrowed(&self.result),
            result_reason: borrowed(&self.result_reason),
            correlation_id: borrowed(&self.correlation_id),
            initiator_upn: borrowed(&self.initiator_upn),
            initiator_id: borrowed(&self.initiator_id),
            initiator_app: borrowed(&self.initiator_app),
            target_upn: borrowed(&self.target_upn),
            target_id: borrowed(&self.target_id),
            ip_address: borrowed(&self.ip_address),
            client_type: borrowed(&self.client_type),
            user_agent: borrowed(&self.user_agent),
        }
    }
}

fn borrowed(text: &Option<String>) -> Option<Cow<'_, str>> {
    text.as_deref().map(Cow::Borrowed)
}

/// Where a row stands among the rows of its correlation id: by time, rows without one last,
/// then by a fixed hash of its record id, so that the order never depends on the input's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowOrder {
    pub time: Option<DateTime<Utc>>,
    /// A fixed hash of the record id.
    pub tie: u64,
}

impl Ord for RowOrder {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |order: &Self| (order.time.is_none(), order.time, order.tie);
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for RowOrder {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What some rows of one correlation id tell about its attempt, borrowed: the state an attempt
/// builder keeps per correlation id, and a row of the store's parts (see
/// [`crate::columns::parts_frame`]). Parts of one correlation id merge. A helpdesk reset, one
/// attempt per row, is a part of its own (`admin`), keyed by its record id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptPart<'a> {
    /// The correlation id; for a helpdesk reset, the record id.
    pub key: &'a str,
    pub admin: bool,
    /// For a helpdesk reset, where it was made.
    pub admin_source: Option<AdminSource>,
    /// For a helpdesk reset, who initiated it: the app's display name, else the user's UPN.
    pub initiator: Option<&'a str>,
    /// How many rows it has, each record once.
    pub rows: u32,
    pub has_reset_row: bool,
    pub has_unlock_row: bool,
    /// Whether a row completed the reset; for a helpdesk reset, whether it succeeded.
    pub reset_completed: bool,
    /// The time of the earliest successful `Reset password (self-service)` row, and of the
    /// earliest flow row `User successfully reset password`: when the reset completed.
    pub reset_row_succeeded: Option<DateTime<Utc>>,
    pub flow_succeeded: Option<DateTime<Utc>>,
    pub unlock_completed: bool,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    /// The earliest non-empty value among its rows, with that row's order.
    pub client_type: Option<(RowOrder, &'a str)>,
    pub user_agent: Option<(RowOrder, &'a str)>,
    pub user: Option<(RowOrder, &'a str)>,
    /// As found (trimmed).
    pub ip_address: Option<(RowOrder, &'a str)>,
    /// The furthest funnel step its rows show.
    pub furthest_step: Option<FunnelStep>,
    /// The cause of an ending named by its latest row naming one.
    pub last_ending: Option<(RowOrder, FinalState)>,
    /// Whether a row failed with a text naming no cause.
    pub unrecognised_failure: bool,
}

/// What kind of attempt a correlation id (or an admin reset row) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptKind {
    /// A self-service password reset.
    Reset,
    /// A self-service account unlock (has an `Unlock user account (self-service)` row).
    Unlock,
    /// A helpdesk reset: one `Reset password (by admin)` row, or one Core Directory `Reset user
    /// password` row of another tool.
    Admin,
}

/// Where a helpdesk reset was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminSource {
    /// In the Entra portal: a `Reset password (by admin)` row.
    Portal,
    /// With another tool (Graph, PowerShell, a helpdesk application): a Core Directory
    /// `Reset user password` row that is neither the reset service's nor a portal reset's echo.
    OtherTool,
}

impl AdminSource {
    pub const ALL: [AdminSource; 2] = [AdminSource::Portal, AdminSource::OtherTool];

    pub fn as_str(self) -> &'static str {
        match self {
            AdminSource::Portal => "portal",
            AdminSource::OtherTool => "other_tools",
        }
    }

    /// The source of a name [`AdminSource::as_str`] gives.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.as_str() == name)
    }
}

impl AttemptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Reset => "reset",
            AttemptKind::Unlock => "unlock",
            AttemptKind::Admin => "admin",
        }
    }
}

/// The channel of every attempt no rule matches.
pub const UNKNOWN_CHANNEL: &str = "unknown";
/// The channel of helpdesk resets; reserved, no rule may name it.
pub const ADMIN_CHANNEL: &str = "admin";

/// One reset or unlock attempt: the row of the `attempts` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The correlation id; for an admin reset, the id of its row.
    pub id: String,
    pub kind: AttemptKind,
    pub channel: String,
    /// The first non-empty client type among the attempt's rows, by time.
    pub client_type: Option<String>,
    /// The first non-empty user agent among the attempt's rows, by time.
    pub user_agent: Option<String>,
    pub completed: bool,
    /// Time of the attempt's first and last rows.
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    /// The user whose password it is: target UPN (lowercased), else target id, else initiator.
    pub user: Option<String>,
    /// The first non-empty IP address among the attempt's rows, by time.
    pub ip_address: Option<String>,
    /// How many rows (events) the attempt has.
    pub rows: u32,
    /// The furthest funnel step its rows show; `None` for helpdesk resets, which have no flow.
    pub furthest_step: Option<FunnelStep>,
    /// How it ended; `None` for helpdesk resets.
    pub final_state: Option<FinalState>,
    /// The network of `ip_address`: its IPv4 /24 or IPv6 /48, e.g. `198.51.100.0/24`.
    pub ip_network: Option<String>,
    /// Whether the attempt came from an IP address the user's earlier self-service attempts in
    /// the data never used; `None` without a baseline (no earlier attempt of the user with an
    /// address), without an address or time, and for helpdesk resets.
    pub new_ip_for_user: Option<bool>,
    /// Where the attempt falls in the report's calendar; `None` until placed, or without a time.
    pub local: Option<LocalPlacement>,
    /// When a completed reset completed: its earliest successful `Reset password
    /// (self-service)` row, else its earliest flow row `User successfully reset password`; a
    /// helpdesk reset's row. `None` otherwise, and for rows without a time.
    pub completed_at: Option<DateTime<Utc>>,
    /// For a helpdesk reset, where it was made.
    pub admin_source: Option<AdminSource>,
    /// For a helpdesk reset, who initiated it (the app's display name, else the user's UPN):
    /// what tells a tool's reset from the reset service's own; not a column of the table.
    pub initiator: Option<String>,
}

impl Attempt {
    /// The fields the transformer makes, borrowed.
    pub fn view(&self) -> AttemptView<'_> {
        AttemptView {
            id: &self.id,
            kind: self.kind,
            channel: &self.channel,
            client_type: self.client_type.as_deref(),
            user_agent: self.user_agent.as_deref(),
            completed: self.completed,
            started: self.started,
            ended: self.ended,
            user: self.user.as_deref(),
            ip_address: self.ip_address.as_deref(),
            rows: self.rows,
            furthest_step: self.furthest_step,
            final_state: self.final_state,
            ip_network: self.ip_network.as_deref(),
            completed_at: self.completed_at,
            admin_source: self.admin_source,
        }
    }
}

/// An [`Attempt`] as the transformer makes it, borrowed: everything but `new_ip_for_user` and
/// the calendar placement, which are worked out over all attempts afterwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptView<'a> {
    pub id: &'a str,
    pub kind: AttemptKind,
    pub channel: &'a str,
    pub client_type: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub completed: bool,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub user: Option<&'a str>,
    pub ip_address: Option<&'a str>,
    pub rows: u32,
    pub furthest_step: Option<FunnelStep>,
    pub final_state: Option<FinalState>,
    pub ip_network: Option<&'a str>,
    pub completed_at: Option<DateTime<Utc>>,
    pub admin_source: Option<AdminSource>,
}

/// The steps of a self-service reset, in the order a user goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FunnelStep {
    /// Submitted their user ID (every attempt has at least this).
    Started,
    /// Was presented with verification options (or started or completed a method).
    ShownOptions,
    /// Completed all verification steps required.
    Verified,
    /// Submitted a new password (or a `Reset password (self-service)` was tried with one).
    SubmittedPassword,
    /// Reset the password.
    Completed,
}

impl FunnelStep {
    pub const ALL: [FunnelStep; 5] = [
        FunnelStep::Started,
        FunnelStep::ShownOptions,
        FunnelStep::Verified,
        FunnelStep::SubmittedPassword,
        FunnelStep::Completed,
    ];

    /// The step of a name [`FunnelStep::as_str`] gives.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FunnelStep::Started => "started",
            FunnelStep::ShownOptions => "shown_options",
            FunnelStep::Verified => "verified",
            FunnelStep::SubmittedPassword => "submitted_password",
            FunnelStep::Completed => "completed",
        }
    }
}

/// How a self-service attempt ended: exactly one per attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinalState {
    Completed,
    /// The user abandoned or canceled.
    Cancelled,
    /// Too many tries: blocked for 24 hours.
    Blocked,
    /// The account has too few authentication methods registered.
    InsufficientMethods,
    /// SSPR is not enabled for the user: policy, licence, or not in the SSPR group.
    NotEnabled,
    /// Password writeback or the on-premises password service failed.
    OnPremFailure,
    /// The new password was refused by the password policy (banned password).
    BannedPassword,
    /// The user gave up and contacted an admin: a failed deflection.
    ContactedAdmin,
    /// A failure row whose text names none of the causes above (a new Entra text, most likely).
    OtherFailure,
    /// No completion, drop-off or failure row at all: the user left without the flow saying why,
    /// or the log holds only part of the attempt.
    NoOutcome,
}

impl FinalState {
    pub const ALL: [FinalState; 10] = [
        FinalState::Completed,
        FinalState::Cancelled,
        FinalState::Blocked,
        FinalState::InsufficientMethods,
        FinalState::NotEnabled,
        FinalState::OnPremFailure,
        FinalState::BannedPassword,
        FinalState::ContactedAdmin,
        FinalState::OtherFailure,
        FinalState::NoOutcome,
    ];

    /// The state of a name [`FinalState::as_str`] gives.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FinalState::Completed => "completed",
            FinalState::Cancelled => "cancelled",
            FinalState::Blocked => "blocked",
            FinalState::InsufficientMethods => "insufficient_methods",
            FinalState::NotEnabled => "not_enabled",
            FinalState::OnPremFailure => "onprem_failure",
            FinalState::BannedPassword => "banned_password",
            FinalState::ContactedAdmin => "contacted_admin",
            FinalState::OtherFailure => "other_failure",
            FinalState::NoOutcome => "no_outcome",
        }
    }
}

/// An attempt's place in the report's calendar (time zone of `--tz`, periods of `--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalPlacement {
    /// The local date of the attempt's first row.
    pub day: NaiveDate,
    /// The first day of the period (day, week from Monday, month) holding `day`.
    pub period: NaiveDate,
    /// Whether it began outside the working hours.
    pub after_hours: bool,
}

/// One day of the report's calendar: every local day from the first attempt's to the last's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub period: NaiveDate,
}

pub mod reach;
