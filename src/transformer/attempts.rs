//! Groups events into attempts and decides each attempt's channel and completion.
//!
//! The definitions (README, "Attempts"):
//! - a reset attempt is a correlation id with a flow-progress or `Reset password (self-service)`
//!   row and no `Unlock user account (self-service)` row; with an unlock row it is an unlock attempt;
//! - a reset is completed by a successful `Reset password (self-service)` row or a flow row
//!   `User successfully reset password`; an unlock by a successful unlock row;
//! - client type, user agent, user and IP address are the first non-empty values by time among
//!   all rows of the correlation id (ties broken by a fixed hash of the event id, so input order
//!   never matters);
//! - every `Reset password (by admin)` row is one attempt of channel `admin`, completed on success;
//! - a self-service attempt's furthest step and final state come from its rows' step texts
//!   ([`super::funnel`]); its IP network and whether its IP is new for the user are derived from
//!   its IP address ([`super::network`], [`super::ip_history`]).
//!
//! An [`AttemptBuilder`] keeps a small state per correlation id, never the events, spread over
//! partitions by a hash of the id: builders fed by different threads merge, and finish, one
//! partition per core at a time. Each state keeps the keys of its rows, so a copy of a record
//! (same id, hence same correlation id) counts once, however the copies were split between
//! builders.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use polars::prelude::{DataFrame, PolarsResult};
use rayon::prelude::*;

use super::funnel::FunnelTracker;
use super::ip_history::mark_new_ips;
use super::network::{Network, parse_address};
use super::rules::{ChannelRules, Classifier};
use crate::columns::{AttemptColumns, attempts_frame};
use crate::model::{
    ADMIN_CHANNEL, ActivityKind, Attempt, AttemptKind, AttemptView, Event, EventView,
};

/// The flow step that marks a completed reset.
const RESET_SUCCEEDED_STEP: &str = "User successfully reset password";

/// How many partitions a builder spreads correlation ids over.
const PARTITIONS: usize = 32;

/// Hashes a correlation id: its partition and its place in the partition's table.
const GROUP_HASH: FixedState = FixedState::with_seed(0x4752_4f55_5053);

/// Hashes a record id into its row key; seeded anew in every run, so that no input can be made
/// to collide.
static ROW_HASH: LazyLock<FixedState> = LazyLock::new(|| FixedState::with_seed(rand::random()));

/// The `attempts` table of `events` (see [`AttemptBuilder::finish`]). A copy of an event counts
/// once.
pub fn build_attempts(events: &[Event], rules: &ChannelRules) -> PolarsResult<DataFrame> {
    let mut builder = AttemptBuilder::default();
    for event in events {
        builder.add(&event.view());
    }
    builder.finish(rules)
}

/// Attempts in the making: events are added one at a time, in any order, and builders that saw
/// different events (threads reading different parts of the input) merge.
#[derive(Default)]
pub struct AttemptBuilder {
    /// Empty until the first event with a correlation id, then [`PARTITIONS`] long.
    partitions: Vec<Partition>,
    admin: Vec<Attempt>,
    /// The keys of rows without a correlation id, which belong to no group.
    loose_rows: HashSet<u64, FixedState>,
}

impl AttemptBuilder {
    /// Adds one event; a copy of an event added before (to this builder) changes nothing.
    pub fn add(&mut self, event: &EventView<'_>) {
        let key = row_key(event);
        let new = match event.correlation_id.as_deref() {
            Some(correlation_id) => {
                let hash = GROUP_HASH.hash_one(correlation_id);
                if self.partitions.is_empty() {
                    self.partitions.resize_with(PARTITIONS, Partition::default);
                }
                // Bits the partition's table does not use for its slots and tags.
                let partition = &mut self.partitions[(hash >> 32) as usize % PARTITIONS];
                partition.group(correlation_id, hash).add(event, key)
            }
            None => self.loose_rows.insert(key),
        };
        if new && event.kind == ActivityKind::AdminReset {
            self.admin.push(admin_attempt(event));
        }
    }

    /// Rows added, each record once; and how many of them have no time.
    pub fn rows(&self) -> (u64, u64) {
        let groups = self.partitions.iter().flat_map(|p| &p.groups);
        let keys = groups
            .flat_map(|group| group.rows.iter())
            .chain(self.loose_rows.iter().copied());
        keys.fold((0, 0), |(rows, untimed), key| {
            (rows + 1, untimed + u64::from(is_untimed(key)))
        })
    }

