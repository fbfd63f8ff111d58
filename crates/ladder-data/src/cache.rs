//! The token cache: a corpus tokenised once into a flat file of token ids, memory-mapped
//! by every run that reads it.
//!
//! A cache entry is a directory named `<corpus>-<tokenizer>` after the first 16 hex
//! digits of two SHA-256 hashes: of the corpus text, and of what determines the tokens
//! (tokenizer kind and vocabulary, the split, this format's version). It holds
//! `tokenizer.json` (trained on the training split only), `tokens.bin` (little-endian
//! `u16` ids when the vocabulary fits, else `u32`; training tokens first, then
//! validation) and `meta.json`. An entry is built in a temporary directory and renamed
//! into place, so a reader never sees half of one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Corpus, DataError, Tokenizer, TokenizerSpec};

/// Bumped when the layout or the tokenisation changes, so old entries are not reused.
const FORMAT_VERSION: u32 = 1;

/// What `meta.json` records about a cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheMeta {
    /// SHA-256 of the corpus text.
    pub corpus_sha256: String,
    /// `bpe-4096` and the like.
    pub tokenizer: String,
    /// SHA-256 of `tokenizer.json`.
    pub tokenizer_sha256: String,
    /// Number of token ids.
    pub vocab: usize,
    /// Bytes per id in `tokens.bin`: 2 or 4.
    pub width: usize,
    /// Training tokens (the first ids of `tokens.bin`).
    pub train_tokens: usize,
    /// Validation tokens (the rest).
    pub validation_tokens: usize,
    /// Byte offset of the split in the corpus text.
    pub split_byte: usize,
}

/// An open cache entry: its ids, memory-mapped.
pub struct TokenFile {
    dir: PathBuf,
    meta: CacheMeta,
    map: memmap2::Mmap,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Maps `file` read-only.
#[allow(unsafe_code)]
fn map(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: a mapped file must not change while mapped. Cache entries are written once
    // into a temporary directory, renamed into place and never written again; only a
    // user editing `tokens.bin` by hand would break that, and then the ids (not memory
    // safety of anything but this read-only slice of integers) are what changes.
    unsafe { memmap2::Mmap::map(file) }
}

impl TokenFile {
    /// The entry directory for `corpus` split at `split_byte` and tokenised by `spec`.
    pub fn entry(root: &Path, corpus: &Corpus, split_byte: usize, spec: TokenizerSpec) -> PathBuf {
        let key = format!("{}:{split_byte}:v{FORMAT_VERSION}", spec.name());
        let (c, k) = (
            sha256_hex(corpus.text.as_bytes()),
            sha256_hex(key.as_bytes()),
        );
        root.join(format!("{}-{}", &c[..16], &k[..16]))
    }

    /// Opens the entry for these inputs, building it first if it does not exist.
    /// `Byte` needs no cache: use [`crate::TextSource::from_corpus`].
    pub fn prepare(
        root: &Path,
        corpus: &Corpus,
        split_byte: usize,
        spec: TokenizerSpec,
    ) -> Result<Self, DataError> {
        let dir = Self::entry(root, corpus, split_byte, spec);
        if !dir.join("meta.json").exists() {
            build(&dir, corpus, split_byte, spec)?;
        }
        Self::open(&dir)
    }

