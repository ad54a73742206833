//! What a builder knows of one correlation id ([`Group`]), grown one row at a time or from a
//! stored [`AttemptPart`], and the attempt it makes ([`attempt_of`]).
//!
//! Every value is the earliest non-empty one by [`RowOrder`], and every other piece of state
//! (flags, first and last time, the funnel) ignores a row seen twice; only the row count needs
//! to know the rows, so a group keeps their keys (see [`RowKeys`]) and two groups of the same
//! correlation id merge into what one group of all their rows would be.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::BuildHasher;

use chrono::{DateTime, Utc};
use foldhash::fast::{FixedState, RandomState};

use super::super::funnel::FunnelTracker;
use super::super::network::{Network, parse_address};
use super::super::rules::Classifier;
use super::arena::{Text, Texts};
use crate::model::{
    ADMIN_CHANNEL, ActivityKind, AdminSource, Attempt, AttemptKind, AttemptPart, AttemptView,
    EventView, RowOrder,
};

/// The flow step that marks a completed reset.
const RESET_SUCCEEDED_STEP: &str = "User successfully reset password";

/// The tie of [`RowOrder`]: XXH3 (64 bits) of the record id. The store keeps ties, so this is a
/// hash with a fixed specification, the same in every version and on every machine.
pub(super) fn tie_of(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// A row's place among the rows of its correlation id.
pub(super) fn row_order(event: &EventView<'_>) -> RowOrder {
    RowOrder {
        time: event.time,
        tie: tie_of(&event.id),
    }
}

/// The value of the earliest row that has one.
struct Earliest {
    best: Option<(RowOrder, Text)>,
}

impl Earliest {
    fn none() -> Self {
        Earliest { best: None }
    }

    fn is_before(&self, order: &RowOrder) -> bool {
        self.best.as_ref().is_none_or(|(best, _)| order < best)
    }

    /// Keeps `value` (lowercased if `lowercase`) if it comes from a row earlier than the one
    /// kept. The rows of an attempt mostly repeat one value: an equal value only moves the
    /// order, and is not written again.
    fn offer(&mut self, order: RowOrder, value: &str, lowercase: bool, texts: &mut Texts) {
        if !self.is_before(&order) {
            return;
        }
        if let Some((kept_order, kept)) = &mut self.best
            && is_same(texts.get(*kept), value, lowercase)
        {
            *kept_order = order;
            return;
        }
        let value = if lowercase {
            texts.push_lowercase(value)
        } else {
            texts.push(value)
        };
        self.best = Some((order, value));
    }

    fn get<'t>(&self, texts: &'t Texts) -> Option<(RowOrder, &'t str)> {
        self.best.map(|(order, value)| (order, texts.get(value)))
    }

    /// Moves the value into other texts.
    fn relocate(&mut self, from: &Texts, to: &mut Texts) {
        if let Some((_, value)) = &mut self.best {
            *value = to.push(from.get(*value));
        }
    }
}

/// The keys of rows added one at a time: a few in place (almost always), a short list, or a set
/// once it grows long. A key is a hash of the record id whose top bit says whether the row has
/// no time, so the copies of a record share it.
enum RowKeys {
    /// In the group itself: no allocation, and no other memory to fetch to add a row.
    Inline {
        len: u8,
        keys: [u64; RowKeys::INLINE],
    },
    Few(Vec<u64>),
    // Boxed: most groups have a few keys, and the set would make every group larger.
    #[allow(clippy::box_collection)]
    Many(Box<HashSet<u64, FixedState>>),
}

impl RowKeys {
    /// The most keys kept in place.
    const INLINE: usize = 6;
    /// The longest list searched one key at a time.
    const FEW: usize = 32;

    fn new() -> Self {
        RowKeys::Inline {
            len: 0,
            keys: [0; Self::INLINE],
        }
    }