    /// Takes in what another builder saw.
    pub fn merge(&mut self, other: AttemptBuilder) {
        *self = Self::merge_all(vec![std::mem::take(self), other]);
    }

    /// One builder of what all of `builders` saw, merged partition by partition on every core.
    pub fn merge_all(builders: Vec<AttemptBuilder>) -> AttemptBuilder {
        let mut merged = AttemptBuilder::default();
        let mut shares: Vec<Vec<Partition>> = Vec::new();
        for builder in builders {
            merged.admin.extend(builder.admin);
            merged.loose_rows.extend(builder.loose_rows);
            for (index, partition) in builder.partitions.into_iter().enumerate() {
                if shares.len() <= index {
                    shares.resize_with(index + 1, Vec::new);
                }
                shares[index].push(partition);
            }
        }
        merged.partitions = shares
            .into_par_iter()
            .map(|share| {
                share
                    .into_iter()
                    .reduce(Partition::merge)
                    .unwrap_or_default()
            })
            .collect();
        merged
    }

    /// The `attempts` table, sorted by id (then kind), without its calendar columns (see
    /// [`super::calendar::place`]). Every core builds a share of the table, in order.
    pub fn finish(self, rules: &ChannelRules) -> PolarsResult<DataFrame> {
        let mut admin = self.admin;
        admin.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        // Copies of an admin row that different builders saw.
        admin.dedup_by(|a, b| a.id == b.id);
        let partitions = self.partitions;
        let order = table_order(&partitions, &admin);
        let cores = rayon::current_num_threads();
        let shares: Vec<DataFrame> = order
            .par_chunks(order.len().div_ceil(cores).max(1))
            .map_init(
                || (rules.classifier(), AddressTexts::default()),
                |(classifier, addresses), share| {
                    let mut columns = AttemptColumns::with_capacity(share.len());
                    for &place in share {
                        match place {
                            Place::Admin(index) => columns.push(admin[index].view()),
                            Place::Group(partition, index) => {
                                let group = &partitions[partition as usize].groups[index as usize];
                                columns.push(group.view(classifier, addresses));
                            }
                        }
                    }
                    columns.finish()
                },
            )
            .collect::<PolarsResult<_>>()?;
        let mut table = attempts_frame(&[])?;
        for share in shares {
            table.vstack_mut_owned(share)?;
        }
        // Freeing the groups' strings takes time nothing needs to wait for.
        std::thread::spawn(move || drop(partitions));
        mark_new_ips(&mut table)?;
        Ok(table)
    }
}

/// Where an attempt's row comes from: an admin reset, or a group of a partition.
#[derive(Debug, Clone, Copy)]
enum Place {
    Admin(usize),
    Group(u32, u32),
}

/// Every attempt's place, in the order of the table: by id, then kind (an admin reset's id is
/// its record's, which could equal a correlation id).
fn table_order(partitions: &[Partition], admin: &[Attempt]) -> Vec<Place> {
    let key = |place: Place| match place {
        Place::Admin(index) => (admin[index].id.as_str(), AttemptKind::Admin),
        Place::Group(partition, index) => {
            let group = &partitions[partition as usize].groups[index as usize];
            (
                &*group.correlation_id,
                group.kind().unwrap_or(AttemptKind::Reset),
            )
        }
    };
    // The first sixteen bytes of the id decide almost every comparison on their own (record
    // ids share a prefix such as `Directory_`).
    let prefix = |id: &str| {
        let mut bytes = [0; 16];
        let head = &id.as_bytes()[..id.len().min(16)];
        bytes[..head.len()].copy_from_slice(head);
        u128::from_be_bytes(bytes)
    };
    let groups = partitions
        .iter()
        .enumerate()
        .flat_map(|(partition, groups)| {
            groups
                .groups
                .iter()
                .enumerate()
                .filter(|(_, group)| group.kind().is_some())
                .map(move |(index, _)| Place::Group(partition as u32, index as u32))
        });
    let mut order: Vec<(u128, Place)> = (0..admin.len())
        .map(Place::Admin)
        .chain(groups)
        .map(|place| (prefix(key(place).0), place))
        .collect();
    order.par_sort_unstable_by(|(a_prefix, a), (b_prefix, b)| {
        a_prefix.cmp(b_prefix).then_with(|| {
            let ((a_id, a_kind), (b_id, b_kind)) = (key(*a), key(*b));
            a_id.cmp(b_id)
                .then_with(|| a_kind.as_str().cmp(b_kind.as_str()))
        })
    });
    order.into_iter().map(|(_, place)| place).collect()
}

