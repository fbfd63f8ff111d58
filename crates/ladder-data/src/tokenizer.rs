//! Tokenizers: bytes (vocabulary 256, the default), or byte-level BPE trained on the
//! training split with the `tokenizers` crate (GPT-2's pre-tokenizer, no normaliser, so
//! `decode(encode(text)) == text` for any UTF-8 text).

use std::ops::Range;
use std::path::Path;

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer as HfTokenizer};

use crate::DataError;

/// GPT-2's end-of-text token, a special token of every trained BPE: the text of the
/// default document separator's middle line encodes to it.
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// Which tokenizer, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerSpec {
    /// Every byte is a token: vocabulary 256.
    Byte,
    /// Byte-level BPE with this many tokens (256 bytes, the end-of-text token, merges).
    Bpe {
        /// Vocabulary size, at least 257.
        vocab: usize,
    },
}

impl TokenizerSpec {
    /// Short name for outputs: `byte` or `bpe-4096`.
    pub fn name(self) -> String {
        match self {
            Self::Byte => "byte".into(),
            Self::Bpe { vocab } => format!("bpe-{vocab}"),
        }
    }

    /// Checks the vocabulary size.
    pub fn validate(self) -> Result<Self, DataError> {
        match self {
            Self::Bpe { vocab } if !(257..=1 << 24).contains(&vocab) => {
                Err(DataError::BadParameter {
                    field: "vocab",
                    message: format!(
                        "{vocab}: a byte-level BPE needs at least 257 tokens (256 bytes and \
                         {END_OF_TEXT})"
                    ),
                })
            }
            ok => Ok(ok),
        }
    }
}

/// A trained tokenizer.
pub struct Tokenizer {
    inner: HfTokenizer,
}

fn hf_error(context: &str) -> impl FnOnce(tokenizers::Error) -> DataError + '_ {
    move |e| DataError::Tokenizer {
        message: format!("{context}: {e}"),
    }
}

impl Tokenizer {
    /// Trains a byte-level BPE of `vocab` tokens on `documents` (the training split only).
    pub fn train_bpe<'a>(
        vocab: usize,
        documents: impl Iterator<Item = &'a str> + Send,
    ) -> Result<Self, DataError> {
        TokenizerSpec::Bpe { vocab }.validate()?;
        let byte_level = ByteLevel::default().add_prefix_space(false);
        let mut inner = HfTokenizer::new(BPE::default());
        inner
            .with_pre_tokenizer(Some(byte_level))
            .with_decoder(Some(ByteLevelDecoder::default()));
        let special = AddedToken::from(END_OF_TEXT, true);
        inner
            .add_special_tokens([special.clone()])
            .map_err(hf_error("adding the end-of-text token"))?;
        let trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab)
            .min_frequency(2)
            .show_progress(false)
            .special_tokens(vec![special])
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build();
        let mut trainer = TrainerWrapper::BpeTrainer(trainer);
        inner
            .train(&mut trainer, documents)
            .map_err(hf_error("training the BPE"))?;
        Ok(Self { inner })
    }

    /// Loads a `tokenizer.json`.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let inner = HfTokenizer::from_file(path).map_err(|e| DataError::Tokenizer {
            message: format!("cannot load {}: {e}", path.display()),
        })?;
        Ok(Self { inner })
    }

    /// Writes `tokenizer.json` (loadable by Python's `tokenizers`).
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        self.inner
            .save(path, false)
            .map_err(|e| DataError::Tokenizer {
                message: format!("cannot write {}: {e}", path.display()),
            })
    }

    /// Number of token ids.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Token ids of `text`; pieces are encoded in parallel and concatenated in order.
    pub fn encode(&self, text: &str, pieces: &[Range<usize>]) -> Result<Vec<u32>, DataError> {
        let inputs: Vec<&str> = pieces.iter().map(|r| &text[r.clone()]).collect();
        let encodings = self
            .inner
            .encode_batch_fast(inputs, false)
            .map_err(hf_error("encoding"))?;
        Ok(encodings
            .iter()
            .flat_map(|e| e.get_ids().iter().copied())
            .collect())
    }

    /// The text of `ids` (special tokens included).
    pub fn decode(&self, ids: &[u32]) -> Result<String, DataError> {
        self.inner.decode(ids, false).map_err(hf_error("decoding"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "The cat sat on the mat.\n<|endoftext|>\nThe dog sat on the log, \
                        naïvely — “quoted” — and  twice-spaced.\n<|endoftext|>\n";

    fn whole() -> Vec<Range<usize>> {
        std::iter::once(0..TEXT.len()).collect()
    }

    #[test]
    fn bpe_round_trips_and_keeps_the_special_token() {
        let tok = Tokenizer::train_bpe(300, std::iter::once(TEXT)).unwrap();
        assert!(tok.vocab_size() <= 300 && tok.vocab_size() > 257);
        let ids = tok.encode(TEXT, &whole()).unwrap();
        assert!(ids.len() < TEXT.len(), "merges shorten the text");
        assert_eq!(tok.decode(&ids).unwrap(), TEXT);
        let eot = tok.inner.token_to_id(END_OF_TEXT).unwrap();
        assert_eq!(ids.iter().filter(|&&i| i == eot).count(), 2);
        // Pieces encode to the same text, in order.
        let cut = TEXT.find("The dog").unwrap();
        let split = tok.encode(TEXT, &[0..cut, cut..TEXT.len()]).unwrap();
        assert_eq!(tok.decode(&split).unwrap(), TEXT);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        tok.save(&path).unwrap();
        let back = Tokenizer::load(&path).unwrap();
        assert_eq!(back.encode(TEXT, &whole()).unwrap(), ids);
    }

    #[test]
    fn too_small_a_vocabulary_is_refused() {
        let e = TokenizerSpec::Bpe { vocab: 100 }
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("vocab") && e.contains("257"), "{e}");
    }
}
