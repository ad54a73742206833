//! Reads a line-delimited export (NDJSON, Azure Monitor storage blobs) with several threads, for
//! the attempts: records come from the [`lean`] decoder where it applies, as views of the fields
//! attempts read borrowed from the line, and from the full decoder otherwise.
//!
//! One thread reads (and decompresses) the file in blocks cut at line ends; worker threads
//! decode the lines of a block and hand records and rejects to a sink of their own, which the
//! caller merges afterwards. A line the lean decoder declines (an Event Hub batch on one line, a
//! diagnostic record, a broken line) goes through the [`Framer`] and the full decoder, exactly as
//! the single-threaded reader would treat it. Input that is not line-delimited (pretty-printed pages, arrays) is read by the
//! single-threaded reader. Memory holds a few blocks per worker, never the file.

use std::io::{self, BufRead, Cursor, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use super::files::{InputError, Item, open, read_stream};
use super::framer::{Framer, Piece};
use super::lean;
use super::record::decode;
use crate::model::RecordView;

/// Bytes per block handed to a worker.
const BLOCK: usize = 1 << 20;
/// The longest first line looked at to decide whether the input is line-delimited.
const PROBE: usize = 16 << 20;

/// Receives what a reader finds; one per worker.
pub trait Sink: Send {
    fn item(&mut self, item: Item<'_>);
    /// A record the lean decoder read from the line `bytes`, which starts on line `line`.
    fn view(&mut self, record: RecordView<'_>, line: u64, bytes: &[u8]);
}

/// Reads `path` with `workers` threads; returns the sinks (one per worker, plus the reader's own
/// for read errors) for the caller to merge. Records keep their line numbers, but sinks see
/// them in no particular order.
pub fn read_file_parallel<S: Sink>(
    path: &Path,
    workers: usize,
    make: impl Fn() -> S,
) -> Result<Vec<S>, InputError> {
    let mut input = open(path)?;
    let mut reader_sink = make();
    let first = match first_line(&mut input) {
        Ok(first) => first,
        Err(err) => {
            reader_sink.item(Item::Reject {
                line: 1,
                reason: format!("read error: {err}"),
                bytes: &[],
            });
            return Ok(vec![reader_sink]);
        }
    };
    if !is_record_line(&first) {
        read_stream(Cursor::new(first).chain(input), &mut |item| {
            reader_sink.item(item)
        });
        return Ok(vec![reader_sink]);
    }
    let workers = workers.max(1);
    let (sender, receiver) = sync_channel::<(Vec<u8>, u64)>(workers * 2);
    let receiver = Arc::new(Mutex::new(receiver));
    // Decoded blocks come back to be filled again: no fresh pages to fault in per block.
    let (recycle, recycled) = channel::<Vec<u8>>();
    let mut sinks = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                let recycle = recycle.clone();
                let mut sink = make();
                scope.spawn(move || {
                    while let Some((block, first_line)) = next_block(&receiver) {
                        decode_lines(&block, first_line, &mut sink);
                        let _ = recycle.send(block);
                    }
                    sink
                })
            })
            .collect();
        let mut pending = first;
        let mut line = 1u64;
        let mut block = BLOCK;
        loop {
            match fill_block(&mut input, &mut pending, block) {
                Ok(done) => {
                    let cut = if done {
                        pending.len()
                    } else {
                        memchr::memrchr(b'\n', &pending).map_or(0, |at| at + 1)
                    };
                    if cut == 0 && !done {
                        // A line longer than a block: read on until it ends.
                        block *= 2;
                        continue;
                    }
                    block = BLOCK;
                    let mut rest = recycled.try_recv().unwrap_or_default();
                    rest.clear();
                    rest.extend_from_slice(&pending[cut..]);
                    pending.truncate(cut);
                    let lines = memchr::memchr_iter(b'\n', &pending).count() as u64;
                    if !pending.is_empty()
                        && sender
                            .send((std::mem::replace(&mut pending, rest), line))
                            .is_err()
                    {
                        break;
                    }
                    line += lines;
                    if done {
                        break;
                    }
                }
                Err(err) => {
                    // What was read before the error still counts; the error is a reject.
                    let lines = memchr::memchr_iter(b'\n', &pending).count() as u64;
                    let _ = sender.send((std::mem::take(&mut pending), line));
                    reader_sink.item(Item::Reject {
                        line: line + lines,
                        reason: format!("read error: {err}"),
                        bytes: &[],
                    });
                    break;
                }
            }
        }
        drop(sender);
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a reader thread panicked"))
            .collect::<Vec<S>>()
    });
    sinks.push(reader_sink);
    Ok(sinks)
}

