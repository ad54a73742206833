//! `--pseudonymize`: people and addresses replaced by keyed hashes before any table is built, so
//! every report and export (terminal, CSV, JSON, Parquet, Markdown, HTML, the user's own SQL)
//! shows pseudonyms only.
//!
//! A pseudonym is `HMAC-SHA256(key, kind ‖ 0x00 ‖ value)`, its first 10 bytes in hex, behind a
//! prefix naming the kind (`user-…`, `ip-…`, `net-…`, `detail-…`). The same value under the same
//! key always gives the same pseudonym, so reports of different runs still join; without the key
//! nobody can test a guess. Replaced: user principal names and object ids (initiator and target,
//! and each attempt's user), IP addresses, their networks unless kept, and the values of
//! `additionalDetails` keys not known to be harmless. Kept: correlation and record ids, client
//! types, user agents, activities, results, times.

use std::collections::HashMap;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use polars::prelude::{DataFrame, IntoColumn, PolarsResult, StringChunked};
use sha2::Sha256;

use crate::columns::attempt_columns;
use crate::model::{DetailKey, Event};

/// The shortest key accepted, in bytes: a key anyone could guess would make pseudonyms reversible
/// by trying every user of the directory.
pub const MIN_KEY_BYTES: usize = 16;

/// How many bytes of the HMAC a pseudonym shows: 80 bits, so two of a million values collide
/// with a chance of about one in 2·10¹².
const PSEUDONYM_BYTES: usize = 10;

/// `additionalDetails` keys (compared as [`DetailKey::same_key`] does) whose values describe
/// the system, never a person; every other value is pseudonymised.
const HARMLESS_DETAIL_KEYS: [&str; 3] =
    ["onpremisesagent", "methodsused", "methodsusedforvalidation"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Ip,
    Network,
    Detail,
}

const KINDS: usize = 4;

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Ip => "ip",
            Kind::Network => "net",
            Kind::Detail => "detail",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the pseudonym key is {0} bytes; it must have at least {MIN_KEY_BYTES} (for example `openssl rand -hex 32`)"
    )]
    TooShort(usize),
}

/// Replaces people and addresses with keyed pseudonyms.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
    keep_networks: bool,
    /// Pseudonyms already computed, per kind (indexed by `Kind as usize`).
    memo: [HashMap<String, String>; KINDS],
}

