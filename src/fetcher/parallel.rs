//! Reads a line-delimited export (NDJSON, Azure Monitor storage blobs) with several threads, for
//! the attempts: records come from the [`lean`] decoder where it applies, so they carry the fields
//! attempts read and may lack the others (display names, other additionalDetails).
//!
//! One thread reads (and decompresses) the file in blocks cut at line ends; worker threads
//! decode the lines of a block and hand records and rejects to a sink of their own, which the
//! caller merges afterwards. A line the lean decoder declines (an Event Hub batch on one line, a
//! diagnostic record, a broken line) goes through the [`Framer`] and the full decoder, exactly as
//! the single-threaded reader would treat it. Input that is not line-delimited (pretty-printed pages, arrays) is read by the
//! single-threaded reader. Memory holds a few blocks per worker, never the file.

use std::io::{self, BufRead, Cursor, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use super::files::{InputError, Item, decode, open, read_stream};
use super::framer::{Framer, Piece};
use super::lean;

/// Bytes per block handed to a worker.
const BLOCK: usize = 1 << 20;
/// The longest first line looked at to decide whether the input is line-delimited.
const PROBE: usize = 16 << 20;

/// Receives what a reader finds; one per worker.
pub trait Sink: Send {
    fn item(&mut self, item: Item<'_>);
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
    let mut sinks = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                let mut sink = make();
                scope.spawn(move || {
                    while let Some((block, first_line)) = next_block(&receiver) {
                        decode_lines(&block, first_line, &mut sink);
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
                    let rest = pending.split_off(cut);
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

/// Tops `pending` up to `block` bytes; returns true at the end of the input.
fn fill_block(input: &mut dyn BufRead, pending: &mut Vec<u8>, block: usize) -> io::Result<bool> {
    while pending.len() < block {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buffer.is_empty() {
            return Ok(true);
        }
        let take = buffer.len();
        pending.extend_from_slice(buffer);
        input.consume(take);
    }
    Ok(false)
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
                Some(record) => sink.item(Item::Record {
                    record,
                    line: line_number,
                    bytes: line,
                }),
                // As the single-threaded reader would: the line may be an envelope of records.
                None => frame_line(line, line_number, sink),
            }
        }
        line_number += 1;
        start = end + 1;
    }
}

/// A line that is not a record by itself: the framer splits batches and names what is wrong.
fn frame_line(line: &[u8], line_number: u64, sink: &mut dyn Sink) {
    let mut framer = Framer::for_one_line();
    let mut emit = |piece: Piece<'_>| match piece {
        Piece::Record { bytes, line } => match decode(bytes) {
            Ok(record) => sink.item(Item::Record {
                record,
                line: line_number + line - 1,
                bytes,
            }),
            Err(reason) => sink.item(Item::Reject {
                line: line_number + line - 1,
                reason,
                bytes,
            }),
        },
        Piece::Reject {
            bytes,
            line,
            reason,
        } => sink.item(Item::Reject {
            line: line_number + line - 1,
            reason,
            bytes,
        }),
    };
    framer.scan(line, &mut emit);
    framer.scan(b"\n", &mut emit);
    framer.finish(&mut emit);
}