    /// Adds a key; `false` if it was there already.
    fn insert(&mut self, key: u64) -> bool {
        match self {
            RowKeys::Inline { len, keys } => {
                let held = &keys[..usize::from(*len)];
                if held.contains(&key) {
                    return false;
                }
                if held.len() < Self::INLINE {
                    keys[held.len()] = key;
                    *len += 1;
                } else {
                    let mut list = Vec::with_capacity(Self::FEW);
                    list.extend_from_slice(held);
                    list.push(key);
                    *self = RowKeys::Few(list);
                }
                true
            }
            RowKeys::Few(keys) if keys.contains(&key) => false,
            RowKeys::Few(keys) if keys.len() < Self::FEW => {
                keys.push(key);
                true
            }
            RowKeys::Few(keys) => {
                let mut set: HashSet<u64, FixedState> = keys.drain(..).collect();
                set.insert(key);
                *self = RowKeys::Many(Box::new(set));
                true
            }
            RowKeys::Many(set) => set.insert(key),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            RowKeys::Inline { len, keys } => Box::new(keys[..usize::from(*len)].iter().copied()),
            RowKeys::Few(keys) => Box::new(keys.iter().copied()),
            RowKeys::Many(set) => Box::new(set.iter().copied()),
        }
    }

    fn len(&self) -> usize {
        match self {
            RowKeys::Inline { len, .. } => usize::from(*len),
            RowKeys::Few(keys) => keys.len(),
            RowKeys::Many(set) => set.len(),
        }
    }
}

/// The key of a row (see [`RowKeys`]), hashed with `seed`.
pub(super) fn row_key(seed: &FixedState, event: &EventView<'_>) -> u64 {
    seed.hash_one(event.id.as_ref()) >> 1 | u64::from(event.time.is_none()) << 63
}

/// Whether a row key is of a row without a time.
pub(super) fn is_untimed(key: u64) -> bool {
    key >> 63 == 1
}

/// A correlation id as groups compare it: the canonical GUID Entra writes (lowercase, 36
/// characters) packed into 128 bits (as two words: a group needs no 16-byte alignment), or any other text, compared as text. Two ids are equal
/// exactly when their keys are equal and, for other texts, their texts too; a group's key is
/// in the group itself, so finding a GUID's group reads no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdKey {
    Guid([u64; 2]),
    Other,
}

impl IdKey {
    pub(super) fn of(id: &str) -> IdKey {
        let bytes = id.as_bytes();
        if bytes.len() != 36 {
            return IdKey::Other;
        }
        let mut packed = 0u128;
        for (at, &byte) in bytes.iter().enumerate() {
            let nibble = match (matches!(at, 8 | 13 | 18 | 23), byte) {
                (true, b'-') => continue,
                (false, b'0'..=b'9') => byte - b'0',
                (false, b'a'..=b'f') => byte - b'a' + 10,
                _ => return IdKey::Other,
            };
            packed = packed << 4 | u128::from(nibble);
        }
        IdKey::Guid([(packed >> 64) as u64, packed as u64])
    }
}

/// Everything known about one correlation id; its texts are in its partition's [`Texts`].
pub(super) struct Group {
    pub(super) id_key: IdKey,
    pub(super) correlation_id: Text,
    /// The hash that placed the group in its partition.
    pub(super) hash: u64,
    keys: RowKeys,
    /// Rows taken in by number, from stored parts (whose records the store holds once).
    counted_rows: u32,
    has_reset_row: bool,
    has_unlock_row: bool,
    reset_completed: bool,
    unlock_completed: bool,
    reset_row_succeeded: Option<DateTime<Utc>>,
    flow_succeeded: Option<DateTime<Utc>>,
    started: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    client_type: Earliest,
    user_agent: Earliest,
    user: Earliest,
    /// As found (trimmed); canonical only in the attempt.
    ip_address: Earliest,
    funnel: FunnelTracker<RowOrder>,
}

impl Group {
    pub(super) fn new(correlation_id: &str, hash: u64, texts: &mut Texts) -> Self {
        Group {
            id_key: IdKey::of(correlation_id),
            correlation_id: texts.push(correlation_id),
            hash,
            keys: RowKeys::new(),
            counted_rows: 0,
            has_reset_row: false,
            has_unlock_row: false,
            reset_completed: false,
            unlock_completed: false,
            reset_row_succeeded: None,
            flow_succeeded: None,
            started: None,
            ended: None,
            client_type: Earliest::none(),
            user_agent: Earliest::none(),
            user: Earliest::none(),
            ip_address: Earliest::none(),
            funnel: FunnelTracker::default(),
        }
    }