/// The correlation ids of one partition, each with its group.
#[derive(Default)]
struct Partition {
    /// Indexes into `groups`, by the hash of the correlation id.
    table: HashTable<usize>,
    groups: Vec<Group>,
}

impl Partition {
    /// The index of the group of a correlation id, if it has one.
    fn find(&self, correlation_id: &str, hash: u64) -> Option<usize> {
        let groups = &self.groups;
        self.table
            .find(hash, |&index| {
                *groups[index].correlation_id == *correlation_id
            })
            .copied()
    }

    fn insert(&mut self, group: Group) -> usize {
        let index = self.groups.len();
        let groups = &self.groups;
        self.table
            .insert_unique(group.hash, index, |&index| groups[index].hash);
        self.groups.push(group);
        index
    }

    /// The group of a correlation id, made when it is new.
    fn group(&mut self, correlation_id: &str, hash: u64) -> &mut Group {
        let index = match self.find(correlation_id, hash) {
            Some(index) => index,
            None => self.insert(Group::new(correlation_id, hash)),
        };
        &mut self.groups[index]
    }

    /// Both partitions' groups as one; the smaller goes into the larger.
    fn merge(mut self, mut other: Partition) -> Partition {
        if self.groups.len() < other.groups.len() {
            std::mem::swap(&mut self, &mut other);
        }
        for group in other.groups {
            match self.find(&group.correlation_id, group.hash) {
                Some(index) => self.groups[index].merge(group),
                None => {
                    self.insert(group);
                }
            }
        }
        self
    }
}

/// A row's key: a hash of its record id, whose top bit says whether the row has no time. The
/// copies of a record share it.
fn row_key(event: &EventView<'_>) -> u64 {
    ROW_HASH.hash_one(event.id.as_ref()) >> 1 | u64::from(event.time.is_none()) << 63
}

fn is_untimed(key: u64) -> bool {
    key >> 63 == 1
}

/// The keys of a group's rows: a short list (almost always), or a set once it grows long.
enum RowKeys {
    Few(Vec<u64>),
    Many(HashSet<u64, FixedState>),
}

impl RowKeys {
    /// The longest list searched one key at a time.
    const FEW: usize = 32;

    /// Adds a key; `false` if it was there already.
    fn insert(&mut self, key: u64) -> bool {
        match self {
            RowKeys::Few(keys) if keys.contains(&key) => false,
            RowKeys::Few(keys) if keys.len() < Self::FEW => {
                keys.push(key);
                true
            }
            RowKeys::Few(keys) => {
                let mut set: HashSet<u64, FixedState> = keys.drain(..).collect();
                set.insert(key);
                *self = RowKeys::Many(set);
                true
            }
            RowKeys::Many(set) => set.insert(key),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            RowKeys::Few(keys) => Box::new(keys.iter().copied()),
            RowKeys::Many(set) => Box::new(set.iter().copied()),
        }
    }

    fn len(&self) -> usize {
        match self {
            RowKeys::Few(keys) => keys.len(),
            RowKeys::Many(set) => set.len(),
        }
    }
}

fn admin_attempt(event: &EventView<'_>) -> Attempt {
    let mut addresses = AddressTexts::default();
    let (ip_address, ip_network) = addresses.of(event.ip_address.as_deref());
    Attempt {
        id: event.id.clone().into_owned(),
        kind: AttemptKind::Admin,
        channel: ADMIN_CHANNEL.to_owned(),
        client_type: owned(&event.client_type),
        user_agent: owned(&event.user_agent),
        completed: is_success(event.result.as_deref()),
        started: event.time,
        ended: event.time,
        user: user_of(event),
        ip_address: ip_address.map(str::to_owned),
        ip_network: ip_network.map(str::to_owned),
        rows: 1,
        furthest_step: None,
        final_state: None,
        new_ip_for_user: None,
        local: None,
    }
}

