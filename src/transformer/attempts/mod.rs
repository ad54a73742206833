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
//! - a `User started password reset` row (service `Authentication Methods`) makes its
//!   correlation id a reset attempt as a flow row does;
//! - every `Reset password (by admin)` row is one attempt of channel `admin`, completed on
//!   success, and so is every Core Directory `Reset user password` row of another tool than the
//!   portal and the reset service ([`super::helpdesk`]);
//! - a self-service attempt's furthest step and final state come from its rows' step texts
//!   ([`super::funnel`]); its IP network and whether its IP is new for the user are derived from
//!   its IP address ([`super::network`], [`super::ip_history`]).
//!
//! An [`AttemptBuilder`] keeps a small state per correlation id ([`group`]), never the events,
//! spread over partitions by a hash of the id: builders fed by different threads merge, and
//! finish, one partition per core at a time. A builder also takes in, and gives out, the
//! state of each correlation id as an [`AttemptPart`]: what the store keeps of its batches.

mod arena;
mod group;

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use polars::prelude::{BooleanChunked, DataFrame, NewChunkedArray, PolarsResult};
use rayon::prelude::*;

use self::arena::{Chunks, Texts};
use self::group::{
    AddressTexts, Group, IdKey, admin_attempt, admin_attempt_of_part, admin_part, attempt_of,
    is_untimed, row_key,
};
use super::helpdesk::settle;
use super::rules::ChannelRules;
use crate::columns::{
    AttemptColumns, DecidedColumns, attempts_frame, for_each_part, part_keys, parts_frame,
    taken_columns,
};
use crate::model::{ActivityKind, AdminSource, Attempt, AttemptPart, Event, EventView};

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
    builder_of(events).finish(rules)
}

/// The parts table of `events` (see [`crate::columns::parts_frame`]): what the store keeps of
/// a batch's attempts.
pub fn attempt_parts(events: &[Event]) -> PolarsResult<DataFrame> {
    parts_frame(builder_of(events).parts())
}

/// A builder that saw every event of `events`.
fn builder_of(events: &[Event]) -> AttemptBuilder {
    let mut builder = AttemptBuilder::default();
    for event in events {
        builder.add(&event.view());
    }
    builder
}

/// Attempts in the making: events (or parts) are added one at a time, in any order, and
/// builders that saw different events (threads reading different parts of the input) merge.
#[derive(Default)]
pub struct AttemptBuilder {
    /// Empty until the first correlation id, then [`PARTITIONS`] long.
    partitions: Vec<Partition>,
    admin: Vec<Attempt>,
    /// The keys of rows without a correlation id, which belong to no group.
    loose_rows: HashSet<u64, FixedState>,
}

impl AttemptBuilder {
    /// Adds one event; a copy of an event added before (to this builder) changes nothing.
    pub fn add(&mut self, event: &EventView<'_>) {
        let key = row_key(&ROW_HASH, event);
        let new = match event.correlation_id.as_deref() {
            Some(correlation_id) => {
                let hash = GROUP_HASH.hash_one(correlation_id);
                self.partition(hash).add(correlation_id, hash, event, key)
            }
            None => self.loose_rows.insert(key),
        };
        if new && let Some(source) = admin_source(event.kind) {
            self.admin.push(admin_attempt(event, source));
        }
    }

    /// Adds a helpdesk reset's part, or a correlation id's part made of rows this builder has
    /// not seen.
    fn add_part(&mut self, part: &AttemptPart<'_>) {
        if part.admin {
            self.admin.push(admin_attempt_of_part(part));
            return;
        }
        let hash = GROUP_HASH.hash_one(part.key);
        let partition = self.partition(hash);
        match partition.find(part.key, IdKey::of(part.key), hash) {
            Some(index) => {
                let group = partition.groups.get_mut(index);
                group.take_part(part, &mut partition.texts)
            }
            None => {
                let group = Group::from_part(part, hash, &mut partition.texts);
                partition.insert(group);
            }
        }
    }

