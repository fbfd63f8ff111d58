//! A text corpus as tokens: its bytes (vocabulary 256), or ids from the token cache.
//!
//! Training reads sequences of `context + 1` tokens from the training split in an order
//! shuffled once by the source's seed; sequences overlap by one token, so every training
//! token is a target at most once (single epoch). Validation reads the start of the
//! validation split in order.

use std::path::Path;
use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{Corpus, CorpusSpec, DataError, Sequences, Split, TokenFile, TokenSource};

/// Where the ids live.
enum Tokens {
    /// The corpus text; every byte is a token.
    Bytes(String),
    /// A memory-mapped cache entry.
    Mapped(TokenFile),
}

impl Tokens {
    fn len(&self) -> usize {
        match self {
            Self::Bytes(t) => t.len(),
            Self::Mapped(f) => f.len(),
        }
    }

    fn window(&self, start: usize, n: usize) -> Vec<u32> {
        match self {
            Self::Bytes(t) => t.as_bytes()[start..start + n]
                .iter()
                .map(|&b| u32::from(b))
                .collect(),
            Self::Mapped(f) => (start..start + n).map(|i| f.get(i)).collect(),
        }
    }
}

/// A tokenised corpus with disjoint training and validation splits.
pub struct TextSource {
    label: String,
    tokens: Arc<Tokens>,
    cut: usize,
    vocab: usize,
    seed: u64,
}

impl TextSource {
    /// A single UTF-8 text file as bytes, split by `split`.
    pub fn open(path: &Path, split: Split, seed: u64) -> Result<Self, DataError> {
        let corpus = Corpus::read(&CorpusSpec::text_file(path))?;
        Self::from_corpus(corpus, split, seed, path.display().to_string())
    }

    /// `corpus` as bytes (vocabulary 256), split by `split`; `label` names it in outputs.
    pub fn from_corpus(
        corpus: Corpus,
        split: Split,
        seed: u64,
        label: String,
    ) -> Result<Self, DataError> {
        let cut = split.cut(&corpus)?;
        Ok(Self {
            label: format!("{label}, tokenizer=byte, vocab=256"),
            tokens: Arc::new(Tokens::Bytes(corpus.text)),
            cut,
            vocab: 256,
            seed,
        })
    }

    /// The ids of a token cache entry, split where it was built.
    pub fn from_tokens(file: TokenFile, seed: u64, label: String) -> Self {
        let m = file.meta();
        Self {
            label: format!(
                "{label}, tokenizer={} (sha256 {}), vocab={}, cache={}",
                m.tokenizer,
                &m.tokenizer_sha256[..16],
                m.vocab,
                file.key()
            ),
            cut: m.train_tokens,
            vocab: m.vocab,
            tokens: Arc::new(Tokens::Mapped(file)),
            seed,
        }
    }

    /// Tokens in the training split.
    pub fn train_tokens(&self) -> usize {
        self.cut
    }

    /// Tokens in the validation split.
    pub fn validation_tokens(&self) -> usize {
        self.tokens.len() - self.cut
    }

    /// Number of whole training sequences of `context + 1` tokens, stride `context`.
    fn train_windows(&self, context: usize) -> usize {
        self.cut.saturating_sub(1) / context
    }
}

impl TokenSource for TextSource {
    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn train_capacity(&self, context: usize) -> Option<u64> {
        Some((self.train_windows(context) * context) as u64)
    }

    fn train_sequences(&self, context: usize, replicate: u64) -> Sequences<'_> {
        let mut order: Vec<u32> = (0..self.train_windows(context) as u32).collect();
        // Replicate r shuffles as a source of seed `seed + r` would, so that a sweep's
        // replicate r sees the data order of the same sweep run with `seed + r`.
        let seed = self.seed.wrapping_add(replicate);
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let tokens = Arc::clone(&self.tokens);
        Box::new(
            order
                .into_iter()
                .map(move |w| tokens.window(w as usize * context, context + 1)),
        )
    }

    fn validation_sequences(
        &self,
        context: usize,
        tokens: u64,
    ) -> Result<Vec<Vec<u32>>, DataError> {
        let n = tokens.div_ceil(context as u64) as usize;
        let available = (self.validation_tokens().saturating_sub(1) / context * context) as u64;
        if n * context > available as usize {
            return Err(DataError::NotEnoughTokens {
                split: "validation",
                available,
                requested: (n * context) as u64,
                hint: "lower eval_tokens or give the validation split more of the file",
            });
        }
        Ok((0..n)
            .map(|i| self.tokens.window(self.cut + i * context, context + 1))
            .collect())
    }

    fn entropy_rate(&self) -> Option<f64> {
        None
    }

    fn describe(&self) -> String {
        format!(
            "text({}, tokens={}, train=[0, {}), validation=[{}, {}))",
            self.label,
            self.tokens.len(),
            self.cut,
            self.cut,
            self.tokens.len()
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
        assert_eq!(src.train_tokens(), 900);
        let seqs: Vec<Vec<u32>> = src.train_sequences(8, 0).collect();
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
        let mut firsts: Vec<Vec<u32>> = src.train_sequences(10, 0).collect();
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