/// The texts of an attempt's IP address in canonical form and of its network, written into
/// buffers that serve one attempt after another.
#[derive(Default)]
struct AddressTexts {
    address: String,
    network: String,
}

impl AddressTexts {
    /// The canonical form of an address as found (text that is no address stays as found,
    /// trimmed, without a network) and its network.
    fn of<'t>(&'t mut self, found: Option<&'t str>) -> (Option<&'t str>, Option<&'t str>) {
        let Some(found) = found else {
            return (None, None);
        };
        let Some(address) = parse_address(found) else {
            return (Some(found.trim()), None);
        };
        self.address.clear();
        self.network.clear();
        // Writing into a String cannot fail.
        let _ = write!(self.address, "{address}");
        let _ = write!(self.network, "{}", Network(address));
        (Some(&self.address), Some(&self.network))
    }
}

fn owned(text: &Option<Cow<'_, str>>) -> Option<String> {
    text.as_deref().map(str::to_owned)
}

fn is_success(result: Option<&str>) -> bool {
    result.is_some_and(|result| result.trim().eq_ignore_ascii_case("success"))
}

fn is_reset_succeeded_step(reason: Option<&str>) -> bool {
    reason.is_some_and(|reason| {
        reason
            .trim()
            .trim_end_matches('.')
            .eq_ignore_ascii_case(RESET_SUCCEEDED_STEP)
    })
}

/// The user an event is about: target UPN (lowercased), target id, initiator UPN, initiator id.
fn user_of(event: &EventView<'_>) -> Option<String> {
    event
        .target_upn
        .as_deref()
        .map(str::to_lowercase)
        .or_else(|| owned(&event.target_id))
        .or_else(|| event.initiator_upn.as_deref().map(str::to_lowercase))
        .or_else(|| owned(&event.initiator_id))
}

/// Orders rows by time (rows without one last), then by a fixed hash of their id: any order
/// that does not depend on the input's would do, and a number is smaller to keep than the id.
type RowOrder = (bool, Option<DateTime<Utc>>, u64);

fn row_order(event: &EventView<'_>) -> RowOrder {
    const ID_ORDER: FixedState = FixedState::with_seed(0x5353_5052);
    (
        event.time.is_none(),
        event.time,
        ID_ORDER.hash_one(event.id.as_ref()),
    )
}

/// The value of the earliest row that has one.
struct Earliest<T> {
    best: Option<(RowOrder, T)>,
}

impl<T> Default for Earliest<T> {
    fn default() -> Self {
        Earliest { best: None }
    }
}

impl<T> Earliest<T> {
    fn is_before(&self, order: &RowOrder) -> bool {
        self.best.as_ref().is_none_or(|(best, _)| order < best)
    }

    fn offer(&mut self, order: RowOrder, value: Option<T>) {
        if let Some(value) = value {
            self.best = Some((order, value));
        }
    }

    fn merge(&mut self, other: Earliest<T>) {
        if let Some((order, value)) = other.best
            && self.best.as_ref().is_none_or(|(mine, _)| order < *mine)
        {
            self.best = Some((order, value));
        }
    }

    fn get(&self) -> Option<&T> {
        self.best.as_ref().map(|(_, value)| value)
    }
}

/// Everything known about one correlation id.
struct Group {
    correlation_id: Box<str>,
    /// [`GROUP_HASH`] of the correlation id.
    hash: u64,
    rows: RowKeys,
    has_reset_row: bool,
    has_unlock_row: bool,
    reset_completed: bool,
    unlock_completed: bool,
    started: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    client_type: Earliest<String>,
    user_agent: Earliest<String>,
    user: Earliest<String>,
    /// As found (trimmed); canonical only once it is the attempt's.
    ip_address: Earliest<String>,
    funnel: FunnelTracker<RowOrder>,
}

