//! Finding where the plain content of a JSON string stops: at the first quote, backslash or
//! control character. The lean decoder spends most of its time here, so it reads 16 bytes at a
//! time with SSE2 on x86_64 (part of the architecture's baseline, so no runtime check), and 8
//! at a time elsewhere and for the last bytes.

/// The number of bytes before the first quote, backslash or control character of `bytes`;
/// `None` when it holds none.
pub fn plain_len(bytes: &[u8]) -> Option<usize> {
    // SAFETY: SSE2 is part of every x86_64 CPU (the target's baseline features), so calling a
    // function compiled for it is always sound; it takes no pointers.
    #[cfg(target_arch = "x86_64")]
    let skipped = match unsafe { sse2_plain_len(bytes) } {
        Ok(len) => return Some(len),
        Err(skipped) => skipped,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let skipped = 0;
    swar_plain_len(&bytes[skipped..]).map(|len| skipped + len)
}

/// `Ok(len)` as [`plain_len`], or `Err(skipped)`: the first `skipped` bytes (whole 16-byte
/// blocks) are plain and the rest is shorter than a block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn sse2_plain_len(bytes: &[u8]) -> Result<usize, usize> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8,
    };
    let half = |bytes: &[u8]| i64::from_le_bytes(bytes.try_into().expect("eight bytes"));
    let mut blocks = bytes.chunks_exact(16);
    let mut offset = 0;
    for block in &mut blocks {
        let (low, high) = block.split_at(8);
        let block = _mm_set_epi64x(half(high), half(low));
        let quote = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\\' as i8));
        // A byte is a control character when it is its own minimum with 0x1f.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(block, _mm_set1_epi8(0x1f)), block);
        let stops = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control));
        if stops != 0 {
            return Ok(offset + stops.trailing_zeros() as usize);
        }
        offset += 16;
    }
    Err(offset)
}

/// [`plain_len`] eight bytes at a time (SWAR): a byte is flagged when it equals `"` or `\` or is
/// below 0x20; a borrow can only flag bytes above the first true one, so the lowest flag is
/// exact.
fn swar_plain_len(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    let is_zero = |word: u64| word.wrapping_sub(ONES) & !word;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let flags = (is_zero(word ^ (ONES * u64::from(b'"')))
            | is_zero(word ^ (ONES * u64::from(b'\\')))
            | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGHS;
        if flags != 0 {
            return Some(offset + flags.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let stop = chunks.remainder().iter().position(|&b| is_stop(b))?;
    Some(offset + stop)
}

fn is_stop(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stop_at_every_position_is_found_first() {
        let fillers = [
            b'a', b' ', 0x7f, 0x80, 0xc3, 0xff, b'/', b'!', b'#', b'[', b']',
        ];
        let stops = [b'"', b'\\', 0x00, 0x09, 0x0a, 0x1f];
        for len in 0..40 {
            for filler in fillers {
                let plain = vec![filler; len];
                assert_eq!(plain_len(&plain), None);
                assert_eq!(swar_plain_len(&plain), None);
                for at in 0..len {
                    for stop in stops {
                        let mut bytes = plain.clone();
                        bytes[at] = stop;
                        // A second stop after the first must not hide it.
                        if at + 1 < len {
                            bytes[len - 1] = b'"';
                        }
                        let want = bytes.iter().position(|&b| is_stop(b));
                        assert_eq!(plain_len(&bytes), want, "{bytes:?}");
                        assert_eq!(swar_plain_len(&bytes), want, "{bytes:?}");
                    }
                }
            }
        }
    }
}