    /// A group of a stored part.
    pub(super) fn from_part(part: &AttemptPart<'_>, hash: u64, texts: &mut Texts) -> Self {
        let mut group = Group::new(part.key, hash, texts);
        group.take_part(part, texts);
        group
    }

    /// The keys of the rows added one at a time.
    pub(super) fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter()
    }

    /// Takes in one row with its key; `false` (and nothing changes) for a row seen before.
    pub(super) fn add(&mut self, event: &EventView<'_>, key: u64, texts: &mut Texts) -> bool {
        if !self.keys.insert(key) {
            return false;
        }
        match event.kind {
            ActivityKind::ResetStarted => self.has_reset_row = true,
            ActivityKind::FlowProgress => {
                self.has_reset_row = true;
                if is_reset_succeeded_step(event.result_reason.as_deref()) {
                    self.reset_completed = true;
                    self.flow_succeeded = earliest(self.flow_succeeded, event.time);
                }
            }
            ActivityKind::SelfServiceReset => {
                self.has_reset_row = true;
                if is_success(event.result.as_deref()) {
                    self.reset_completed = true;
                    self.reset_row_succeeded = earliest(self.reset_row_succeeded, event.time);
                }
            }
            ActivityKind::SelfServiceUnlock => {
                self.has_unlock_row = true;
                self.unlock_completed |= is_success(event.result.as_deref());
            }
            ActivityKind::AdminReset | ActivityKind::DirectoryReset | ActivityKind::Other => {}
        }
        self.widen(event.time, event.time);
        let order = row_order(event);
        self.funnel.add(event, || order);
        // Values are copied only when this row is the earliest so far to have one.
        for (earliest, value) in [
            (&mut self.client_type, &event.client_type),
            (&mut self.user_agent, &event.user_agent),
            (&mut self.ip_address, &event.ip_address),
        ] {
            if let Some(value) = value.as_deref() {
                earliest.offer(order, value, false, texts);
            }
        }
        if let Some((user, lowercase)) = user_of(event) {
            self.user.offer(order, user, lowercase, texts);
        }
        true
    }

    /// Takes in what another builder saw of the same correlation id (its texts in
    /// `their_texts`); rows both saw count once.
    pub(super) fn merge(&mut self, other: &Group, their_texts: &Texts, texts: &mut Texts) {
        for key in other.keys() {
            self.keys.insert(key);
        }
        let counted_rows = self.counted_rows + other.counted_rows;
        self.take_part(&other.part(their_texts), texts);
        // The other's rows with keys are among `keys` now, not counted.
        self.counted_rows = counted_rows;
    }

    /// Takes in a part of the same correlation id made of other rows.
    pub(super) fn take_part(&mut self, part: &AttemptPart<'_>, texts: &mut Texts) {
        self.counted_rows += part.rows;
        self.has_reset_row |= part.has_reset_row;
        self.has_unlock_row |= part.has_unlock_row;
        self.reset_completed |= part.reset_completed;
        self.unlock_completed |= part.unlock_completed;
        self.reset_row_succeeded = earliest(self.reset_row_succeeded, part.reset_row_succeeded);
        self.flow_succeeded = earliest(self.flow_succeeded, part.flow_succeeded);
        self.widen(part.started, part.ended);
        for (mine, theirs) in [
            (&mut self.client_type, part.client_type),
            (&mut self.user_agent, part.user_agent),
            (&mut self.user, part.user),
            (&mut self.ip_address, part.ip_address),
        ] {
            if let Some((order, value)) = theirs {
                mine.offer(order, value, false, texts);
            }
        }
        self.funnel.merge(FunnelTracker {
            furthest: part.furthest_step,
            last_ending: part.last_ending,
            unrecognised_failure: part.unrecognised_failure,
        });
    }

    /// Moves the group's texts into other texts (the group moves to another partition).
    pub(super) fn relocate(&mut self, from: &Texts, to: &mut Texts) {
        self.correlation_id = to.push(from.get(self.correlation_id));
        for value in [
            &mut self.client_type,
            &mut self.user_agent,
            &mut self.user,
            &mut self.ip_address,
        ] {
            value.relocate(from, to);
        }
    }

    fn widen(&mut self, started: Option<DateTime<Utc>>, ended: Option<DateTime<Utc>>) {
        let earlier = earliest;
        let later = |a: Option<DateTime<Utc>>, b| match (a, b) {
            (Some(a), Some(b)) => Some(std::cmp::max(a, b)),
            (a, b) => a.or(b),
        };
        self.started = earlier(self.started, started);
        self.ended = later(self.ended, ended);
    }

    /// What kind of attempt the correlation id is, if it is one.
    pub(super) fn kind(&self) -> Option<AttemptKind> {
        kind_of(self.has_reset_row, self.has_unlock_row)
    }

    /// The group's state, borrowed (its texts from `texts`).
    pub(super) fn part<'t>(&self, texts: &'t Texts) -> AttemptPart<'t> {
        AttemptPart {
            key: texts.get(self.correlation_id),
            admin: false,
            admin_source: None,
            initiator: None,
            rows: self.keys.len() as u32 + self.counted_rows,
            has_reset_row: self.has_reset_row,
            has_unlock_row: self.has_unlock_row,
            reset_completed: self.reset_completed,
            unlock_completed: self.unlock_completed,
            reset_row_succeeded: self.reset_row_succeeded,
            flow_succeeded: self.flow_succeeded,
            started: self.started,
            ended: self.ended,
            client_type: self.client_type.get(texts),
            user_agent: self.user_agent.get(texts),
            user: self.user.get(texts),
            ip_address: self.ip_address.get(texts),
            furthest_step: self.funnel.furthest,
            last_ending: self.funnel.last_ending,
            unrecognised_failure: self.funnel.unrecognised_failure,
        }
    }
}