    /// Every attempt part the builder knows: one per helpdesk reset and per correlation id.
    pub fn parts(&self) -> impl Iterator<Item = AttemptPart<'_>> {
        let groups = self.partitions.iter().flat_map(|partition| {
            let texts = &partition.texts;
            partition.groups.iter().map(|group| group.part(texts))
        });
        self.admin.iter().map(admin_part).chain(groups)
    }

    /// The partition of a correlation id's hash.
    fn partition(&mut self, hash: u64) -> &mut Partition {
        if self.partitions.is_empty() {
            self.partitions.resize_with(PARTITIONS, Partition::default);
        }
        &mut self.partitions[partition_index(hash)]
    }

    /// Rows added one at a time, each record once; and how many of them have no time.
    pub fn rows(&self) -> (u64, u64) {
        let groups = self.partitions.iter().flat_map(|p| p.groups.iter());
        let keys = groups
            .flat_map(Group::keys)
            .chain(self.loose_rows.iter().copied());
        keys.fold((0, 0), |(rows, untimed), key| {
            (rows + 1, untimed + u64::from(is_untimed(key)))
        })
    }

    /// Takes in what another builder saw.
    #[cfg(any(test, feature = "fuzzing"))]
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

    /// The `attempts` table, without its calendar columns (see [`super::calendar::place`]) and
    /// new-IP flags ([`super::ip_history`]). Its rows come in a fixed order: helpdesk resets by
    /// id, then the other attempts partition by partition, by id within each; every core builds
    /// the shares of partitions in turn.
    pub fn finish(self, rules: &ChannelRules) -> PolarsResult<DataFrame> {
        table_of(self.shares(rules)?)
    }

    /// The shares of the `attempts` table, as [`AttemptBuilder::finish`] puts them in order.
    fn shares(self, rules: &ChannelRules) -> PolarsResult<Vec<DataFrame>> {
        let mut admin = self.admin;
        admin.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        // Copies of an admin row that different builders saw.
        admin.dedup_by(|a, b| a.id == b.id);
        settle(&mut admin, rules.reset_service());
        let partitions = self.partitions;
        let mut shares = vec![attempts_frame(&admin)?];
        shares.par_extend(
            partitions
                .par_iter()
                .map_init(
                    || (rules.classifier(), AddressTexts::default()),
                    |(classifier, addresses), partition| {
                        let groups = partition.by_id();
                        let mut columns = AttemptColumns::with_capacity(groups.len());
                        for group in groups {
                            let part = group.part(&partition.texts);
                            if let Some(attempt) = attempt_of(&part, classifier, addresses) {
                                columns.push(attempt);
                            }
                        }
                        columns.finish()
                    },
                )
                .collect::<PolarsResult<Vec<_>>>()?,
        );
        // Freeing the groups' strings takes time nothing needs to wait for.
        std::thread::spawn(move || drop(partitions));
        Ok(shares)
    }
}

/// The partition of a correlation id's hash: bits its partition's table does not use for its
/// slots and tags.
fn partition_index(hash: u64) -> usize {
    (hash >> 32) as usize % PARTITIONS
}

/// The helpdesk reset an event of `kind` makes, if any.
fn admin_source(kind: ActivityKind) -> Option<AdminSource> {
    match kind {
        ActivityKind::AdminReset => Some(AdminSource::Portal),
        ActivityKind::DirectoryReset => Some(AdminSource::OtherTool),
        _ => None,
    }
}

/// An [`AttemptBuilder`] that every reading thread adds to at once, each partition behind a
/// lock of its own: a correlation id has one group however the input is ordered, so the
/// threads neither hold a copy of every attempt each nor merge them afterwards. A thread holds
/// a partition's lock only to find and update one group.
pub struct SharedAttemptBuilder {
    partitions: Vec<Mutex<Partition>>,
    /// Helpdesk resets and rows without a correlation id (few).
    rest: Mutex<AttemptBuilder>,
}

impl Default for SharedAttemptBuilder {
    fn default() -> Self {
        SharedAttemptBuilder {
            partitions: std::iter::repeat_with(Mutex::default)
                .take(PARTITIONS)
                .collect(),
            rest: Mutex::default(),
        }
    }
}

impl SharedAttemptBuilder {
    /// Adds one event, as [`AttemptBuilder::add`] does.
    pub fn add(&self, event: &EventView<'_>) {
        let key = row_key(&ROW_HASH, event);
        let new = match event.correlation_id.as_deref() {
            Some(correlation_id) => {
                let hash = GROUP_HASH.hash_one(correlation_id);
                let mut partition = lock(&self.partitions[partition_index(hash)]);
                partition.add(correlation_id, hash, event, key)
            }
            None => lock(&self.rest).loose_rows.insert(key),
        };
        if new && let Some(source) = admin_source(event.kind) {
            let attempt = admin_attempt(event, source);
            lock(&self.rest).admin.push(attempt);
        }
    }

    /// The builder of everything added.
    pub fn into_builder(self) -> AttemptBuilder {
        let mut builder = self
            .rest
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        builder.partitions = self
            .partitions
            .into_iter()
            .map(|partition| {
                partition
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner)
            })
            .collect();
        builder
    }
}