fn next_block(receiver: &Mutex<Receiver<(Vec<u8>, u64)>>) -> Option<(Vec<u8>, u64)> {
    receiver.lock().ok()?.recv().ok()
}

/// Reads the first line (or the first `PROBE` bytes of it).
fn first_line(input: &mut dyn BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    input.take(PROBE as u64).read_until(b'\n', &mut line)?;
    Ok(line)
}

/// True when a line is one JSON audit record: the input is then taken as line-delimited.
fn is_record_line(line: &[u8]) -> bool {
    let text = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    text.trim_ascii_start().starts_with(b"{") && text.ends_with(b"\n") && decode(text).is_ok()
}

/// Tops `pending` up to `block` bytes, reading straight into it; returns true at the end of
/// the input.
fn fill_block(input: &mut dyn BufRead, pending: &mut Vec<u8>, block: usize) -> io::Result<bool> {
    let wanted = block.saturating_sub(pending.len());
    pending.reserve(wanted);
    let read = input.take(wanted as u64).read_to_end(pending)?;
    Ok(read < wanted)
}

/// Decodes the lines of a block that starts on line `first_line`.
fn decode_lines(block: &[u8], first_line: u64, sink: &mut dyn Sink) {
    let mut line_number = first_line;
    let mut start = 0;
    while start < block.len() {
        let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |at| start + at);
        let line = &block[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if line_number == 1 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        if !line.trim_ascii().is_empty() {
            match lean::decode(line) {
                Some(record) => sink.view(record, line_number, line),
                // As the single-threaded reader would: the line may be an envelope of records.
                None => frame_line(line, line_number, sink),
            }
        }
        line_number += 1;
        start = end + 1;
    }
}

/// A line that is not a record by itself: the framer splits batches and names what is wrong.
/// The first reject before any record of the line keeps the whole line in the rejects file, as
/// read (nothing of it is lost, and nothing is copied).
fn frame_line(line: &[u8], line_number: u64, sink: &mut dyn Sink) {
    let mut framer = Framer::for_one_line(line_number);
    let mut own_bytes_only = false;
    let mut emit = |piece: Piece<'_>| {
        let (reject_line, reason, bytes) = match piece {
            Piece::Record { bytes, line } => match decode(bytes) {
                Ok(record) => {
                    own_bytes_only = true;
                    sink.item(Item::Record {
                        record,
                        line,
                        bytes,
                    });
                    return;
                }
                Err(reason) => (line, reason, bytes),
            },
            Piece::Reject {
                bytes,
                line,
                reason,
            } => (line, reason, bytes),
        };
        let bytes = if own_bytes_only { bytes } else { line };
        own_bytes_only = true;
        sink.item(Item::Reject {
            line: reject_line,
            reason,
            bytes,
        });
    };
    framer.scan(line, &mut emit);
    framer.scan(b"\n", &mut emit);
    framer.finish(&mut emit);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the reading threads found: record ids and reject reasons, by line.
    #[derive(Default)]
    struct Found {
        records: Vec<(u64, String)>,
        rejects: Vec<(u64, String)>,
    }

    impl Sink for Found {
        fn item(&mut self, item: Item<'_>) {
            match item {
                Item::Record { record, line, .. } => {
                    self.records.push((line, record.id.unwrap_or_default()))
                }
                Item::Reject { line, reason, .. } => self.rejects.push((line, reason)),
            }
        }

        fn view(&mut self, record: RecordView<'_>, line: u64, _: &[u8]) {
            let id = record.id.unwrap_or_default().into_owned();
            self.records.push((line, id));
        }
    }

    #[test]
    fn blocks_cut_at_line_ends_lose_and_renumber_nothing() {
        // Several blocks' worth, a line longer than a block, a broken line in between.
        let (mut text, mut expected, mut line) = (String::new(), Vec::new(), 0);
        for n in 0..30_000 {
            line += 1;
            let note = if n == 12_345 {
                "x".repeat(3 * BLOCK)
            } else {
                String::new()
            };
            text.push_str(&format!(
                r#"{{"id":"r{n}","correlationId":"c{n}","note":"{note}"}}"#
            ));
            text.push('\n');
            expected.push((line, format!("r{n}")));
            if n == 20_000 {
                line += 1;
                text.push_str("{broken\n");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.ndjson");
        std::fs::write(&path, &text).unwrap();
        let found = read_file_parallel(&path, 3, Found::default).unwrap();
        let mut records: Vec<_> = found.iter().flat_map(|f| f.records.clone()).collect();
        records.sort();
        expected.sort();
        assert_eq!(records, expected);
        let rejects: Vec<u64> = found.iter().flat_map(|f| &f.rejects).map(|r| r.0).collect();
        assert_eq!(rejects, [20_002]);
    }
}
