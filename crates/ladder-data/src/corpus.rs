//! A corpus read into documents: a text file, a directory of files, or JSON Lines with a
//! named text field, any of them gzip-compressed (`.gz`).
//!
//! The corpus becomes one UTF-8 text in which every document is followed by the
//! separator, as in ../shared/datasets (`"\n<|endoftext|>\n"`). A single text file is
//! kept byte for byte, so byte offsets and checksums published for it still apply; its
//! documents are the pieces between separators.

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::DataError;

/// GPT-2's end-of-text marker on its own line: the separator of ../shared/datasets.
pub const DEFAULT_SEPARATOR: &str = "\n<|endoftext|>\n";

/// How the files of a corpus are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Plain text; with a separator, the documents are the pieces between separators.
    Text,
    /// One JSON object per line; `field` holds one document's text.
    Jsonl {
        /// The field with the text, e.g. `"text"`.
        field: String,
    },
}

impl Format {
    /// The format a file name implies: `.jsonl` (or `.jsonl.gz`) is JSON Lines with
    /// `field`, anything else text.
    pub fn from_name(path: &Path, field: &str) -> Self {
        let name = path.to_string_lossy();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".jsonl") {
            Self::Jsonl {
                field: field.to_string(),
            }
        } else {
            Self::Text
        }
    }
}

/// Where a corpus is and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusSpec {
    /// A file, or a directory whose regular files (sorted by name) are read in turn.
    pub path: PathBuf,
    /// The file format; `None` picks it per file from the name ([`Format::from_name`]).
    pub format: Option<Format>,
    /// The JSON field with the text, for JSON Lines files chosen by name.
    pub field: String,
    /// What ends each document; `None` makes each text file one document and joins
    /// documents with [`DEFAULT_SEPARATOR`].
    pub separator: Option<String>,
}

impl CorpusSpec {
    /// A single text file, one document, read as is.
    pub fn text_file(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            format: Some(Format::Text),
            field: "text".into(),
            separator: None,
        }
    }
}

/// A corpus in memory: its text and the byte range of every document in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    /// All documents, each followed by the separator (a lone text file: its bytes).
    pub text: String,
    /// Each document's bytes in `text`, separator excluded, in order.
    pub documents: Vec<Range<usize>>,
    /// The files read, in order, each with the indices of its documents.
    pub files: Vec<(PathBuf, Range<usize>)>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The bytes of `path`, gunzipped when its name ends in `.gz`.
fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(io_error(path))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(io_error(path))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, DataError> {
    String::from_utf8(bytes).map_err(|e| DataError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// The documents of one JSON Lines text: the string `field` of every non-blank line.
fn jsonl_documents(path: &Path, text: &str, field: &str) -> Result<Vec<String>, DataError> {
    let bad = |line: usize, message: String| DataError::BadRecord {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut docs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(i + 1, format!("not JSON: {e}")))?;
        match value.get(field) {
            Some(serde_json::Value::String(s)) => docs.push(s.clone()),
            Some(other) => {
                return Err(bad(
                    i + 1,
                    format!("field `{field}` is {other}, not a string"),
                ))
            }
            None => {
                let keys: Vec<&str> = value
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                return Err(bad(
                    i + 1,
                    format!(
                        "no field `{field}` (fields: {}): set data.field to the one with the text",
                        keys.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(docs)
}

/// The files of a corpus path: the file itself, or a directory's regular files by name.
fn files(path: &Path) -> Result<Vec<PathBuf>, DataError> {
    let meta = std::fs::metadata(path).map_err(io_error(path))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_error(path))? {
        let entry = entry.map_err(io_error(path))?;
        let is_hidden = entry.file_name().to_string_lossy().starts_with('.');
        if entry.file_type().map_err(io_error(path))?.is_file() && !is_hidden {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

impl Corpus {
    /// Reads `spec`. Errors name the file (and line, for JSON Lines) and what to fix.
    pub fn read(spec: &CorpusSpec) -> Result<Self, DataError> {
        let paths = files(&spec.path)?;
        let sep = spec.separator.as_deref();
        // A lone text file is kept byte for byte.
        if let [path] = &paths[..] {
            let format = spec
                .format
                .clone()
                .unwrap_or_else(|| Format::from_name(path, &spec.field));
            if format == Format::Text {
                let text = utf8(path, read_bytes(path)?)?;
                return Self::from_text(path, text, sep);
            }
        }
        let mut docs = Vec::new();
        let mut files = Vec::with_capacity(paths.len());
        for path in &paths {
            let first = docs.len();
            let format = spec
                .format
                .clone()
                .unwrap_or_else(|| Format::from_name(path, &spec.field));
            let text = utf8(path, read_bytes(path)?)?;
            match format {
                Format::Jsonl { field } => docs.extend(jsonl_documents(path, &text, &field)?),
                Format::Text => match sep {
                    Some(sep) => docs.extend(pieces(&text, sep).map(|r| text[r].to_string())),
                    None => docs.push(text),
                },
            }
            files.push((path.clone(), first..docs.len()));
        }
        let mut corpus = Self::join(&spec.path, docs, sep.unwrap_or(DEFAULT_SEPARATOR))?;
        corpus.files = files;
        Ok(corpus)
    }

    /// One text, split into documents at `sep` (one document without a separator).
    fn from_text(path: &Path, text: String, sep: Option<&str>) -> Result<Self, DataError> {
        let documents: Vec<Range<usize>> = match sep {
            Some(sep) => pieces(&text, sep).collect(),
            None if text.is_empty() => Vec::new(),
            None => std::iter::once(0..text.len()).collect(),
        };
        let mut corpus = Self::non_empty(path, text, documents)?;
        corpus.files = vec![(path.to_path_buf(), 0..corpus.documents.len())];
        Ok(corpus)
    }

    /// Documents joined, each followed by `sep`.
    fn join(path: &Path, docs: Vec<String>, sep: &str) -> Result<Self, DataError> {
        let mut text = String::with_capacity(docs.iter().map(|d| d.len() + sep.len()).sum());
        let mut documents = Vec::with_capacity(docs.len());
        // Empty documents are kept (as an empty range) so that file ranges stay valid.
        for doc in &docs {
            documents.push(text.len()..text.len() + doc.len());
            text.push_str(doc);
            text.push_str(sep);
        }
        Self::non_empty(path, text, documents)
    }

    fn non_empty(
        path: &Path,
        text: String,
        documents: Vec<Range<usize>>,
    ) -> Result<Self, DataError> {
        if documents.iter().all(Range::is_empty) {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            text,
            documents,
            files: Vec::new(),
        })
    }
}

/// The non-empty pieces of `text` between occurrences of `sep`.
fn pieces<'a>(text: &'a str, sep: &'a str) -> impl Iterator<Item = Range<usize>> + 'a {
    let mut start = 0;
    let mut ends = text
        .match_indices(sep)
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()));
    std::iter::from_fn(move || loop {
        let end = ends.next()?;
        let piece = start..end;
        start = end + sep.len();
        if !piece.is_empty() {
            return Some(piece);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn docs(c: &Corpus) -> Vec<&str> {
        c.documents.iter().map(|r| &c.text[r.clone()]).collect()
    }

    fn spec(path: PathBuf, sep: Option<&str>) -> CorpusSpec {
        CorpusSpec {
            path,
            format: None,
            field: "text".into(),
            separator: sep.map(str::to_string),
        }
    }

    #[test]
    fn a_text_file_is_kept_byte_for_byte_and_split_at_separators() {
        let dir = tempfile::tempdir().unwrap();
        let body = "one\n<|endoftext|>\ntwo\n<|endoftext|>\n";
        let p = write(dir.path(), "c.txt", body.as_bytes());
        let c = Corpus::read(&spec(p, Some(DEFAULT_SEPARATOR))).unwrap();
        assert_eq!(c.text, body);
        assert_eq!(docs(&c), ["one", "two"]);
        let gz = write(dir.path(), "c.txt.gz", &gzip(body.as_bytes()));
        let unzipped = Corpus::read(&spec(gz, Some(DEFAULT_SEPARATOR))).unwrap();
        assert_eq!((unzipped.text, unzipped.documents), (c.text, c.documents));
    }

    #[test]
    fn directories_and_jsonl_become_separated_documents() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.txt", b"second");
        write(dir.path(), "a.txt.gz", &gzip(b"first"));
        write(dir.path(), ".hidden", b"ignored");
        let c = Corpus::read(&spec(dir.path().to_path_buf(), None)).unwrap();
        assert_eq!(docs(&c), ["first", "second"]);
        assert_eq!(
            c.text,
            format!("first{DEFAULT_SEPARATOR}second{DEFAULT_SEPARATOR}")
        );

        let lines = "{\"text\": \"x y\", \"id\": 1}\n\n{\"text\": \"z\\u00e9\"}\n";
        let j = write(dir.path(), "d.jsonl.gz", &gzip(lines.as_bytes()));
        let c = Corpus::read(&spec(j, Some("\n\n"))).unwrap();
        assert_eq!(docs(&c), ["x y", "zé"]);
        assert_eq!(c.text, "x y\n\nzé\n\n");
    }

    #[test]
    fn bad_corpora_name_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let j = write(dir.path(), "d.jsonl", b"{\"story\": \"a\"}\n");
        let e = Corpus::read(&spec(j, None)).unwrap_err().to_string();
        assert!(
            e.contains("d.jsonl") && e.contains("line 1") && e.contains("story"),
            "{e}"
        );
        let j = write(dir.path(), "n.jsonl", b"{\"text\": 3}\n");
        let e = Corpus::read(&spec(j, None)).unwrap_err().to_string();
        assert!(e.contains("not a string"), "{e}");
        let j = write(dir.path(), "x.jsonl", b"{oops\n");
        let e = Corpus::read(&spec(j, None)).unwrap_err().to_string();
        assert!(e.contains("not JSON"), "{e}");
        let empty = write(dir.path(), "e.txt", b"");
        let e = Corpus::read(&spec(empty, None)).unwrap_err().to_string();
        assert!(e.contains("e.txt") && e.contains("no text"), "{e}");
        let bad = write(dir.path(), "b.txt", b"ok\xff");
        let e = Corpus::read(&spec(bad, None)).unwrap_err().to_string();
        assert!(e.contains("byte 2"), "{e}");
        let e = Corpus::read(&spec(dir.path().join("missing.txt"), None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.txt"), "{e}");
    }
}