/// Locks a mutex; a thread that panicked holding it left whole groups behind (a group changes
/// only after every check of its row), so its contents stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The `attempts` table of parts tables (see [`crate::columns::parts_frame`]), without its
/// calendar columns and new-IP flags. The parts of a correlation id found more than once
/// merge; helpdesk resets are settled together (see [`settle`]); every other part is an
/// attempt as it is. Rows come in a fixed order: the parts tables' in turn, then the
/// helpdesk resets and the merged ones as [`AttemptBuilder::finish`] orders them.
pub fn attempts_of_parts(tables: &[DataFrame], rules: &ChannelRules) -> PolarsResult<DataFrame> {
    let keys: Vec<Vec<Option<&str>>> = tables
        .par_iter()
        .map(|table| part_keys(table))
        .collect::<PolarsResult<_>>()?;
    let repeated = repeated_parts(&keys);
    // Every table's share of the attempts, and its repeated parts, which merge.
    let (mut shares, repeated_parts): (Vec<DataFrame>, Vec<AttemptBuilder>) = tables
        .par_iter()
        .zip(&repeated)
        .map_init(
            || (rules.classifier(), AddressTexts::default()),
            |(classifier, addresses), (table, repeated)| {
                // Attempts take their texts from the table as they are; the rest is decided.
                let mut decided = DecidedColumns::with_capacity(table.height());
                let mut taken = Vec::with_capacity(table.height());
                let mut merging = AttemptBuilder::default();
                let mut repeated = repeated.iter();
                for_each_part(table, |part| {
                    let is_repeated = repeated.next() == Some(&true);
                    let attempt = if is_repeated || part.admin {
                        merging.add_part(&part);
                        None
                    } else {
                        attempt_of(&part, classifier, addresses)
                    };
                    taken.push(attempt.is_some());
                    if let Some(attempt) = attempt {
                        decided.push(&attempt);
                    }
                })?;
                let taken = BooleanChunked::from_slice("taken".into(), &taken);
                Ok((decided.finish(taken_columns(table, &taken)?)?, merging))
            },
        )
        .collect::<PolarsResult<Vec<_>>>()?
        .into_iter()
        .unzip();
    shares.extend(AttemptBuilder::merge_all(repeated_parts).shares(rules)?);
    table_of(shares)
}

/// Marks the parts (by table and row) of the correlation ids found more than once. Every
/// key's hash goes with its place into one list, sorted: equal keys lie side by side, and the
/// keys of one hash are compared.
fn repeated_parts(keys: &[Vec<Option<&str>>]) -> Vec<Vec<bool>> {
    let mut places: Vec<(u64, usize, usize)> = keys
        .par_iter()
        .enumerate()
        .flat_map_iter(|(table, keys)| {
            keys.iter()
                .enumerate()
                .filter_map(move |(row, key)| Some((GROUP_HASH.hash_one((*key)?), table, row)))
        })
        .collect();
    places.par_sort_unstable();
    let mut repeated: Vec<Vec<bool>> = keys.iter().map(|keys| vec![false; keys.len()]).collect();
    let key = |&(_, table, row): &(u64, usize, usize)| keys[table][row];
    for same_hash in places.chunk_by(|a, b| a.0 == b.0) {
        if same_hash.len() < 2 {
            continue;
        }
        let mut same_hash = same_hash.to_vec();
        same_hash.sort_unstable_by_key(key);
        for pair in same_hash.windows(2) {
            if key(&pair[0]) == key(&pair[1]) {
                for &(_, table, row) in pair {
                    repeated[table][row] = true;
                }
            }
        }
    }
    repeated
}

/// The `attempts` table of its shares.
fn table_of(shares: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut table = attempts_frame(&[])?;
    for share in shares {
        table.vstack_mut_owned(share)?;
    }
    Ok(table)
}

/// The correlation ids of one partition, each with its group.
#[derive(Default)]
struct Partition {
    /// Indexes into `groups`, by the hash of the correlation id.
    table: HashTable<usize>,
    groups: Chunks<Group>,
    texts: Texts,
}

impl Partition {
    /// The index of the group of a correlation id (whose [`IdKey`] is `key`), if it has one.
    fn find(&self, correlation_id: &str, key: IdKey, hash: u64) -> Option<usize> {
        let (groups, texts) = (&self.groups, &self.texts);
        self.table
            .find(hash, |&index| {
                let group = groups.get(index);
                group.id_key == key
                    && (key != IdKey::Other || texts.get(group.correlation_id) == correlation_id)
            })
            .copied()
    }

