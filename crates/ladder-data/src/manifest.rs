//! Manifests of known corpora (`datasets/*.toml`, embedded in the binary): where a
//! corpus comes from, its licence, the SHA-256 of its files and its split rule.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Corpus, CorpusSpec, DataError, Split};

/// The manifests shipped with ladder, as (name, TOML text).
const KNOWN: [(&str, &str); 3] = [
    (
        "gutenberg_en",
        include_str!("../../../datasets/gutenberg_en.toml"),
    ),
    (
        "tinyshakespeare",
        include_str!("../../../datasets/tinyshakespeare.toml"),
    ),
    (
        "tinystories",
        include_str!("../../../datasets/tinystories.toml"),
    ),
];

/// One file of a corpus.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// File name.
    pub name: String,
    /// Size in bytes, when published.
    pub bytes: Option<u64>,
    /// SHA-256, when published.
    pub sha256: Option<String>,
}

/// The split rule, with the expected result when published.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSplit {
    /// `documents` (the last N), `offset` (a byte), `fraction` or `file` (a file of its own).
    pub rule: String,
    /// For `documents`.
    pub documents: Option<usize>,
    /// For `offset`.
    pub offset: Option<u64>,
    /// For `fraction`.
    pub fraction: Option<f64>,
    /// For `file`: the validation file's name.
    pub file: Option<String>,
    /// Expected size of the training split in bytes.
    pub train_bytes: Option<u64>,
    /// Expected SHA-256 of the training split's bytes.
    pub train_sha256: Option<String>,
    /// Expected SHA-256 of the validation split's bytes.
    pub validation_sha256: Option<String>,
}

/// A corpus manifest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name, as used by `ladder data verify NAME` and `data.corpus`.
    pub name: String,
    /// What the corpus is.
    pub title: String,
    /// Where it comes from.
    pub source: String,
    /// Its licence.
    pub licence: String,
    /// `text` or `jsonl`.
    pub format: String,
    /// The document separator, if any.
    pub separator: Option<String>,
    /// Its files.
    pub files: Vec<ManifestFile>,
    /// How validation is held out.
    pub split: ManifestSplit,
}

/// What `verify` found for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// The file checked.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
    /// Whether the manifest had a checksum to compare with.
    pub published: bool,
}

/// Lowercase hex SHA-256 of a file, streamed.
fn file_sha256(path: &Path) -> Result<(u64, String), DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let (mut hasher, mut buf, mut total) = (Sha256::new(), vec![0u8; 1 << 20], 0u64);
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

