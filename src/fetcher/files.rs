//! Reads export files: expands directories, detects gzip and the JSON shape from the content
//! (never from the file name), and streams records through the [`Framer`] and the decoder.
//!
//! A file is never held whole in memory; the largest thing held is one record.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use walkdir::WalkDir;

use super::framer::{Framer, Piece};
use super::record;
use crate::model::AuditRecord;

/// File name endings that a directory input picks up.
const EXTENSIONS: [&str; 4] = [".json", ".ndjson", ".jsonl", ".gz"];
const READ_BUFFER: usize = 256 * 1024;
/// How many rejects of a file are held back until it yields its first record; a file that
/// yields none is reported as one file-level reject instead of line by line.
const HELD_REJECTS: usize = 64;

/// An input path that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Unreadable { path: PathBuf, source: io::Error },
}

/// What a file reader hands out. (Moved once per record into the sink; boxing the large
/// variant would only add an allocation per record.)
#[allow(clippy::large_enum_variant)]
pub enum Item<'a> {
    /// A decoded record, the line it starts on, and its verbatim bytes.
    Record {
        record: AuditRecord,
        line: u64,
        bytes: &'a [u8],
    },
    /// Input that is not a record: the line it starts on (0 for the whole file), why, and its
    /// verbatim bytes (empty when the problem is the file itself).
    Reject {
        line: u64,
        reason: String,
        bytes: &'a [u8],
    },
}

/// Expands the input paths: a file as given, a directory to every `.json`, `.ndjson`, `.jsonl`
/// and `.gz` file under it, in name order.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => InputError::NotFound { path: path.clone() },
            _ => InputError::Unreadable {
                path: path.clone(),
                source,
            },
        })?;
        if !metadata.is_dir() {
            files.push(path.clone());
            continue;
        }
        for entry in WalkDir::new(path).follow_links(true).sort_by_file_name() {
            let entry = entry.map_err(|err| InputError::Unreadable {
                path: err.path().unwrap_or(path).to_path_buf(),
                source: err.into(),
            })?;
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            if entry.file_type().is_file() && EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
                files.push(entry.into_path());
            }
        }
    }
    Ok(files)
}

/// Reads one file, handing every record and reject to `sink` in file order. Fails only when
/// the file cannot be opened; everything wrong inside it is a reject.
pub fn read_file(path: &Path, sink: &mut dyn FnMut(Item<'_>)) -> Result<(), InputError> {
    read_stream(open(path)?, sink);
    Ok(())
}

/// Opens a file for reading, decompressing it when its first bytes are gzip's magic number.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, InputError> {
    let unreadable = |source| InputError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    decompressed(File::open(path).map_err(unreadable)?).map_err(unreadable)
}

/// Buffers `input`, decompressing it when its first bytes are gzip's magic number.
pub fn decompressed<'a>(input: impl Read + 'a) -> io::Result<Box<dyn BufRead + 'a>> {
    let mut input = BufReader::with_capacity(READ_BUFFER, input);
    let is_gzip = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            GzipStream(MultiGzDecoder::new(input)),
        ))
    } else {
        Box::new(input)
    })
}

/// A gzip decoder whose errors say that the gzip stream is at fault.
struct GzipStream<R>(MultiGzDecoder<R>);

impl<R: BufRead> Read for GzipStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("gzip stream truncated or corrupt ({err})"),
            )
        })
    }
}

