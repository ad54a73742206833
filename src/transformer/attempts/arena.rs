//! A partition's storage: its groups ([`Chunks`]) and their texts ([`Texts`]), each kept in
//! chunks of a fixed size. Growing adds a chunk and never moves what is stored, so nothing is
//! copied, and no memory is faulted in twice, as a partition fills up; a place once given out
//! stays valid.

/// Items in chunks of [`Chunks::CHUNK`], by their place in the order they came.
pub(super) struct Chunks<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks { chunks: Vec::new() }
    }
}

impl<T> Chunks<T> {
    /// Items per chunk.
    const CHUNK: usize = 512;

    pub(super) fn len(&self) -> usize {
        self.chunks
            .last()
            .map_or(0, |last| (self.chunks.len() - 1) * Self::CHUNK + last.len())
    }

    pub(super) fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
    }

    pub(super) fn get(&self, index: usize) -> &T {
        &self.chunks[index / Self::CHUNK][index % Self::CHUNK]
    }

    pub(super) fn get_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / Self::CHUNK][index % Self::CHUNK]
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> IntoIterator for Chunks<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

/// The texts of a partition's groups, one after another in chunks: a new group or value costs
/// no allocation of its own, and the partition frees them all at once. A replaced value stays
/// behind until then (a group replaces a value only when an earlier row brings one).
#[derive(Default)]
pub(super) struct Texts {
    /// Each [`Texts::CHUNK`] bytes long at most, but for a chunk holding one longer text, which
    /// is followed by empty chunks standing for the places it spans.
    chunks: Vec<String>,
}

/// Where a text is in its partition's [`Texts`]: its start counts [`Texts::CHUNK`] bytes for
/// every chunk before its own.
#[derive(Debug, Clone, Copy)]
pub(super) struct Text {
    start: usize,
    len: usize,
}

impl Texts {
    /// Bytes per chunk.
    const CHUNK: usize = 64 << 10;

    pub(super) fn push(&mut self, text: &str) -> Text {
        let chunk = self.room_for(text.len());
        let start = self.start(chunk);
        self.chunks[chunk].push_str(text);
        Text {
            start,
            len: text.len(),
        }
    }

    /// Pushes `text` lowercased.
    pub(super) fn push_lowercase(&mut self, text: &str) -> Text {
        if !text.is_ascii() {
            return self.push(&text.to_lowercase());
        }
        let chunk = self.room_for(text.len());
        let start = self.start(chunk);
        self.chunks[chunk].extend(
            text.bytes()
                .map(|byte| char::from(byte.to_ascii_lowercase())),
        );
        Text {
            start,
            len: text.len(),
        }
    }

    pub(super) fn get(&self, text: Text) -> &str {
        let offset = text.start % Self::CHUNK;
        &self.chunks[text.start / Self::CHUNK][offset..offset + text.len]
    }

    /// The chunk that takes `len` more bytes: the last, or a new one.
    fn room_for(&mut self, len: usize) -> usize {
        let fits = self
            .chunks
            .last()
            .is_some_and(|last| last.len() + len <= Self::CHUNK);
        if !fits {
            self.chunks
                .push(String::with_capacity(len.max(Self::CHUNK)));
            // A longer text spans the places of the chunks after its own.
            let spanned = len.saturating_sub(1) / Self::CHUNK;
            self.chunks
                .extend(std::iter::repeat_with(String::new).take(spanned));
            return self.chunks.len() - 1 - spanned;
        }
        self.chunks.len() - 1
    }

    /// Where the next text of `chunk` starts.
    fn start(&self, chunk: usize) -> usize {
        chunk * Self::CHUNK + self.chunks[chunk].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_of_every_size_read_back_as_pushed() {
        let mut texts = Texts::default();
        let sizes = [
            0,
            1,
            300,
            Texts::CHUNK - 1,
            Texts::CHUNK,
            7,
            3 * Texts::CHUNK + 5,
            2,
        ];
        let pushed: Vec<(String, Text)> = sizes
            .iter()
            .enumerate()
            .map(|(n, &size)| {
                let text: String = (0..size)
                    .map(|i| char::from(b'a' + ((n + i) % 26) as u8))
                    .collect();
                let place = texts.push(&text);
                (text, place)
            })
            .collect();
        let upper = texts.push_lowercase("ÅSA Dubois");
        for (text, place) in &pushed {
            assert_eq!(texts.get(*place), text);
        }
        assert_eq!(texts.get(upper), "åsa dubois");
    }

    #[test]
    fn chunks_keep_every_item_in_place() {
        let mut chunks = Chunks::default();
        let count = 3 * Chunks::<usize>::CHUNK + 17;
        for n in 0..count {
            chunks.push(n);
        }
        assert_eq!(chunks.len(), count);
        *chunks.get_mut(700) += count;
        assert_eq!(*chunks.get(700), 700 + count);
        assert!(
            chunks
                .iter()
                .enumerate()
                .all(|(n, &item)| n == item || n == 700)
        );
        assert_eq!(chunks.into_iter().count(), count);
    }
}
