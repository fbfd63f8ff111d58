//! A UTF-8 text file as byte-level tokens (vocabulary 256).
//!
//! Training reads sequences of `context + 1` bytes from the training split in an order
//! shuffled once by the source's seed; sequences overlap by one byte, so every training
//! byte is a target at most once (single epoch). Validation reads the start of the
//! validation split in order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{DataError, Sequences, TokenSource};

/// Where the validation split starts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// The last `fraction` of the file (nanoGPT: 0.1), cut at `floor((1−f)·len)`.
    Fraction(f64),
    /// Validation starts at this byte.
    Offset(u64),
}

/// A byte-level corpus with disjoint training and validation splits.
pub struct TextSource {
    path: PathBuf,
    bytes: Arc<Vec<u8>>,
    cut: usize,
    seed: u64,
}

impl TextSource {
    /// Reads `path`, checks that it is UTF-8 and splits it.
    pub fn open(path: &Path, split: Split, seed: u64) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if let Err(e) = std::str::from_utf8(&bytes) {
            return Err(DataError::NotUtf8 {
                path: path.to_path_buf(),
                offset: e.valid_up_to(),
            });
        }
        let len = bytes.len();
        let cut = match split {
            Split::Fraction(f) if f > 0.0 && f < 1.0 => ((1.0 - f) * len as f64).floor() as usize,
            Split::Fraction(f) => {
                return Err(DataError::BadParameter {
                    field: "split.fraction",
                    message: format!("{f} must be strictly between 0 and 1"),
                })
            }
            Split::Offset(o) if o > 0 && (o as usize) < len => o as usize,
            Split::Offset(o) => {
                return Err(DataError::BadParameter {
                    field: "split.offset",
                    message: format!(
                        "{o} must be inside the file (1..{len}) so that both splits are non-empty"
                    ),
                })
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            bytes: Arc::new(bytes),
            cut,
            seed,
        })
    }

    /// Bytes in the training split.
    pub fn train_bytes(&self) -> usize {
        self.cut
    }

    /// Bytes in the validation split.
    pub fn validation_bytes(&self) -> usize {
        self.bytes.len() - self.cut
    }

    /// Number of whole training sequences of `context + 1` bytes, stride `context`.
    fn train_windows(&self, context: usize) -> usize {
        self.cut.saturating_sub(1) / context
    }
}

impl TokenSource for TextSource {
    fn vocab_size(&self) -> usize {
        256
    }

    fn train_capacity(&self, context: usize) -> Option<u64> {
        Some((self.train_windows(context) * context) as u64)
    }

    fn train_sequences(&self, context: usize) -> Sequences<'_> {
        let mut order: Vec<u32> = (0..self.train_windows(context) as u32).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(self.seed));
        let train = &self.bytes[..self.cut];
        Box::new(order.into_iter().map(move |w| {
            let start = w as usize * context;
            train[start..start + context + 1]
                .iter()
                .map(|&b| u32::from(b))
                .collect()
        }))
    }

    fn validation_sequences(
        &self,
        context: usize,
        tokens: u64,
    ) -> Result<Vec<Vec<u32>>, DataError> {
        let val = &self.bytes[self.cut..];
        let n = tokens.div_ceil(context as u64) as usize;
        let available = (val.len().saturating_sub(1) / context * context) as u64;
        if n * context > available as usize {
            return Err(DataError::NotEnoughTokens {
                split: "validation",
                available,
                requested: (n * context) as u64,
                hint: "lower eval_tokens or give the validation split more of the file",
            });
        }
        Ok((0..n)
            .map(|i| {
                val[i * context..i * context + context + 1]
                    .iter()
                    .map(|&b| u32::from(b))
                    .collect()
            })
            .collect())
    }

    fn entropy_rate(&self) -> Option<f64> {
        None
    }

    fn describe(&self) -> String {
        format!(
            "text({}, bytes={}, train=[0, {}), validation=[{}, {}))",
            self.path.display(),
            self.bytes.len(),
            self.cut,
            self.cut,
            self.bytes.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn corpus(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn splits_never_overlap_and_no_target_repeats() {
        let text: String = (0..1000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let f = corpus(&text);
        let src = TextSource::open(f.path(), Split::Fraction(0.1), 3).unwrap();
        assert_eq!(src.train_bytes(), 900);
        let seqs: Vec<Vec<u32>> = src.train_sequences(8).collect();
        assert_eq!(seqs.len(), 899 / 8);
        assert_eq!(src.train_capacity(8), Some(seqs.len() as u64 * 8));
        let val = src.validation_sequences(8, 40).unwrap();
        assert_eq!(val.len(), 5);
        assert_eq!(val[0][0], u32::from(text.as_bytes()[900]));
    }

    #[test]
    fn training_order_is_a_permutation_of_windows() {
        // Non-periodic text, so that every window is distinct.
        let text: String = (0..300u32)
            .map(|i| char::from(b'a' + ((i * i + 7 * i) % 23) as u8))
            .collect();
        let f = corpus(&text);
        let src = TextSource::open(f.path(), Split::Offset(200), 1).unwrap();
        let mut firsts: Vec<Vec<u32>> = src.train_sequences(10).collect();
        let mut expected: Vec<Vec<u32>> = (0..19)
            .map(|w| {
                text.as_bytes()[w * 10..w * 10 + 11]
                    .iter()
                    .map(|&b| u32::from(b))
                    .collect()
            })
            .collect();
        assert_ne!(firsts, expected, "order is shuffled");
        firsts.sort();
        expected.sort();
        assert_eq!(firsts, expected);
    }

    #[test]
    fn bad_inputs_name_the_problem() {
        let f = corpus("hello world");
        let e = TextSource::open(f.path(), Split::Fraction(1.5), 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("split.fraction"), "{e}");
        let e = TextSource::open(f.path(), Split::Offset(99), 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("split.offset"), "{e}");
        let mut bad = tempfile::NamedTempFile::new().unwrap();
        bad.write_all(&[b'a', 0xff, b'b']).unwrap();
        let e = TextSource::open(bad.path(), Split::Fraction(0.5), 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("byte 1"), "{e}");
        let src = TextSource::open(f.path(), Split::Fraction(0.5), 0).unwrap();
        let e = src.validation_sequences(4, 100).unwrap_err().to_string();
        assert!(e.contains("validation") && e.contains("100"), "{e}");
    }
}