    /// Adds a row of a correlation id (of hash `hash`) with its row key; `false` (and nothing
    /// changes) for a row seen before.
    fn add(&mut self, correlation_id: &str, hash: u64, event: &EventView<'_>, key: u64) -> bool {
        match self.find(correlation_id, IdKey::of(correlation_id), hash) {
            Some(index) => self.groups.get_mut(index).add(event, key, &mut self.texts),
            None => {
                let mut group = Group::new(correlation_id, hash, &mut self.texts);
                group.add(event, key, &mut self.texts);
                self.insert(group);
                true
            }
        }
    }

    fn insert(&mut self, group: Group) {
        let groups = &self.groups;
        self.table
            .insert_unique(group.hash, groups.len(), |&index| groups.get(index).hash);
        self.groups.push(group);
    }

    /// The groups that make attempts, in the order of their correlation ids.
    fn by_id(&self) -> Vec<&Group> {
        let mut groups: Vec<&Group> = self
            .groups
            .iter()
            .filter(|group| group.kind().is_some())
            .collect();
        let id = |group: &Group| self.texts.get(group.correlation_id);
        groups.sort_unstable_by(|a, b| id(a).cmp(id(b)));
        groups
    }

    /// Both partitions' groups as one; the smaller goes into the larger.
    fn merge(mut self, mut other: Partition) -> Partition {
        if self.groups.len() < other.groups.len() {
            std::mem::swap(&mut self, &mut other);
        }
        for mut group in other.groups {
            let correlation_id = other.texts.get(group.correlation_id);
            match self.find(correlation_id, group.id_key, group.hash) {
                Some(index) => {
                    let mine = self.groups.get_mut(index);
                    mine.merge(&group, &other.texts, &mut self.texts)
                }
                None => {
                    group.relocate(&other.texts, &mut self.texts);
                    self.insert(group);
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz_checks::attempts::{attempts_of, rows};
    use crate::model::AttemptKind;
    use crate::model::{FinalState, FunnelStep};
    use chrono::TimeZone;
    use chrono::Utc;

    const FLOW: &str = "Self-service password reset flow activity progress";
    const RESET: &str = "Reset password (self-service)";

    /// The password reset service, as real tenants name it when it initiates a Core Directory row.
    const RESET_SERVICE: &str = "fim_password_service@support.onmicrosoft.com";

    /// A hand-written row: id, correlation id, seconds after 08:00, activity, result, reason,
    /// client type; initiated by Ann (a Core Directory reset: by the reset service).
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
            initiator_upn: Some(if activity == "Reset user password" {
                RESET_SERVICE.into()
            } else {
                "Ann@Contoso.example".into()
            }),
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
        attempts_of(events, &ChannelRules::builtin())
    }

    #[test]
    fn threads_adding_to_one_shared_builder_make_the_attempts_of_one_builder() {
        let mut events = Vec::new();
        for attempt in 0..3000 {
            // Canonical GUIDs, and other ids now and then.
            let correlation_id = if attempt % 7 == 0 {
                format!("Corr-{attempt}")
            } else {
                format!("{attempt:08x}-0000-4000-8000-000000000000")
            };
            for step in 0..5 {
                let reason = if step == 4 && attempt % 2 == 0 {
                    "User successfully reset password"
                } else {
                    "User submitted their user ID"
                };
                let client_type =
                    (step == 2).then_some(if attempt % 3 == 0 { "Logon" } else { "Web" });
                let id = format!("{attempt}-{step}");
                events.push(row(
                    &id,
                    &correlation_id,
                    step,
                    FLOW,
                    "success",
                    reason,
                    client_type,
                ));
            }
        }
        // Every record twice; four threads at once, each taking every fourth, so the rows of
        // one attempt are added by different threads at the same time.
        let copies: Vec<&Event> = events.iter().chain(&events).collect();
        let shared = SharedAttemptBuilder::default();
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let (shared, copies) = (&shared, &copies);
                scope.spawn(move || {
                    for event in copies.iter().skip(thread).step_by(4) {
                        shared.add(&event.view());
                    }
                });
            }
        });
        let attempts = rows(shared.into_builder().finish(&ChannelRules::builtin()));
        assert_eq!(attempts.len(), 3000);
        assert_eq!(attempts, build(&events));
    }

