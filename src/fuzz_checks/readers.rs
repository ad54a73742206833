//! Checks on the export readers: whole files (gzip or not, any JSON shape), the parallel reader
//! of line-delimited files against the sequential one, and the framer.

use std::io::{self, BufRead, Read, Write};

use crate::fetcher::files::{self, Item};
use crate::fetcher::framer::{Framer, Piece};
use crate::fetcher::parallel::{Sink, read_file_parallel};
use crate::fetcher::record;
use crate::model::RecordView;

/// Reads `data` as an export file, as `ssprlens` reads one from disk. Every record handed out
/// decodes again from its own verbatim bytes to the same record and has an id; records come in
/// file order. (Rejects may not: one for a truncated Graph page names the page's first line.)
pub fn read_export(data: &[u8]) {
    let input = files::decompressed(data).expect("a byte slice reads without error");
    let mut last_line = 0;
    files::read_stream(input, &mut |item| {
        if let Item::Record {
            record,
            line,
            bytes,
        } = item
        {
            assert_eq!(
                record::decode(bytes).as_ref(),
                Ok(&record),
                "a record's verbatim bytes decode to another record"
            );
            assert!(
                record.id.as_deref().is_some_and(|id| !id.trim().is_empty()),
                "a record without id: {record:?}"
            );
            assert!(line >= last_line, "line {line} after line {last_line}");
            last_line = line;
        }
    });
}

/// Read from a file, the parallel reader finds the records the sequential reader finds (same
/// ids, same lines) and rejects the same lines (the parallel reader hands them out in no order).
pub fn parallel_matches_sequential(data: &[u8]) {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(data).expect("writing a temporary file");
    let mut sequential = Found::default();
    files::read_file(file.path(), &mut |item| sequential.item(item)).expect("the file reads");
    let mut parallel = Found::default();
    for found in read_file_parallel(file.path(), 2, Found::default).expect("the file reads") {
        parallel.records.extend(found.records);
        parallel.rejects.extend(found.rejects);
    }
    for found in [&mut sequential, &mut parallel] {
        found.records.sort();
        found.rejects.sort();
    }
    assert_eq!(parallel, sequential);
}

/// Record ids and reject lines, by line.
#[derive(Debug, Default, PartialEq)]
struct Found {
    records: Vec<(u64, String)>,
    rejects: Vec<u64>,
}

impl Sink for Found {
    fn item(&mut self, item: Item<'_>) {
        match item {
            Item::Record { record, line, .. } => {
                self.records.push((line, record.id.unwrap_or_default()))
            }
            Item::Reject { line, .. } => self.rejects.push(line),
        }
    }

    fn view(&mut self, record: RecordView<'_>, line: u64, _: &[u8]) {
        let id = record.id.unwrap_or_default().into_owned();
        self.records.push((line, id));
    }
}

/// The framer's pieces do not depend on how the input is cut into reads: the first byte of
/// `data` picks a read size, the rest is the input, framed in one read and in reads of that size.
pub fn framer_chunks(data: &[u8]) {
    let Some((&size, input)) = data.split_first() else {
        return;
    };
    let whole = frame(Reads::new(input, input.len().max(1)));
    let cut = frame(Reads::new(input, usize::from(size % 16) + 1));
    assert_eq!(whole, cut, "framing depends on read boundaries");
}

/// A piece with its bytes owned, to compare two framings.
#[derive(Debug, PartialEq)]
enum OwnedPiece {
    Record(Vec<u8>, u64),
    Reject(Vec<u8>, u64, String),
}

fn frame(input: impl BufRead) -> (Vec<OwnedPiece>, u64) {
    let mut pieces = Vec::new();
    let values = Framer::new().scan_reader(input, &mut |piece| {
        pieces.push(match piece {
            Piece::Record { bytes, line } => {
                assert!(!bytes.is_empty(), "an empty record at line {line}");
                OwnedPiece::Record(bytes.to_vec(), line)
            }
            Piece::Reject {
                bytes,
                line,
                reason,
            } => OwnedPiece::Reject(bytes.to_vec(), line, reason),
        })
    });
    (pieces, values)
}

/// A reader that hands out its input `size` bytes at a time.
struct Reads<'a> {
    input: &'a [u8],
    size: usize,
}

impl<'a> Reads<'a> {
    fn new(input: &'a [u8], size: usize) -> Self {
        Reads { input, size }
    }
}

impl Read for Reads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let len = available.len().min(buf.len());
        buf[..len].copy_from_slice(&available[..len]);
        self.consume(len);
        Ok(len)
    }
}

impl BufRead for Reads<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(&self.input[..self.size.min(self.input.len())])
    }

    fn consume(&mut self, amount: usize) {
        self.input = &self.input[amount..];
    }
}