/// Reads JSON text in any supported shape from `input`.
pub fn read_stream(input: impl BufRead, sink: &mut dyn FnMut(Item<'_>)) {
    let mut file = FileState::default();
    let values = Framer::new().scan_reader(input, &mut |piece| file.piece(piece, sink));
    file.finish(values, sink);
}

/// Per-file bookkeeping: holds back early rejects until the file proves to hold records.
#[derive(Default)]
struct FileState {
    records: u64,
    held: Vec<(u64, String, Vec<u8>)>,
}

impl FileState {
    fn piece(&mut self, piece: Piece<'_>, sink: &mut dyn FnMut(Item<'_>)) {
        match piece {
            Piece::Record { bytes, line } => match record::decode(bytes) {
                Ok(record) => {
                    self.release_held(sink);
                    self.records += 1;
                    sink(Item::Record {
                        record,
                        line,
                        bytes,
                    });
                }
                Err(reason) => self.reject(line, reason, bytes, sink),
            },
            Piece::Reject {
                bytes,
                line,
                reason,
            } => self.reject(line, reason, bytes, sink),
        }
    }

    fn reject(&mut self, line: u64, reason: String, bytes: &[u8], sink: &mut dyn FnMut(Item<'_>)) {
        if self.records > 0 || self.held.len() >= HELD_REJECTS {
            self.release_held(sink);
            sink(Item::Reject {
                line,
                reason,
                bytes,
            });
        } else {
            self.held.push((line, reason, bytes.to_vec()));
        }
    }

    fn release_held(&mut self, sink: &mut dyn FnMut(Item<'_>)) {
        for (line, reason, bytes) in self.held.drain(..) {
            sink(Item::Reject {
                line,
                reason,
                bytes: &bytes,
            });
        }
    }

    /// Ends the file, which held `values` complete top-level JSON values. A file of valid JSON
    /// without records (an empty Graph page, `[]`) is fine; an empty one is a reject.
    fn finish(&mut self, values: u64, sink: &mut dyn FnMut(Item<'_>)) {
        if self.records > 0 {
            return;
        }
        let reason = match self.held.as_slice() {
            [] if values == 0 => "empty file: no JSON value in it".to_owned(),
            [] => return,
            [_] => return self.release_held(sink),
            [(line, first, _), ..] => format!(
                "not a supported export (Graph page, NDJSON, JSON array, Azure Monitor records): \
                 no record in it; first problem at line {line}: {first}"
            ),
        };
        self.held.clear();
        sink(Item::Reject {
            line: 0,
            reason,
            bytes: &[],
        });
    }
}

/// Reads a whole small file; used for rule and query files, not for exports.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut file| file.read_to_string(&mut text))
        .map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => InputError::NotFound {
                path: path.to_path_buf(),
            },
            _ => InputError::Unreadable {
                path: path.to_path_buf(),
                source,
            },
        })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Records = Vec<(u64, Option<String>)>;
    type Rejects = Vec<(u64, String)>;

    fn read(input: &[u8]) -> (Records, Rejects) {
        let mut records = Vec::new();
        let mut rejects = Vec::new();
        read_stream(input, &mut |item| match item {
            Item::Record { record, line, .. } => records.push((line, record.id)),
            Item::Reject { line, reason, .. } => rejects.push((line, reason)),
        });
        (records, rejects)
    }

    #[test]
    fn a_file_without_records_is_one_reject() {
        let (records, rejects) = read(b"id,activity\n1,x\n2,y\n");
        assert!(records.is_empty());
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0].0, 0);
        assert!(
            rejects[0].1.contains("not a supported export"),
            "{rejects:?}"
        );
        let (_, rejects) = read(b"");
        assert!(rejects[0].1.contains("empty file"));
        for empty_but_valid in [
            &b"[]"[..],
            b"{\"value\": [], \"@odata.nextLink\": \"https://x\"}",
            b" {\"records\": []}\n",
        ] {
            assert_eq!(read(empty_but_valid), (vec![], vec![]));
        }
    }

    #[test]
    fn early_rejects_are_released_once_a_record_appears() {
        let (records, rejects) = read(b"garbage\n{\"id\":\"a\"}\n{\"id\":5}\n");
        assert_eq!(records, vec![(2, Some("a".into()))]);
        let lines: Vec<_> = rejects.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![1, 3]);
        assert!(rejects[1].1.contains("`id`"), "{rejects:?}");
    }

    #[test]
    fn objects_that_are_not_audit_records_are_rejected() {
        let (records, rejects) = read(b"{\"id\":\"a\"}\n{\"userDisplayName\":\"x\"}\n");
        assert_eq!(records.len(), 1);
        assert!(rejects[0].1.contains("not a directoryAudit record"));
    }

    #[test]
    fn records_without_id_get_a_content_id() {
        let (records, _) = read(
            b"{\"correlationId\":\"c\"}\n{\"correlationId\":\"c\"}\n{\"correlationId\":\"d\"}\n",
        );
        assert_eq!(records[0].1, records[1].1);
        assert_ne!(records[0].1, records[2].1);
        assert!(records[0].1.as_deref().unwrap().starts_with("sha256:"));
    }

    #[test]
    fn gzip_is_detected_from_content() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.json");
        let mut encoder = GzEncoder::new(File::create(&path).unwrap(), Compression::default());
        encoder
            .write_all(b"{\"value\":[{\"id\":\"a\"},{\"id\":\"b\"}]}")
            .unwrap();
        encoder.finish().unwrap();
        let mut ids = Vec::new();
        read_file(&path, &mut |item| {
            if let Item::Record { record, .. } = item {
                ids.push(record.id.unwrap());
            }
        })
        .unwrap();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn a_byte_order_mark_split_across_gzip_members_is_skipped() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut gzip = Vec::new();
        for member in [&b"\xEF"[..], b"\xBB\xBF{\"id\":\"a\"}\n"] {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(member).unwrap();
            gzip.extend(encoder.finish().unwrap());
        }
        let mut items = Vec::new();
        read_stream(decompressed(&gzip[..]).unwrap(), &mut |item| {
            items.push(match item {
                Item::Record { record, line, .. } => (line, record.id.unwrap()),
                Item::Reject { line, reason, .. } => (line, reason),
            })
        });
        assert_eq!(items, [(1, "a".to_owned())]);
    }

    #[test]
    fn truncated_gzip_keeps_what_came_before() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        for n in 0..2000 {
            writeln!(
                encoder,
                "{{\"id\":\"r{n}\",\"correlationId\":\"c{n}\",\"padding\":\"{}\"}}",
                n * 7919
            )
            .unwrap();
        }
        let gz = encoder.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.gz");
        std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
        let (mut records, mut rejects) = (0, Vec::new());
        read_file(&path, &mut |item| match item {
            Item::Record { .. } => records += 1,
            Item::Reject { reason, .. } => rejects.push(reason),
        })
        .unwrap();
        assert!(records > 100 && records < 2000, "{records}");
        assert!(
            rejects.iter().any(|r| r.contains("read error")),
            "{rejects:?}"
        );
    }

    #[test]
    fn directories_expand_to_export_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.ndjson",
            "a.json",
            "c.JSONL",
            "d.gz",
            "notes.txt",
            "sub/e.json",
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        let names: Vec<_> = expand_inputs(&[dir.path().to_path_buf()])
            .unwrap()
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            ["a.json", "b.ndjson", "c.JSONL", "d.gz", "sub/e.json"]
        );
        assert!(matches!(
            expand_inputs(&[dir.path().join("missing")]),
            Err(InputError::NotFound { .. })
        ));
    }
}