impl Group {
    fn new(correlation_id: &str, hash: u64) -> Self {
        Group {
            correlation_id: correlation_id.into(),
            hash,
            rows: RowKeys::Few(Vec::new()),
            has_reset_row: false,
            has_unlock_row: false,
            reset_completed: false,
            unlock_completed: false,
            started: None,
            ended: None,
            client_type: Earliest::default(),
            user_agent: Earliest::default(),
            user: Earliest::default(),
            ip_address: Earliest::default(),
            funnel: FunnelTracker::default(),
        }
    }

    /// Takes in one row with its key; `false` (and nothing changes) for a row seen before.
    fn add(&mut self, event: &EventView<'_>, key: u64) -> bool {
        if !self.rows.insert(key) {
            return false;
        }
        match event.kind {
            ActivityKind::FlowProgress => {
                self.has_reset_row = true;
                self.reset_completed |= is_reset_succeeded_step(event.result_reason.as_deref());
            }
            ActivityKind::SelfServiceReset => {
                self.has_reset_row = true;
                self.reset_completed |= is_success(event.result.as_deref());
            }
            ActivityKind::SelfServiceUnlock => {
                self.has_unlock_row = true;
                self.unlock_completed |= is_success(event.result.as_deref());
            }
            ActivityKind::AdminReset | ActivityKind::Other => {}
        }
        if let Some(time) = event.time {
            self.started = Some(self.started.map_or(time, |started| started.min(time)));
            self.ended = Some(self.ended.map_or(time, |ended| ended.max(time)));
        }
        let order = row_order(event);
        self.funnel.add(event, || order);
        // Values are copied only when this row is the earliest so far to have one.
        if event.client_type.is_some() && self.client_type.is_before(&order) {
            self.client_type.offer(order, owned(&event.client_type));
        }
        if event.user_agent.is_some() && self.user_agent.is_before(&order) {
            self.user_agent.offer(order, owned(&event.user_agent));
        }
        if self.user.is_before(&order) {
            self.user.offer(order, user_of(event));
        }
        if event.ip_address.is_some() && self.ip_address.is_before(&order) {
            self.ip_address.offer(order, owned(&event.ip_address));
        }
        true
    }

    /// Takes in what another builder saw of the same correlation id. Every part of the state
    /// but the row keys ignores a row seen twice, so rows both saw count once.
    fn merge(&mut self, other: Group) {
        for key in other.rows.iter() {
            self.rows.insert(key);
        }
        self.has_reset_row |= other.has_reset_row;
        self.has_unlock_row |= other.has_unlock_row;
        self.reset_completed |= other.reset_completed;
        self.unlock_completed |= other.unlock_completed;
        self.started = match (self.started, other.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.ended = match (self.ended, other.ended) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.client_type.merge(other.client_type);
        self.user_agent.merge(other.user_agent);
        self.user.merge(other.user);
        self.ip_address.merge(other.ip_address);
        self.funnel.merge(other.funnel);
    }

    /// What kind of attempt the correlation id is, if it is one.
    fn kind(&self) -> Option<AttemptKind> {
        if self.has_unlock_row {
            Some(AttemptKind::Unlock)
        } else if self.has_reset_row {
            Some(AttemptKind::Reset)
        } else {
            None
        }
    }

    /// The group's attempt, for a group with a [`Group::kind`].
    fn view<'g, 'r: 'g>(
        &'g self,
        classifier: &mut Classifier<'r>,
        addresses: &'g mut AddressTexts,
    ) -> AttemptView<'g> {
        let kind = self.kind().unwrap_or(AttemptKind::Reset);
        let completed = match kind {
            AttemptKind::Unlock => self.unlock_completed,
            AttemptKind::Reset | AttemptKind::Admin => self.reset_completed,
        };
        let client_type = self.client_type.get().map(String::as_str);
        let user_agent = self.user_agent.get().map(String::as_str);
        let (ip_address, ip_network) = addresses.of(self.ip_address.get().map(String::as_str));
        let (furthest_step, final_state) = self.funnel.finish(completed);
        AttemptView {
            id: &self.correlation_id,
            kind,
            channel: classifier.classify(client_type, user_agent),
            client_type,
            user_agent,
            completed,
            started: self.started,
            ended: self.ended,
            user: self.user.get().map(String::as_str),
            ip_address,
            rows: self.rows.len() as u32,
            furthest_step: Some(furthest_step),
            final_state: Some(final_state),
            ip_network,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::attempts_from_frame;
    use crate::model::{FinalState, FunnelStep};
    use chrono::TimeZone;

    const FLOW: &str = "Self-service password reset flow activity progress";
    const RESET: &str = "Reset password (self-service)";

    /// A hand-written row: id, correlation id, seconds after 08:00, activity, result, reason, client type.
    fn row(
        id: &str,
        corr: &str,
        second: u32,
        activity: &str,
        result: &str,
        reason: &str,
        client_type: Option<&str>,
    ) -> Event {
        Event {
            id: id.into(),
            time: Some(Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, second).unwrap()),
            service: Some("Self-service Password Management".into()),
            category: None,
            activity: Some(activity.into()),
            kind: ActivityKind::of(Some(activity)),
            result: Some(result.into()),
            result_reason: Some(reason.into()),
            correlation_id: Some(corr.into()),
            initiator_upn: Some("Ann@Contoso.example".into()),
            initiator_id: None,
            initiator_app: None,
            target_upn: None,
            target_id: None,
            ip_address: None,
            client_type: client_type.map(Into::into),
            user_agent: None,
            details: vec![],
        }
    }