impl fmt::Debug for Pseudonymizer {
    /// Never shows the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("key", &"<redacted>")
            .field("keep_networks", &self.keep_networks)
            .finish()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer keyed by `key`; `keep_networks` leaves the /24 and /48 networks readable
    /// for the subnet reports while the addresses themselves are replaced.
    pub fn new(key: &[u8], keep_networks: bool) -> Result<Self, KeyError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(key.len()));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
        Ok(Pseudonymizer {
            mac,
            keep_networks,
            memo: Default::default(),
        })
    }

    /// Replaces the people and addresses of events and of an `attempts` table in place.
    pub fn apply(&mut self, events: &mut [Event], attempts: &mut DataFrame) -> PolarsResult<()> {
        for event in events {
            for field in [
                &mut event.initiator_upn,
                &mut event.initiator_id,
                &mut event.target_upn,
                &mut event.target_id,
            ] {
                self.replace(Kind::User, field);
            }
            self.replace(Kind::Ip, &mut event.ip_address);
            for (key, value) in &mut event.details {
                if !HARMLESS_DETAIL_KEYS
                    .iter()
                    .any(|harmless| DetailKey::same_key(key, harmless))
                {
                    *value = self.pseudonym(Kind::Detail, value);
                }
            }
        }
        let mut columns = vec![
            (attempt_columns::USER, Kind::User),
            (attempt_columns::IP_ADDRESS, Kind::Ip),
        ];
        if !self.keep_networks {
            columns.push((attempt_columns::IP_NETWORK, Kind::Network));
        }
        for (name, kind) in columns {
            let replaced: StringChunked = attempts
                .column(name)?
                .str()?
                .iter()
                .map(|value| value.map(|value| self.pseudonym(kind, value)))
                .collect();
            attempts.with_column(replaced.with_name(name.into()).into_column())?;
        }
        Ok(())
    }

    fn replace(&mut self, kind: Kind, field: &mut Option<String>) {
        if let Some(value) = field {
            *value = self.pseudonym(kind, value);
        }
    }

    /// The pseudonym of one value (computed once per distinct value).
    fn pseudonym(&mut self, kind: Kind, value: &str) -> String {
        if let Some(known) = self.memo[kind as usize].get(value) {
            return known.clone();
        }
        let mut mac = self.mac.clone();
        mac.update(kind.label().as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut pseudonym = format!("{}-", kind.label());
        for byte in &digest[..PSEUDONYM_BYTES] {
            pseudonym.push_str(&format!("{byte:02x}"));
        }
        self.memo[kind as usize].insert(value.to_owned(), pseudonym.clone());
        pseudonym
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::attempts_from_frame;
    use crate::model::ActivityKind;
    use crate::transformer::attempts::build_attempts;
    use crate::transformer::rules::ChannelRules;

    const KEY: &[u8] = b"0123456789abcdef-test-key";

    /// RFC 4231 test case 2 ("Jefe"), through the same code path, proves the HMAC construction
    /// is the standard one: the key is short, so the check uses the MAC directly.
    #[test]
    fn the_mac_is_standard_hmac_sha256() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// The pseudonym is the documented construction, recomputed here by hand.
    #[test]
    fn a_pseudonym_is_the_truncated_hmac_of_kind_and_value() {
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
        mac.update(b"user\0ann@contoso.example");
        let expected: String = mac.finalize().into_bytes()[..10]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut pseudonyms = Pseudonymizer::new(KEY, false).unwrap();
        assert_eq!(
            pseudonyms.pseudonym(Kind::User, "ann@contoso.example"),
            format!("user-{expected}")
        );
    }

    #[test]
    fn same_key_same_pseudonym_other_key_other_pseudonym() {
        let mut first = Pseudonymizer::new(KEY, false).unwrap();
        let mut again = Pseudonymizer::new(KEY, false).unwrap();
        let mut other = Pseudonymizer::new(b"another key of 16+ bytes", false).unwrap();
        let ann = first.pseudonym(Kind::User, "ann@contoso.example");
        assert_eq!(ann, again.pseudonym(Kind::User, "ann@contoso.example"));
        assert_ne!(ann, other.pseudonym(Kind::User, "ann@contoso.example"));
        assert_ne!(ann, first.pseudonym(Kind::User, "bob@contoso.example"));
        // The kind is part of the hash: an address and a user of the same text differ.
        assert_ne!(
            first.pseudonym(Kind::Ip, "x")[3..],
            first.pseudonym(Kind::User, "x")[5..]
        );
    }

    #[test]
    fn short_keys_are_refused_and_debug_never_shows_the_key() {
        assert!(matches!(
            Pseudonymizer::new(b"short", false),
            Err(KeyError::TooShort(5))
        ));
        let pseudonyms = Pseudonymizer::new(KEY, true).unwrap();
        let debug = format!("{pseudonyms:?}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        assert!(debug.contains("redacted"));
    }

    /// One self-service reset row of Ann's, from 198.51.100.7.
    fn anns_reset() -> Event {
        let activity = "Reset password (self-service)";
        Event {
            id: "rec-1".into(),
            correlation_id: Some("corr-1".into()),
            activity: Some(activity.into()),
            kind: ActivityKind::of(Some(activity)),
            result: Some("success".into()),
            initiator_upn: Some("ann@contoso.example".into()),
            initiator_id: Some("11111111-1111-1111-1111-111111111111".into()),
            target_upn: Some("ann@contoso.example".into()),
            target_id: Some("11111111-1111-1111-1111-111111111111".into()),
            ip_address: Some("198.51.100.7".into()),
            client_type: Some("LoginScreen".into()),
            user_agent: Some("Mozilla/5.0".into()),
            details: vec![
                ("OnPremisesAgent".into(), "CloudSync".into()),
                ("Reset by".into(), "Bob Helpdesk".into()),
            ],
            ..Event::default()
        }
    }

    #[test]
    fn people_and_addresses_are_replaced_everything_else_kept() {
        let mut events = vec![anns_reset()];
        let mut table = build_attempts(&events, &ChannelRules::builtin()).unwrap();
        let attempts = attempts_from_frame(&table).unwrap();
        assert_eq!(attempts[0].user.as_deref(), Some("ann@contoso.example"));
        Pseudonymizer::new(KEY, true)
            .unwrap()
            .apply(&mut events, &mut table)
            .unwrap();
        let attempts = attempts_from_frame(&table).unwrap();
        let event = &events[0];
        let user = event.initiator_upn.clone().unwrap();
        assert!(user.starts_with("user-") && user.len() == 25, "{user}");
        assert_eq!(event.target_upn.as_ref(), Some(&user));
        assert_eq!(
            attempts[0].user.as_ref(),
            Some(&user),
            "the same user joins"
        );
        assert_eq!(event.initiator_id, event.target_id);
        assert_ne!(event.initiator_id.as_ref(), Some(&user));
        let ip = event.ip_address.clone().unwrap();
        assert!(ip.starts_with("ip-"), "{ip}");
        assert_eq!(attempts[0].ip_address.as_ref(), Some(&ip));
        assert_eq!(attempts[0].ip_network.as_deref(), Some("198.51.100.0/24"));
        assert_eq!(event.details[0].1, "CloudSync");
        assert!(event.details[1].1.starts_with("detail-"));
        assert_eq!(event.id, "rec-1");
        assert_eq!(event.correlation_id.as_deref(), Some("corr-1"));
        assert_eq!(event.client_type.as_deref(), Some("LoginScreen"));
        assert_eq!(attempts[0].id, "corr-1");
    }

    #[test]
    fn networks_are_replaced_unless_kept() {
        let events = vec![anns_reset()];
        let mut table = build_attempts(&events, &ChannelRules::builtin()).unwrap();
        Pseudonymizer::new(KEY, false)
            .unwrap()
            .apply(&mut [], &mut table)
            .unwrap();
        let attempts = attempts_from_frame(&table).unwrap();
        let network = attempts[0].ip_network.as_deref().unwrap();
        assert!(network.starts_with("net-"), "{network}");
    }
}