/// The earlier of two times, either missing.
fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn kind_of(has_reset_row: bool, has_unlock_row: bool) -> Option<AttemptKind> {
    if has_unlock_row {
        Some(AttemptKind::Unlock)
    } else if has_reset_row {
        Some(AttemptKind::Reset)
    } else {
        None
    }
}

/// The attempt of a correlation id's part; `None` when its rows make no attempt. (A helpdesk
/// reset's part makes its attempt with [`admin_attempt_of_part`].)
pub(super) fn attempt_of<'a, 'r: 'a>(
    part: &AttemptPart<'a>,
    classifier: &mut Classifier<'r>,
    addresses: &'a mut AddressTexts,
) -> Option<AttemptView<'a>> {
    let value = |earliest: Option<(RowOrder, &'a str)>| earliest.map(|(_, value)| value);
    let (client_type, user_agent) = (value(part.client_type), value(part.user_agent));
    let (ip_address, ip_network) = addresses.of(value(part.ip_address));
    let kind = kind_of(part.has_reset_row, part.has_unlock_row)?;
    let completed = match kind {
        AttemptKind::Unlock => part.unlock_completed,
        AttemptKind::Reset | AttemptKind::Admin => part.reset_completed,
    };
    let funnel = FunnelTracker {
        furthest: part.furthest_step,
        last_ending: part.last_ending,
        unrecognised_failure: part.unrecognised_failure,
    };
    let (furthest_step, final_state) = funnel.finish(completed);
    Some(AttemptView {
        id: part.key,
        kind,
        channel: classifier.classify(client_type, user_agent),
        client_type,
        user_agent,
        completed,
        started: part.started,
        ended: part.ended,
        user: value(part.user),
        ip_address,
        rows: part.rows,
        furthest_step: Some(furthest_step),
        final_state: Some(final_state),
        ip_network,
        completed_at: match kind {
            AttemptKind::Reset if completed => part.reset_row_succeeded.or(part.flow_succeeded),
            _ => None,
        },
        admin_source: None,
    })
}