    fn build(events: &[Event]) -> Vec<Attempt> {
        rows(build_attempts(events, &ChannelRules::builtin()))
    }

    fn rows(table: PolarsResult<DataFrame>) -> Vec<Attempt> {
        attempts_from_frame(&table.unwrap()).unwrap()
    }

    #[test]
    fn a_completed_reset_with_both_success_rows_counts_once() {
        let events = [
            row(
                "1",
                "c",
                0,
                FLOW,
                "success",
                "User submitted their user ID",
                None,
            ),
            row(
                "2",
                "c",
                9,
                FLOW,
                "success",
                "User successfully reset password",
                None,
            ),
            row(
                "3",
                "c",
                9,
                RESET,
                "success",
                "Successfully completed reset.",
                Some("Logon"),
            ),
            row("4", "c", 10, "Reset user password", "success", "", None),
        ];
        let attempts = build(&events);
        assert_eq!(attempts.len(), 1);
        let attempt = &attempts[0];
        assert_eq!(
            (attempt.kind, attempt.completed, attempt.rows),
            (AttemptKind::Reset, true, 4)
        );
        assert_eq!(attempt.channel, "login_screen");
        assert_eq!(attempt.user.as_deref(), Some("ann@contoso.example"));
    }

    #[test]
    fn either_success_row_alone_completes() {
        let flow_only = build(&[row(
            "1",
            "a",
            0,
            FLOW,
            "success",
            "User successfully reset password",
            None,
        )]);
        let reset_only = build(&[row(
            "1",
            "b",
            0,
            RESET,
            "success",
            "Successfully completed reset.",
            None,
        )]);
        let failed = build(&[
            row(
                "1",
                "c",
                0,
                FLOW,
                "success",
                "User submitted a new password",
                None,
            ),
            row(
                "2",
                "c",
                1,
                RESET,
                "failure",
                "FuzzyPolicyViolationInvalidPassword",
                None,
            ),
        ]);
        assert!(flow_only[0].completed && reset_only[0].completed);
        assert!(!failed[0].completed);
    }

    /// Rows of one attempt carrying different client types, the earliest (by time) on row "c".
    fn rows_with_client_types() -> Vec<Event> {
        vec![
            row(
                "a",
                "c",
                5,
                FLOW,
                "success",
                "User submitted a new password",
                Some("Web"),
            ),
            row(
                "b",
                "c",
                1,
                FLOW,
                "success",
                "User was presented with verification options",
                None,
            ),
            row(
                "c",
                "c",
                3,
                "Reset user password",
                "success",
                "",
                Some("Logon"),
            ),
            row("d", "c", 9, RESET, "success", "", Some("MobileApp")),
        ]
    }

    #[test]
    fn client_type_is_the_earliest_non_empty_whatever_the_input_order() {
        let mut events = rows_with_client_types();
        for _ in 0..events.len() {
            events.rotate_left(1);
            let attempts = build(&events);
            assert_eq!(attempts[0].client_type.as_deref(), Some("Logon"));
            assert_eq!(attempts[0].channel, "login_screen");
        }
    }