    #[test]
    fn parts_of_a_key_found_twice_are_marked_in_every_table() {
        let keys = vec![
            vec![Some("a"), Some("b"), Some("a"), None],
            vec![None, Some("b"), Some("c")],
            vec![],
            vec![Some("d"), None],
        ];
        assert_eq!(
            repeated_parts(&keys),
            vec![
                vec![true, true, true, false],
                vec![false, true, false],
                vec![],
                vec![false, false],
            ]
        );
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
    fn self_service_attempts_get_a_funnel_and_a_network() {
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
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("4", None, None, Some("192.0.2.0/24")),
                (
                    "a",
                    Some("started"),
                    Some("blocked"),
                    Some("198.51.100.0/24")
                ),
                (
                    "b",
                    Some("completed"),
                    Some("completed"),
                    Some("2001:db8:1::/48")
                ),
            ]
        );
        // The new-IP flags are the report's to set (`ip_history`), for the reports that read them.
        assert!(attempts.iter().all(|a| a.new_ip_for_user.is_none()));
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

    /// A row of another service: id, correlation id, minute after 08:00, service, activity,
    /// target, initiating user and app.
    fn other_row(
        id: &str,
        corr: &str,
        minute: u32,
        (service, activity): (&str, &str),
        target: &str,
        (user, app): (Option<&str>, Option<&str>),
    ) -> Event {
        Event {
            id: id.into(),
            time: Some(Utc.with_ymd_and_hms(2026, 10, 1, 8, minute, 0).unwrap()),
            service: Some(service.into()),
            activity: Some(activity.into()),
            kind: ActivityKind::of(Some(activity)),
            result: Some("success".into()),
            correlation_id: Some(corr.into()),
            initiator_upn: user.map(Into::into),
            initiator_app: app.map(Into::into),
            target_upn: Some(target.into()),
            ..Event::default()
        }
    }

    const AUTH_METHODS: &str = "Authentication Methods";
    const CORE: &str = "Core Directory";

    #[test]
    fn a_started_reset_of_the_newer_experience_is_an_attempt_and_lends_its_client_type() {
        let mut started = other_row(
            "1",
            "n",
            0,
            (AUTH_METHODS, "user started password reset"),
            "ann@x",
            (Some("ann@x"), None),
        );
        started.client_type = Some("Logon".into());
        let admin_started = other_row(
            "2",
            "m",
            0,
            (AUTH_METHODS, "Admin started password reset"),
            "ann@x",
            (Some("admin@x"), None),
        );
        let change = other_row(
            "3",
            "p",
            0,
            (AUTH_METHODS, "User started password change"),
            "ann@x",
            (Some("ann@x"), None),
        );
        let attempts = build(&[started, admin_started, change]);
        let summary: Vec<_> = attempts
            .iter()
            .map(|a| {
                (
                    a.id.as_str(),
                    a.kind,
                    a.channel.as_str(),
                    a.completed,
                    a.furthest_step,
                    a.final_state,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [(
                "n",
                AttemptKind::Reset,
                "login_screen",
                false,
                Some(FunnelStep::Started),
                Some(FinalState::NoOutcome)
            )]
        );
    }

    #[test]
    fn directory_resets_of_other_tools_are_helpdesk_resets_once() {
        let reset = (CORE, "Reset user password");
        let portal = (
            "Self-service Password Management",
            "Reset password (by admin)",
        );
        let events = [
            // A portal reset of Ann and its echo two minutes later.
            other_row("p1", "x1", 0, portal, "ann@x", (Some("admin@x"), None)),
            other_row("e1", "x2", 2, reset, "ANN@x", (Some("admin@x"), None)),
            // A tool's resets: Bob's by an app, Ann's by a user twenty minutes after the portal's.
            other_row("t1", "x3", 5, reset, "bob@x", (None, Some("Helpdesk Tool"))),
            other_row("t2", "x4", 20, reset, "ann@x", (Some("helpdesk@x"), None)),
            // Side effects of self-service resets.
            other_row("s1", "x5", 7, reset, "cy@x", (Some(RESET_SERVICE), None)),
            other_row(
                "s2",
                "x6",
                7,
                reset,
                "cy@x",
                (None, Some("Microsoft password reset service")),
            ),
        ];
        let attempts = build(&events);
        let summary: Vec<_> = attempts
            .iter()
            .map(|a| {
                (
                    a.id.as_str(),
                    a.channel.as_str(),
                    a.completed,
                    a.admin_source.map(AdminSource::as_str),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("p1", "admin", true, Some("portal")),
                ("t1", "admin", true, Some("other_tools")),
                ("t2", "admin", true, Some("other_tools")),
            ]
        );
    }
}
