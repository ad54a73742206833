//! Splits a stream of JSON text into one frame per audit record, without building a tree.
//!
//! Every export shape is a sequence of top-level JSON values, so one scanner serves them all:
//! - a top-level object is a record (NDJSON lines, pretty-printed records one after another), unless
//!   it has a `value` or `records` key holding an array (a Graph page, an Azure Monitor batch): then
//!   each element of that array is a record and the rest of the envelope is skipped;
//! - a top-level array (the portal's JSON download) holds one record per element.
//!
//! The scanner checks JSON structure (brackets, strings, separators) but not scalar syntax; the
//! decoder does that per frame. Memory is bounded by the largest record, not the file. A
//! structural error rejects the current frame, verbatim with its first line number, and scanning
//! resumes at the next line, so one bad NDJSON line never costs its neighbours. Once the first
//! top-level value has begun and ended on one line the input is taken as line-delimited, and a
//! record breaking across lines is an error rather than a continuation.

use std::io::{self, BufRead};

/// What the scanner hands out, in input order.
#[derive(Debug, PartialEq)]
pub enum Piece<'a> {
    /// The bytes of one record value and the line it starts on.
    Record { bytes: &'a [u8], line: u64 },
    /// Input that cannot be a record: the verbatim bytes (possibly empty), the line it starts on, why.
    Reject {
        bytes: &'a [u8],
        line: u64,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// After `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object.
    Key,
    /// After a key.
    Colon,
    /// After `:` or `,` in an array.
    Value,
    /// After `[`: a value or `]`.
    ValueOrClose,
    /// After a value inside a container.
    CommaOrClose,
}

#[derive(Debug, Clone, Copy)]
struct Container {
    is_object: bool,
    expect: Expect,
    /// Each element of this array is a record.
    holds_records: bool,
    line: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Lexeme {
    #[default]
    None,
    /// Inside a string; `escaped` after a backslash.
    String { escaped: bool },
    /// Inside a number or a `true`/`false`/`null` literal.
    Bare,
}

/// The scanner state; feed it bytes with [`Framer::scan`], then call [`Framer::finish`].
#[derive(Default)]
pub struct Framer {
    line: u64,
    stack: Vec<Container>,
    lexeme: Lexeme,
    /// Bytes of the frame being collected; `Some(start line)` while collecting.
    frame: Vec<u8>,
    frame_line: Option<u64>,
    /// Depth (stack length) at which the current frame's value began.
    frame_depth: usize,
    /// Length of `frame` at the start of the current line, to split a frame off a new record.
    frame_len_at_line_start: usize,
    /// Only whitespace seen on the current line so far.
    at_line_start: bool,
    /// The key just read in a top-level object, when it names a record array (`value`, `records`).
    container_key: bool,
    /// Collects top-level object keys to recognise `value` and `records`.
    key: Vec<u8>,
    /// `Some(true)` once the input is known to be one value per line.
    line_delimited: Option<bool>,
    first_value_line: u64,
    /// Complete top-level values seen.
    values: u64,
    /// Skipping the rest of a broken line: collected bytes, start line, reason.
    skipping: Option<(u64, String)>,
    skipped: Vec<u8>,
}

impl Framer {
    pub fn new() -> Self {
        Self::starting_at_line(1)
    }

    /// A framer for input that begins on line `line` of its file (one line of a block read in
    /// parallel), so that every line it reports, in pieces and in reasons, is the file's.
    pub fn starting_at_line(line: u64) -> Self {
        Framer {
            line,
            at_line_start: true,
            ..Framer::default()
        }
    }

    /// A scanner for line `line` of input known to hold one value per line (whose first line
    /// was a whole record): it treats the line as the single-threaded scanner treats that line,
    /// and reports the file's line numbers.
    pub fn for_one_line(line: u64) -> Self {
        Framer {
            line_delimited: Some(true),
            ..Framer::starting_at_line(line)
        }
    }

    /// Scans a whole reader, handing each piece to `emit`. A read error (a truncated gzip
    /// stream, a device error) ends the scan as a reject at the line reached. Returns how many
    /// complete top-level JSON values the input held (an empty Graph page is one, with no record).
    pub fn scan_reader(mut self, mut input: impl BufRead, emit: &mut dyn FnMut(Piece<'_>)) -> u64 {
        let mut byte_order_mark = ByteOrderMark::default();
        loop {
            let buffer = match input.fill_buf() {
                Ok([]) => break,
                Ok(buffer) => buffer,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    let line = self.line;
                    self.scan(byte_order_mark.unfinished(), emit);
                    self.finish(emit);
                    emit(Piece::Reject {
                        bytes: &[],
                        line,
                        reason: format!("read error: {err}"),
                    });
                    return self.values;
                }
            };
            let len = buffer.len();
            let (not_a_mark, rest) = byte_order_mark.strip(buffer);
            self.scan(not_a_mark, emit);
            self.scan(rest, emit);
            input.consume(len);
        }
        self.scan(byte_order_mark.unfinished(), emit);
        self.finish(emit);
        self.values
    }

    /// Scans the next bytes of the input.
    pub fn scan(&mut self, bytes: &[u8], emit: &mut dyn FnMut(Piece<'_>)) {
        for &byte in bytes {
            self.byte(byte, emit);
        }
    }

    /// Ends the input: whatever is still open is truncated.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Piece<'_>)) {
        if let Some((line, reason)) = self.skipping.take() {
            emit(Piece::Reject {
                bytes: &self.skipped,
                line,
                reason,
            });
        } else if let Some(line) = self.frame_line.take() {
            emit(Piece::Reject {
                bytes: &self.frame,
                line,
                reason: format!(
                    "truncated: the input ends inside the record that begins on line {line}"
                ),
            });
        } else if let Some(open) = self.stack.first() {
            let what = if open.is_object { "object" } else { "array" };
            emit(Piece::Reject {
                bytes: &[],
                line: open.line,
                reason: format!(
                    "truncated: the input ends inside the {what} that begins on line {}",
                    open.line
                ),
            });
        }
        self.stack.clear();
        self.frame.clear();
    }

    fn byte(&mut self, byte: u8, emit: &mut dyn FnMut(Piece<'_>)) {
        if self.skipping.is_some() {
            if byte == b'\n' {
                if let Some((line, reason)) = self.skipping.take() {
                    emit(Piece::Reject {
                        bytes: &self.skipped,
                        line,
                        reason,
                    });
                }
                self.skipped.clear();
                self.new_line();
            } else {
                self.skipped.push(byte);
            }
            return;
        }
        if self.frame_line.is_some() {
            self.frame.push(byte);
        }
        match self.lexeme {
            Lexeme::String { escaped } => return self.string_byte(byte, escaped, emit),
            Lexeme::Bare if is_bare_byte(byte) => return,
            Lexeme::Bare => {
                self.lexeme = Lexeme::None;
                if self.frame_line.is_some() && self.stack.len() == self.frame_depth {
                    // The scalar frame ends before this byte, which belongs to what follows.
                    self.frame.pop();
                    self.value_done(emit);
                    if self.frame_line.is_some() {
                        self.frame.push(byte);
                    }
                } else {
                    self.value_done(emit);
                }
            }
            Lexeme::None => {}
        }
        match byte {
            b' ' | b'\t' | b'\r' => {}
            b'\n' => self.newline_outside_string(emit),
            b'{' | b'[' => self.open(byte == b'{', emit),
            b'}' | b']' => self.close(byte == b'}', emit),
            b'"' => self.quote(emit),
            b':' => self.expect(Expect::Colon, Expect::Value, byte, emit),
            b',' => {
                let next = match self.stack.last() {
                    Some(top) if top.is_object => Expect::Key,
                    _ => Expect::Value,
                };
                self.expect(Expect::CommaOrClose, next, byte, emit)
            }
            _ if is_bare_byte(byte) => {
                if self.begin_value(byte, emit) {
                    self.lexeme = Lexeme::Bare;
                }
            }
            _ => self.fail(byte, format!("unexpected byte 0x{byte:02x}"), emit),
        }
        if !matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            self.at_line_start = false;
        }
    }

    fn string_byte(&mut self, byte: u8, escaped: bool, emit: &mut dyn FnMut(Piece<'_>)) {
        match byte {
            _ if escaped => self.lexeme = Lexeme::String { escaped: false },
            b'\\' => self.lexeme = Lexeme::String { escaped: true },
            b'"' => {
                self.lexeme = Lexeme::None;
                if self.is_top_level_key() {
                    self.container_key = self.key.eq_ignore_ascii_case(b"value")
                        || self.key.eq_ignore_ascii_case(b"records");
                    self.advance(Expect::Colon);
                } else if matches!(self.stack.last(), Some(top) if top.is_object && matches!(top.expect, Expect::Key | Expect::KeyOrClose))
                {
                    self.advance(Expect::Colon);
                } else {
                    self.value_done(emit);
                }
                return;
            }
            b'\n' => {
                self.lexeme = Lexeme::None;
                return self.fail(
                    byte,
                    "line break inside a string: the record is cut short".into(),
                    emit,
                );
            }
            _ => {}
        }
        if self.is_top_level_key() && self.key.len() < 16 {
            self.key.push(byte);
        }
    }

    /// In the key position of a top-level object that has not turned out to be a record array.
    fn is_top_level_key(&self) -> bool {
        self.stack.len() == 1
            && matches!(
                self.stack[0],
                Container {
                    is_object: true,
                    expect: Expect::Key | Expect::KeyOrClose,
                    ..
                }
            )
    }

    fn quote(&mut self, emit: &mut dyn FnMut(Piece<'_>)) {
        let in_key_position = matches!(
            self.stack.last(),
            Some(top) if top.is_object && matches!(top.expect, Expect::Key | Expect::KeyOrClose)
        );
        if in_key_position {
            self.key.clear();
            self.lexeme = Lexeme::String { escaped: false };
        } else if self.begin_value(b'"', emit) {
            self.lexeme = Lexeme::String { escaped: false };
        }
    }

    fn open(&mut self, is_object: bool, emit: &mut dyn FnMut(Piece<'_>)) {
        let opening = if is_object { b'{' } else { b'[' };
        let holds_records_here = self.container_key && !is_object && self.stack.len() == 1;
        if !self.begin_value(opening, emit) {
            return;
        }
        let top_level_array = !is_object && self.stack.is_empty();
        if holds_records_here && self.frame_line.is_some() && self.frame_depth == 0 {
            // The top-level object is an envelope (Graph page, diagnostic batch), not a record.
            self.frame_line = None;
            self.frame.clear();
        }
        self.stack.push(Container {
            is_object,
            expect: if is_object {
                Expect::KeyOrClose
            } else {
                Expect::ValueOrClose
            },
            holds_records: holds_records_here || top_level_array,
            line: self.line,
        });
    }

    fn close(&mut self, is_object: bool, emit: &mut dyn FnMut(Piece<'_>)) {
        let closing = if is_object { b'}' } else { b']' };
        match self.stack.last() {
            Some(top)
                if top.is_object == is_object
                    && matches!(
                        top.expect,
                        Expect::KeyOrClose | Expect::ValueOrClose | Expect::CommaOrClose
                    ) =>
            {
                self.stack.pop();
                self.value_done(emit);
            }
            _ => self.fail(closing, format!("unexpected `{}`", closing as char), emit),
        }
    }

    fn expect(&mut self, wanted: Expect, next: Expect, byte: u8, emit: &mut dyn FnMut(Piece<'_>)) {
        match self.stack.last() {
            Some(top) if top.expect == wanted => self.advance(next),
            _ => self.fail(byte, format!("unexpected `{}`", byte as char), emit),
        }
    }

    fn advance(&mut self, next: Expect) {
        if let Some(top) = self.stack.last_mut() {
            top.expect = next;
        }
    }

    /// A value starts with `byte`. Returns false when the value is not allowed here (then the
    /// input has already been rejected).
    fn begin_value(&mut self, byte: u8, emit: &mut dyn FnMut(Piece<'_>)) -> bool {
        let allowed = match self.stack.last() {
            None => byte == b'{' || byte == b'[',
            Some(top) => matches!(top.expect, Expect::Value | Expect::ValueOrClose),
        };
        if !allowed {
            let what = if self.stack.is_empty() {
                "not JSON: a record must start with `{` or `[`".to_owned()
            } else {
                format!("unexpected `{}`", byte as char)
            };
            self.fail(byte, what, emit);
            return false;
        }
        let starts_frame = match self.stack.last() {
            None => byte == b'{',
            Some(top) => top.holds_records,
        };
        if starts_frame && self.frame_line.is_none() {
            self.frame_line = Some(self.line);
            self.frame_depth = self.stack.len();
            self.frame.clear();
            self.frame.push(byte);
            self.frame_len_at_line_start = 0;
        }
        if self.stack.is_empty() {
            self.first_value_line = self.line;
        }
        true
    }

    /// A value (scalar or container) has just ended at the current depth.
    fn value_done(&mut self, emit: &mut dyn FnMut(Piece<'_>)) {
        if let Some(top) = self.stack.last_mut() {
            top.expect = Expect::CommaOrClose;
            if self.stack.len() == 1 {
                self.container_key = false;
            }
        } else {
            self.values += 1;
            if self.line_delimited.is_none() {
                self.line_delimited = Some(self.first_value_line == self.line);
            }
        }
        if let Some(line) = self.frame_line
            && self.stack.len() == self.frame_depth
        {
            self.frame_line = None;
            emit(Piece::Record {
                bytes: &self.frame,
                line,
            });
            self.frame.clear();
        }
    }

    fn newline_outside_string(&mut self, emit: &mut dyn FnMut(Piece<'_>)) {
        if self.line_delimited == Some(true) && !self.stack.is_empty() {
            self.frame.pop();
            let line = self.frame_line.unwrap_or(self.line);
            self.emit_broken(
                line,
                "line break inside a record: a line of line-delimited JSON is cut short".into(),
                emit,
            );
        }
        self.new_line();
    }

    fn new_line(&mut self) {
        self.line += 1;
        self.at_line_start = true;
        self.frame_len_at_line_start = self.frame.len();
    }

    /// A structural error at `byte`. When a new top-level record starts a line inside a broken
    /// frame, the frame ends before that line and the record is scanned afresh; otherwise the rest
    /// of the line is skipped with the frame.
    fn fail(&mut self, byte: u8, reason: String, emit: &mut dyn FnMut(Piece<'_>)) {
        let restart =
            self.at_line_start && (byte == b'{' || byte == b'[') && !self.stack.is_empty();
        let line = self.frame_line.unwrap_or(self.line);
        if restart {
            let keep = self.frame_len_at_line_start.min(self.frame.len());
            self.frame.truncate(keep);
            while self.frame.last().is_some_and(u8::is_ascii_whitespace) {
                self.frame.pop();
            }
            self.emit_broken(
                line,
                format!("{reason}: the record that begins on line {line} is cut short"),
                emit,
            );
            self.byte(byte, emit);
        } else if byte == b'\n' {
            self.frame.pop();
            self.emit_broken(line, reason, emit);
            self.new_line();
        } else {
            self.skipped.clear();
            if self.frame_line.take().is_some() {
                self.skipped.append(&mut self.frame);
            } else {
                self.skipped.push(byte);
            }
            self.skipping = Some((line, reason));
            self.reset();
        }
    }

    /// Rejects the frame collected so far (if any) and forgets the open structure.
    fn emit_broken(&mut self, line: u64, reason: String, emit: &mut dyn FnMut(Piece<'_>)) {
        let bytes = if self.frame_line.take().is_some() {
            &self.frame[..]
        } else {
            &[][..]
        };
        emit(Piece::Reject {
            bytes,
            line,
            reason,
        });
        self.reset();
    }

    fn reset(&mut self) {
        self.stack.clear();
        self.frame.clear();
        self.frame_line = None;
        self.lexeme = Lexeme::None;
        self.container_key = false;
    }
}

/// Skips the UTF-8 byte order mark at the start of the input, however the reads split it.
#[derive(Default)]
struct ByteOrderMark {
    /// How many of its bytes the input began with so far.
    matched: usize,
    /// The input is known to begin with the whole mark or not with it.
    decided: bool,
}

impl ByteOrderMark {
    const BYTES: &'static [u8] = b"\xEF\xBB\xBF";

    /// Splits the next read into what proved not to be a mark after all (bytes of earlier
    /// reads, to scan first) and the rest of the read, without the mark.
    fn strip<'a>(&mut self, read: &'a [u8]) -> (&'static [u8], &'a [u8]) {
        if self.decided {
            return (&[], read);
        }
        let wanted = &Self::BYTES[self.matched..];
        let take = wanted.len().min(read.len());
        if read[..take] == wanted[..take] {
            self.matched += take;
            self.decided = self.matched == Self::BYTES.len();
            return (&[], &read[take..]);
        }
        self.decided = true;
        (&Self::BYTES[..self.matched], read)
    }

    /// At the end of the input: the start of a mark it ended in, which was input after all.
    fn unfinished(&mut self) -> &'static [u8] {
        let held = if self.decided {
            &[][..]
        } else {
            &Self::BYTES[..self.matched]
        };
        self.decided = true;
        held
    }
}

fn is_bare_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'+' | b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans `input` in chunks of `chunk` bytes; returns records as text and rejects as
    /// (line, text, reason).
    type Records = Vec<(u64, String)>;
    type Rejects = Vec<(u64, String, String)>;

    fn split(input: &str, chunk: usize) -> (Records, Rejects) {
        let mut records = Vec::new();
        let mut rejects = Vec::new();
        let mut framer = Framer::new();
        let mut emit = |piece: Piece<'_>| match piece {
            Piece::Record { bytes, line } => {
                records.push((line, String::from_utf8_lossy(bytes).into_owned()))
            }
            Piece::Reject {
                bytes,
                line,
                reason,
            } => rejects.push((line, String::from_utf8_lossy(bytes).into_owned(), reason)),
        };
        for part in input.as_bytes().chunks(chunk) {
            framer.scan(part, &mut emit);
        }
        framer.finish(&mut emit);
        (records, rejects)
    }

    fn records(input: &str) -> Records {
        let (records, rejects) = split(input, 7);
        assert!(rejects.is_empty(), "{rejects:?}");
        records
    }

    #[test]
    fn ndjson_lines_are_records() {
        let got =
            records("{\"id\":\"a\"}\n\n{\"id\":\"b\",\"x\":[1,{\"y\":\"}\"}]}\r\n{\"id\":\"c\"}");
        assert_eq!(
            got,
            vec![
                (1, "{\"id\":\"a\"}".into()),
                (3, "{\"id\":\"b\",\"x\":[1,{\"y\":\"}\"}]}".into()),
                (4, "{\"id\":\"c\"}".into())
            ]
        );
    }

    #[test]
    fn graph_page_elements_are_records() {
        let page = "{\n  \"@odata.context\": \"x\",\n  \"value\": [\n    {\"id\": \"a\",\n     \"value\": [1]},\n    {\"id\": \"b\"}\n  ],\n  \"@odata.nextLink\": \"https://x/?$skiptoken=1\"\n}\n";
        assert_eq!(
            records(page),
            vec![
                (4, "{\"id\": \"a\",\n     \"value\": [1]}".into()),
                (6, "{\"id\": \"b\"}".into())
            ]
        );
        assert_eq!(records("{\"value\": []}"), vec![]);
        assert_eq!(
            records("{\"Records\":[{\"a\":1}]}{\"records\":[{\"b\":2}]}"),
            vec![(1, "{\"a\":1}".into()), (1, "{\"b\":2}".into())]
        );
    }

    #[test]
    fn a_record_with_a_value_key_is_still_a_record() {
        assert_eq!(
            records("{\"key\":\"k\",\"value\":\"v\"}"),
            vec![(1, "{\"key\":\"k\",\"value\":\"v\"}".into())]
        );
    }

    #[test]
    fn top_level_array_elements_are_records() {
        assert_eq!(
            records("[\n {\"id\":\"a\"},\n {\"id\":\"b\"}\n]\n"),
            vec![(2, "{\"id\":\"a\"}".into()), (3, "{\"id\":\"b\"}".into())]
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let mut pieces = 0;
        Framer::new().scan_reader(&b"\xEF\xBB\xBF[{\"id\":\"a\"}]"[..], &mut |piece| {
            assert!(matches!(piece, Piece::Record { line: 1, .. }));
            pieces += 1;
        });
        assert_eq!(pieces, 1);
    }

    #[test]
    fn a_byte_order_mark_split_over_reads_is_skipped() {
        let records_read_bytewise = |input: &[u8]| {
            let mut records = Vec::new();
            let reader = io::BufReader::with_capacity(1, input);
            Framer::new().scan_reader(reader, &mut |piece| match piece {
                Piece::Record { bytes, line } => records.push((line, bytes.to_vec())),
                Piece::Reject { reason, .. } => panic!("{reason}"),
            });
            records
        };
        assert_eq!(
            records_read_bytewise(b"\xEF\xBB\xBF{\"id\":\"a\"}\n"),
            [(1, b"{\"id\":\"a\"}".to_vec())]
        );
        assert_eq!(records_read_bytewise(b"\xEF\xBB\xBF"), []);
    }

    #[test]
    fn pretty_printed_records_one_after_another() {
        assert_eq!(
            records("{\n \"id\": \"a\"\n}\n{\n \"id\": \"b\"\n}\n"),
            vec![
                (1, "{\n \"id\": \"a\"\n}".into()),
                (4, "{\n \"id\": \"b\"\n}".into())
            ]
        );
    }

    #[test]
    fn a_truncated_ndjson_line_is_rejected_alone() {
        for broken in [
            "{\"id\":\"b\",\"x\":1",
            "{\"id\":\"b\",",
            "{\"id\":\"b\",\"x\":",
            "{\"id\":\"b\",\"x",
            "{\"id\":\"b\",\"x\":[1,",
        ] {
            let input = format!("{{\"id\":\"a\"}}\n{broken}\n{{\"id\":\"c\"}}\n");
            let (records, rejects) = split(&input, 5);
            assert_eq!(
                records,
                vec![(1, "{\"id\":\"a\"}".into()), (3, "{\"id\":\"c\"}".into())],
                "{broken}"
            );
            assert_eq!(rejects.len(), 1, "{broken}: {rejects:?}");
            assert_eq!(
                (rejects[0].0, rejects[0].1.as_str()),
                (2, broken),
                "{broken}"
            );
        }
    }

    #[test]
    fn a_truncated_first_line_does_not_swallow_the_next() {
        let (records, rejects) = split("{\"id\":\"a\",\"x\":1\n{\"id\":\"b\"}\n", 3);
        assert_eq!(records, vec![(2, "{\"id\":\"b\"}".into())]);
        assert_eq!(rejects[0].0, 1);
        assert_eq!(rejects[0].1, "{\"id\":\"a\",\"x\":1");
    }

    #[test]
    fn garbage_lines_are_rejected_verbatim_with_their_line() {
        let (records, rejects) = split(
            "not json at all\n{\"id\":\"a\"}\n]]\n{\"id\":\"b\"} trailing\n",
            4,
        );
        assert_eq!(
            records,
            vec![(2, "{\"id\":\"a\"}".into()), (4, "{\"id\":\"b\"}".into())]
        );
        let lines: Vec<_> = rejects
            .iter()
            .map(|(line, text, _)| (*line, text.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![(1, "not json at all"), (3, "]]"), (4, "trailing")]
        );
    }

    #[test]
    fn truncation_at_the_end_is_a_reject() {
        let (records, rejects) = split("[{\"id\":\"a\"},\n{\"id\":\"b\",\"x\"", 64);
        assert_eq!(records, vec![(1, "{\"id\":\"a\"}".into())]);
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0].0, 2);
        assert!(rejects[0].2.contains("truncated"));
        let (_, rejects) = split("{\"value\":[{\"id\":\"a\"}", 64);
        assert!(rejects[0].2.contains("truncated"), "{rejects:?}");
        let (_, rejects) = split("{\"id\":\"a\"", 64);
        assert_eq!(rejects[0].1, "{\"id\":\"a\"");
    }

    #[test]
    fn empty_input_has_no_pieces() {
        assert_eq!(split("", 1), (vec![], vec![]));
        assert_eq!(split(" \n\r\n", 1), (vec![], vec![]));
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(records(&deep).len(), 1);
    }

    #[test]
    fn nul_and_invalid_bytes_are_rejected_and_scanning_goes_on() {
        let mut framer = Framer::new();
        let mut seen = Vec::new();
        let mut emit = |piece: Piece<'_>| seen.push(matches!(piece, Piece::Record { .. }));
        framer.scan(b"{\"id\":\"a\"}\n\x00\xff\n{\"id\":\"\xff\"}\n", &mut emit);
        framer.finish(&mut emit);
        // Invalid UTF-8 inside a string is left for the decoder to reject.
        assert_eq!(seen, vec![true, false, true]);
    }
}