    #[test]
    fn builders_that_saw_different_rows_merge_into_the_same_attempts() {
        let mut events = rows_with_client_types();
        events.push(row(
            "e",
            "x",
            0,
            "Reset password (by admin)",
            "success",
            "",
            None,
        ));
        let whole = build(&events);
        for split in 0..=events.len() {
            let (mut first, mut second) = (AttemptBuilder::default(), AttemptBuilder::default());
            events[..split]
                .iter()
                .for_each(|event| first.add(&event.view()));
            events[split..]
                .iter()
                .for_each(|event| second.add(&event.view()));
            second.merge(first);
            assert_eq!(
                rows(second.finish(&ChannelRules::builtin())),
                whole,
                "split at {split}"
            );
        }
    }

    #[test]
    fn unlock_rows_make_an_unlock_attempt() {
        let attempts = build(&[
            row(
                "1",
                "u",
                0,
                FLOW,
                "success",
                "User submitted their user ID",
                None,
            ),
            row(
                "2",
                "u",
                5,
                "Unlock user account (self-service)",
                "success",
                "",
                None,
            ),
            row(
                "3",
                "u",
                6,
                FLOW,
                "success",
                "User successfully reset password",
                None,
            ),
        ]);
        assert_eq!(
            (attempts[0].kind, attempts[0].completed),
            (AttemptKind::Unlock, true)
        );
    }

    #[test]
    fn admin_resets_are_one_attempt_per_row() {
        let attempts = build(&[
            row(
                "1",
                "x",
                0,
                "Reset password (by admin)",
                "success",
                "",
                None,
            ),
            row(
                "2",
                "x",
                1,
                "Reset password (by admin)",
                "failure",
                "",
                None,
            ),
        ]);
        let summary: Vec<_> = attempts
            .iter()
            .map(|a| (a.id.as_str(), a.kind, a.channel.as_str(), a.completed))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("1", AttemptKind::Admin, "admin", true),
                ("2", AttemptKind::Admin, "admin", false)
            ]
        );
    }

    #[test]
    fn self_service_attempts_get_a_funnel_a_network_and_an_ip_history() {
        let with_ip = |mut event: Event, ip: &str| {
            event.ip_address = Some(ip.into());
            event
        };
        let attempts = build(&[
            with_ip(
                row(
                    "1",
                    "a",
                    0,
                    FLOW,
                    "success",
                    "User submitted their user ID",
                    None,
                ),
                "198.51.100.7",
            ),
            with_ip(
                row(
                    "2",
                    "a",
                    1,
                    FLOW,
                    "failure",
                    "User entered too many invalid mobile SMS codes and is blocked for 24 hours",
                    None,
                ),
                "198.51.100.7",
            ),
            with_ip(
                row("3", "b", 9, RESET, "success", "", None),
                "2001:db8:1:2::3",
            ),
            with_ip(
                row(
                    "4",
                    "c",
                    5,
                    "Reset password (by admin)",
                    "success",
                    "",
                    None,
                ),
                "192.0.2.10",
            ),
        ]);
        let summary: Vec<_> = attempts
            .iter()
            .map(|a| {
                (
                    a.id.as_str(),
                    a.furthest_step.map(FunnelStep::as_str),
                    a.final_state.map(FinalState::as_str),
                    a.ip_network.as_deref(),
                    a.new_ip_for_user,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("4", None, None, Some("192.0.2.0/24"), None),
                (
                    "a",
                    Some("started"),
                    Some("blocked"),
                    Some("198.51.100.0/24"),
                    None
                ),
                (
                    "b",
                    Some("completed"),
                    Some("completed"),
                    Some("2001:db8:1::/48"),
                    Some(true)
                ),
            ]
        );
    }

    #[test]
    fn other_activities_never_make_attempts() {
        let attempts = build(&[
            row(
                "1",
                "b",
                0,
                "Blocked from self-service password reset",
                "success",
                "",
                Some("Logon"),
            ),
            row(
                "2",
                "p",
                0,
                "Change password (self-service)",
                "success",
                "",
                None,
            ),
            row(
                "3",
                "s",
                0,
                "Security info saved for self-service password reset",
                "success",
                "",
                None,
            ),
            row("4", "d", 0, "Reset user password", "success", "", None),
        ]);
        assert!(attempts.is_empty());
    }
}