    /// Opens an existing entry.
    pub fn open(dir: &Path) -> Result<Self, DataError> {
        let meta_path = dir.join("meta.json");
        let text = std::fs::read_to_string(&meta_path).map_err(io(&meta_path))?;
        let meta: CacheMeta = serde_json::from_str(&text).map_err(|e| DataError::BadRecord {
            path: meta_path.clone(),
            line: e.line(),
            message: format!("{e}: delete {} to rebuild it", dir.display()),
        })?;
        let tokens = dir.join("tokens.bin");
        let file = std::fs::File::open(&tokens).map_err(io(&tokens))?;
        let map = map(&file).map_err(io(&tokens))?;
        let want = (meta.train_tokens + meta.validation_tokens) * meta.width;
        if map.len() != want || !matches!(meta.width, 2 | 4) {
            return Err(DataError::BadRecord {
                path: tokens,
                line: 0,
                message: format!(
                    "{} bytes where meta.json says {want}: delete {} to rebuild it",
                    map.len(),
                    dir.display()
                ),
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            meta,
            map,
        })
    }

    /// The entry's metadata.
    pub fn meta(&self) -> &CacheMeta {
        &self.meta
    }

    /// The entry's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry's key, the name of its directory: the same on every machine for the
    /// same corpus, split and tokenizer.
    pub fn key(&self) -> String {
        self.dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.map.len() / self.meta.width
    }

    /// Whether the entry holds no ids.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The id at position `i`.
    pub fn get(&self, i: usize) -> u32 {
        let w = self.meta.width;
        let b = &self.map[i * w..(i + 1) * w];
        match *b {
            [x0, x1] => u32::from(u16::from_le_bytes([x0, x1])),
            [x0, x1, x2, x3] => u32::from_le_bytes([x0, x1, x2, x3]),
            _ => unreachable!("width is checked to be 2 or 4 on open"),
        }
    }
}

/// Byte ranges that cover `text` exactly: document boundaries and the split.
fn pieces(corpus: &Corpus, from: usize, to: usize) -> Vec<std::ops::Range<usize>> {
    let mut cuts: Vec<usize> = corpus
        .documents
        .iter()
        .map(|d| d.start)
        .filter(|&s| s > from && s < to)
        .collect();
    cuts.insert(0, from);
    cuts.push(to);
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

fn build(
    dir: &Path,
    corpus: &Corpus,
    split_byte: usize,
    spec: TokenizerSpec,
) -> Result<(), DataError> {
    let TokenizerSpec::Bpe { vocab } = spec.validate()? else {
        return Err(DataError::BadParameter {
            field: "tokenizer",
            message: "byte-level tokens need no cache".into(),
        });
    };
    let train = pieces(corpus, 0, split_byte);
    let val = pieces(corpus, split_byte, corpus.text.len());
    let tokenizer = Tokenizer::train_bpe(vocab, train.iter().map(|r| &corpus.text[r.clone()]))?;
    let train_ids = tokenizer.encode(&corpus.text, &train)?;
    let val_ids = tokenizer.encode(&corpus.text, &val)?;
    let width = if tokenizer.vocab_size() <= 1 << 16 {
        2
    } else {
        4
    };
    let mut bytes = Vec::with_capacity((train_ids.len() + val_ids.len()) * width);
    for &id in train_ids.iter().chain(&val_ids) {
        match width {
            2 => bytes.extend_from_slice(&(id as u16).to_le_bytes()),
            _ => bytes.extend_from_slice(&id.to_le_bytes()),
        }
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".building-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let json = tmp.path().join("tokenizer.json");
    tokenizer.save(&json)?;
    let tokenizer_sha256 = sha256_hex(&std::fs::read(&json).map_err(io(&json))?);
    let meta = CacheMeta {
        corpus_sha256: sha256_hex(corpus.text.as_bytes()),
        tokenizer: spec.name(),
        tokenizer_sha256,
        vocab: tokenizer.vocab_size(),
        width,
        train_tokens: train_ids.len(),
        validation_tokens: val_ids.len(),
        split_byte,
    };
    let tokens = tmp.path().join("tokens.bin");
    std::fs::write(&tokens, bytes).map_err(io(&tokens))?;
    let meta_path = tmp.path().join("meta.json");
    let meta_text = serde_json::to_string_pretty(&meta).unwrap_or_default();
    std::fs::write(&meta_path, meta_text).map_err(io(&meta_path))?;
    let staged = tmp.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        // Another process built the same entry first: theirs is as good as ours.
        let _ = std::fs::remove_dir_all(&staged);
        if !dir.join("meta.json").exists() {
            return Err(io(dir)(e));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CorpusSpec, Split};

    #[test]
    fn an_entry_is_built_once_and_decodes_to_the_corpus() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (0..40)
            .map(|i| {
                format!(
                    "Story {i}: the cat sat on the mat {} times.\n<|endoftext|>\n",
                    i % 7
                )
            })
            .collect();
        let path = dir.path().join("c.txt");
        std::fs::write(&path, &body).unwrap();
        let mut spec = CorpusSpec::text_file(&path);
        spec.separator = Some(crate::DEFAULT_SEPARATOR.into());
        let corpus = Corpus::read(&spec).unwrap();
        let cut = Split::Documents(4).cut(&corpus).unwrap();
        let root = dir.path().join("cache");
        let bpe = TokenizerSpec::Bpe { vocab: 300 };
        let file = TokenFile::prepare(&root, &corpus, cut, bpe).unwrap();
        let m = file.meta().clone();
        assert_eq!((m.width, m.split_byte), (2, cut));
        assert_eq!(file.len(), m.train_tokens + m.validation_tokens);
        let tok = Tokenizer::load(&file.dir().join("tokenizer.json")).unwrap();
        let ids: Vec<u32> = (0..file.len()).map(|i| file.get(i)).collect();
        assert_eq!(tok.decode(&ids[..m.train_tokens]).unwrap(), &body[..cut]);
        assert_eq!(tok.decode(&ids).unwrap(), body);
        // A second prepare reuses the entry; another split makes another entry.
        let mtime = |p: &Path| {
            std::fs::metadata(p.join("tokens.bin"))
                .unwrap()
                .modified()
                .unwrap()
        };
        let before = mtime(file.dir());
        let again = TokenFile::prepare(&root, &corpus, cut, bpe).unwrap();
        assert_eq!((again.dir(), mtime(again.dir())), (file.dir(), before));
        let other = Split::Documents(5).cut(&corpus).unwrap();
        assert_ne!(TokenFile::entry(&root, &corpus, other, bpe), file.dir());
        // A truncated token file is refused with the fix.
        std::fs::write(file.dir().join("tokens.bin"), [0u8; 3]).unwrap();
        let e = TokenFile::open(file.dir()).err().unwrap().to_string();
        assert!(e.contains("tokens.bin") && e.contains("rebuild"), "{e}");
    }
}