fn mismatch(path: &Path, what: &str, expected: &str, actual: &str) -> DataError {
    DataError::Mismatch {
        path: path.to_path_buf(),
        what: what.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

impl Manifest {
    /// The names of the shipped manifests.
    pub fn known() -> Vec<&'static str> {
        KNOWN.iter().map(|(n, _)| *n).collect()
    }

    /// The shipped manifest called `name`.
    pub fn find(name: &str) -> Result<Self, DataError> {
        let (_, text) =
            KNOWN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| DataError::BadParameter {
                    field: "corpus",
                    message: format!(
                        "no manifest called `{name}`: known corpora are {}",
                        Self::known().join(", ")
                    ),
                })?;
        toml::from_str(text).map_err(|e| DataError::BadParameter {
            field: "corpus",
            message: format!("the manifest of `{name}` does not parse: {e}"),
        })
    }

    /// How to read the corpus at `path` (a file, or the directory holding the files).
    pub fn corpus_spec(&self, path: &Path) -> CorpusSpec {
        let format = match self.format.as_str() {
            "jsonl" => crate::Format::Jsonl {
                field: "text".into(),
            },
            _ => crate::Format::Text,
        };
        CorpusSpec {
            path: path.to_path_buf(),
            format: Some(format),
            field: "text".into(),
            separator: self.separator.clone(),
        }
    }

    /// The split rule applied to `corpus` as read from this manifest's files.
    pub fn split(&self, corpus: &Corpus) -> Result<Split, DataError> {
        let s = &self.split;
        let missing = |key: &str| DataError::BadParameter {
            field: "corpus",
            message: format!(
                "manifest `{}`: split rule `{}` needs `{key}`",
                self.name, s.rule
            ),
        };
        match s.rule.as_str() {
            "documents" => Ok(Split::Documents(
                s.documents.ok_or_else(|| missing("documents"))?,
            )),
            "offset" => Ok(Split::Offset(s.offset.ok_or_else(|| missing("offset"))?)),
            "fraction" => Ok(Split::Fraction(
                s.fraction.ok_or_else(|| missing("fraction"))?,
            )),
            "file" => {
                let name = s.file.as_deref().ok_or_else(|| missing("file"))?;
                let (_, docs) = corpus
                    .files
                    .iter()
                    .find(|(p, _)| p.file_name().is_some_and(|f| f == name))
                    .filter(|(_, docs)| docs.end == corpus.documents.len())
                    .ok_or_else(|| DataError::BadParameter {
                        field: "path",
                        message: format!(
                            "corpus `{}` holds out the file {name}: point data.path at the \
                             directory holding {}, with {name} sorting last",
                            self.name,
                            self.files
                                .iter()
                                .map(|f| f.name.as_str())
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    })?;
                Ok(Split::Documents(docs.len()))
            }
            other => Err(DataError::BadParameter {
                field: "corpus",
                message: format!("manifest `{}`: unknown split rule `{other}`", self.name),
            }),
        }
    }

    /// The manifest's files found at `path`: the file itself when the manifest has
    /// one file (any name), or the directory's files by name.
    fn locate(&self, path: &Path) -> Result<Vec<(PathBuf, &ManifestFile)>, DataError> {
        if let Err(source) = std::fs::metadata(path) {
            return Err(DataError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        if path.is_dir() {
            return Ok(self.files.iter().map(|f| (path.join(&f.name), f)).collect());
        }
        match &self.files[..] {
            [one] => Ok(vec![(path.to_path_buf(), one)]),
            _ => Err(DataError::BadParameter {
                field: "path",
                message: format!(
                    "corpus `{}` has {} files: give the directory that holds them",
                    self.name,
                    self.files.len()
                ),
            }),
        }
    }

    /// Checks the files at `path` against the manifest (size and SHA-256), then the
    /// split (training size and both splits' SHA-256) where the manifest publishes them.
    pub fn verify(&self, path: &Path) -> Result<Vec<FileCheck>, DataError> {
        let mut checks = Vec::new();
        for (file, expected) in self.locate(path)? {
            let (bytes, sha) = file_sha256(&file)?;
            if let Some(want) = expected.bytes.filter(|&b| b != bytes) {
                return Err(mismatch(
                    &file,
                    "size in bytes",
                    &want.to_string(),
                    &bytes.to_string(),
                ));
            }
            if let Some(want) = expected.sha256.as_deref().filter(|&w| w != sha) {
                return Err(mismatch(&file, "SHA-256", want, &sha));
            }
            checks.push(FileCheck {
                path: file,
                published: expected.sha256.is_some(),
                sha256: sha,
            });
        }
        let corpus = Corpus::read(&self.corpus_spec(path))?;
        let cut = self.split(&corpus)?.cut(&corpus)?;
        let s = &self.split;
        if let Some(want) = s.train_bytes.filter(|&b| b != cut as u64) {
            return Err(mismatch(
                path,
                "training split size",
                &want.to_string(),
                &cut.to_string(),
            ));
        }
        let (train, val) = corpus.text.as_bytes().split_at(cut);
        for (what, want, part) in [
            ("training split SHA-256", &s.train_sha256, train),
            ("validation split SHA-256", &s.validation_sha256, val),
        ] {
            let got = crate::sha256_hex(part);
            if let Some(want) = want.as_deref().filter(|&w| w != got) {
                return Err(mismatch(path, what, want, &got));
            }
        }
        Ok(checks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_manifest_parses() {
        for name in Manifest::known() {
            let m = Manifest::find(name).unwrap();
            assert_eq!(m.name, name);
            assert!(!m.files.is_empty() && !m.licence.is_empty() && !m.source.is_empty());
        }
        let e = Manifest::find("nope").unwrap_err().to_string();
        assert!(e.contains("gutenberg_en"), "{e}");
    }

    #[test]
    fn a_changed_file_fails_with_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tinyshakespeare.txt");
        std::fs::write(&path, "not shakespeare").unwrap();
        let m = Manifest::find("tinyshakespeare").unwrap();
        let e = m.verify(&path).unwrap_err().to_string();
        assert!(
            e.contains("size") && e.contains("1115394") && e.contains("15"),
            "{e}"
        );
    }
}