/// The helpdesk reset of one `Reset password (by admin)` row or Core Directory `Reset user
/// password` row (which [`crate::transformer::helpdesk::settle`] may drop).
pub(super) fn admin_attempt(event: &EventView<'_>, source: AdminSource) -> Attempt {
    let order = row_order(event);
    let user = user_of(event).map(|(user, lowercase)| {
        if lowercase {
            user.to_lowercase()
        } else {
            user.to_owned()
        }
    });
    fn valued<'v>(order: RowOrder, value: &'v Option<Cow<'_, str>>) -> Option<(RowOrder, &'v str)> {
        value.as_deref().map(|value| (order, value))
    }
    admin_attempt_of_part(&AttemptPart {
        key: &event.id,
        admin: true,
        admin_source: Some(source),
        initiator: event
            .initiator_app
            .as_deref()
            .or(event.initiator_upn.as_deref()),
        rows: 1,
        has_reset_row: false,
        has_unlock_row: false,
        reset_completed: is_success(event.result.as_deref()),
        unlock_completed: false,
        reset_row_succeeded: None,
        flow_succeeded: None,
        started: event.time,
        ended: event.time,
        client_type: valued(order, &event.client_type),
        user_agent: valued(order, &event.user_agent),
        user: user.as_deref().map(|user| (order, user)),
        ip_address: valued(order, &event.ip_address),
        furthest_step: None,
        last_ending: None,
        unrecognised_failure: false,
    })
}

/// The helpdesk reset of a part.
pub(super) fn admin_attempt_of_part(part: &AttemptPart<'_>) -> Attempt {
    let owned = |value: Option<(RowOrder, &str)>| value.map(|(_, value)| value.to_owned());
    let mut addresses = AddressTexts::default();
    let (ip_address, ip_network) = addresses.of(part.ip_address.map(|(_, value)| value));
    Attempt {
        id: part.key.to_owned(),
        kind: AttemptKind::Admin,
        channel: ADMIN_CHANNEL.to_owned(),
        client_type: owned(part.client_type),
        user_agent: owned(part.user_agent),
        completed: part.reset_completed,
        started: part.started,
        ended: part.ended,
        user: owned(part.user),
        ip_address: ip_address.map(str::to_owned),
        ip_network: ip_network.map(str::to_owned),
        rows: part.rows,
        furthest_step: None,
        final_state: None,
        new_ip_for_user: None,
        local: None,
        completed_at: part.started.filter(|_| part.reset_completed),
        admin_source: part.admin_source,
        initiator: part.initiator.map(str::to_owned),
    }
}

/// A helpdesk reset as a part: keyed by its record id, its values of its one row.
pub(super) fn admin_part(attempt: &Attempt) -> AttemptPart<'_> {
    let order = RowOrder {
        time: attempt.started,
        tie: tie_of(&attempt.id),
    };
    fn valued(order: RowOrder, value: &Option<String>) -> Option<(RowOrder, &str)> {
        value.as_deref().map(|value| (order, value))
    }
    AttemptPart {
        key: &attempt.id,
        admin: true,
        admin_source: attempt.admin_source,
        initiator: attempt.initiator.as_deref(),
        rows: 1,
        has_reset_row: false,
        has_unlock_row: false,
        reset_completed: attempt.completed,
        unlock_completed: false,
        reset_row_succeeded: None,
        flow_succeeded: None,
        started: attempt.started,
        ended: attempt.ended,
        client_type: valued(order, &attempt.client_type),
        user_agent: valued(order, &attempt.user_agent),
        user: valued(order, &attempt.user),
        ip_address: valued(order, &attempt.ip_address),
        furthest_step: None,
        last_ending: None,
        unrecognised_failure: false,
    }
}

/// An address seen before: its canonical text, and its network's if it has one.
type KnownAddress = (Box<str>, Option<Box<str>>);

/// The texts of attempts' IP addresses in canonical form and of their networks. Attempts share
/// addresses, so the texts of those seen are remembered (up to a bound, so hostile input cannot
/// grow the memory without limit); others are written into buffers serving one after another.
#[derive(Default)]
pub(super) struct AddressTexts {
    known: HashMap<Box<str>, KnownAddress, RandomState>,
    address: String,
    network: String,
}

