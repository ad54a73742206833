//! Randomness of two kinds: a seeded generator for what a test must be able to replay (which
//! requests fail, and how), and an unpredictable source for what a client must not guess
//! (access tokens, the skiptoken key, request and trace ids).

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// SplitMix64: tiny, and the same sequence for the same seed on every platform and version.
pub(super) struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..bound`; `bound` must not be 0.
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }
}

/// Unpredictable bytes: SHA-256 of a secret key and a counter. The key is 128 bits drawn by the
/// standard library from the operating system's random source (the SipHash keys of
/// `RandomState`), so no extra dependency is needed and nothing derives from the seed or clock.
pub(super) struct SecretSource {
    key: [u8; 32],
    counter: AtomicU64,
}

impl SecretSource {
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        for (index, chunk) in key.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&RandomState::new().hash_one(index).to_le_bytes());
        }
        SecretSource {
            key,
            counter: AtomicU64::new(0),
        }
    }

    /// 32 fresh unpredictable bytes.
    pub fn bytes(&self) -> [u8; 32] {
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        self.keyed_digest(&count.to_le_bytes())
    }

    /// SHA-256 of the secret key and `data`: a tag only the holder of the key can compute.
    pub fn keyed_digest(&self, data: &[u8]) -> [u8; 32] {
        Sha256::new()
            .chain_update(self.key)
            .chain_update(data)
            .finalize()
            .into()
    }

    /// An opaque access token: 256 random bits, hex.
    pub fn token(&self) -> String {
        hex(&self.bytes())
    }

    /// A random (version 4) UUID in its usual text form, as Graph and Entra use for ids.
    pub fn uuid(&self) -> String {
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&self.bytes()[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let text = hex(&bytes);
        format!(
            "{}-{}-{}-{}-{}",
            &text[..8],
            &text[8..12],
            &text[12..16],
            &text[16..20],
            &text[20..]
        )
    }
}

/// Lowercase hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sequences_repeat_and_differ_by_seed() {
        let draw = |seed| {
            let mut rng = SeededRng::new(seed);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let mut rng = SeededRng::new(1);
        assert!(
            (0..1000)
                .map(|_| rng.next_unit())
                .all(|x| (0.0..1.0).contains(&x))
        );
    }

    #[test]
    fn secrets_differ_between_sources_and_calls() {
        let (a, b) = (SecretSource::new(), SecretSource::new());
        assert_ne!(a.token(), a.token());
        assert_ne!(a.token(), b.token());
        let uuid = a.uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
    }
}