impl AddressTexts {
    /// Addresses remembered at most.
    const REMEMBERED: usize = 1 << 16;

    /// The canonical form of an address as found (text that is no address stays as found,
    /// trimmed, without a network) and its network.
    pub(super) fn of(&mut self, found: Option<&str>) -> (Option<&str>, Option<&str>) {
        let Some(found) = found else {
            return (None, None);
        };
        if !self.known.contains_key(found) {
            let has_network = self.write(found);
            if self.known.len() >= Self::REMEMBERED {
                return (Some(&self.address), has_network.then_some(&*self.network));
            }
            let network = has_network.then(|| self.network.as_str().into());
            self.known
                .insert(found.into(), (self.address.as_str().into(), network));
        }
        let (address, network) = &self.known[found];
        (Some(address), network.as_deref())
    }

    /// Writes the texts of `found` into the buffers; `false` when it has no network.
    fn write(&mut self, found: &str) -> bool {
        self.address.clear();
        self.network.clear();
        let Some(address) = parse_address(found) else {
            self.address.push_str(found.trim());
            return false;
        };
        // Writing into a String cannot fail.
        let _ = write!(self.address, "{address}");
        let _ = write!(self.network, "{}", Network(address));
        true
    }
}

/// Whether a kept text is `value` as it would be kept (lowercased if `lowercase`; only ASCII is
/// lowercased here, so other text is never taken for the same).
fn is_same(kept: &str, value: &str, lowercase: bool) -> bool {
    if lowercase {
        value.is_ascii()
            && kept.len() == value.len()
            && kept
                .bytes()
                .zip(value.bytes())
                .all(|(kept, byte)| kept == byte.to_ascii_lowercase())
    } else {
        kept == value
    }
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

/// The user an event is about: target UPN (lowercased), target id, initiator UPN (lowercased),
/// initiator id; with whether it is to be lowercased.
fn user_of<'e>(event: &'e EventView<'_>) -> Option<(&'e str, bool)> {
    let upn = |field: &'e Option<Cow<'_, str>>| field.as_deref().map(|upn| (upn, true));
    let id = |field: &'e Option<Cow<'_, str>>| field.as_deref().map(|id| (id, false));
    upn(&event.target_upn)
        .or_else(|| id(&event.target_id))
        .or_else(|| upn(&event.initiator_upn))
        .or_else(|| id(&event.initiator_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_guids_are_packed_and_packing_keeps_them_apart() {
        let guid = "7c6f02ce-006a-4066-9034-2b90d780686f";
        assert!(matches!(IdKey::of(guid), IdKey::Guid(_)));
        assert_ne!(
            IdKey::of(guid),
            IdKey::of("7c6f02ce-006a-4066-9034-2b90d780686e")
        );
        assert_ne!(
            IdKey::of(guid),
            IdKey::of("7c6f02ce-006a-4066-9034-2b90d78068f6")
        );
        for other in [
            "7C6F02CE-006A-4066-9034-2B90D780686F",
            "7c6f02ce0006a-4066-9034-2b90d780686f",
            "7c6f02ce-006a-4066-9034-2b90d780686",
            "{7c6f02ce-006a-4066-9034-2b90d780686}",
            "7c6f02ce-006a-4066-9034-2b90d780686g",
            "",
        ] {
            assert_eq!(IdKey::of(other), IdKey::Other, "{other}");
        }
    }

    /// Ties are stored: they must be XXH3 as specified. The expected values are the
    /// specification's test vector for the empty input and Python's `xxhash` package
    /// (`xxh3_64_intdigest`) for a record id.
    #[test]
    fn ties_are_xxh3_of_the_record_id() {
        assert_eq!(tie_of(""), 0x2d06_8005_38d3_94c2);
        assert_eq!(
            tie_of("SSPR_638d317c3d9a4ae8ba8ffe6db5b07d88_ZXO8F_2"),
            0x4826_fc4a_5bf6_e06c
        );
    }
}
