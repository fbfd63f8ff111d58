//! Token sources for ladder.
//!
//! - [`MarkovSource`]: the embedded default, a seeded order-k Markov chain with a
//!   Zipf-distributed vocabulary and sparse next-token distributions, whose exact
//!   entropy rate is known;
//! - [`QuantaSource`]: facts to memorise with Zipf frequencies (the quantization model of
//!   Michaud et al. 2023), also with an exact entropy rate;
//! - [`TextSource`]: a UTF-8 text file as bytes (vocabulary 256) with a validation split
//!   by fraction or byte offset.
//!
//! All implement [`TokenSource`]: a single-epoch stream of training sequences (no
//! training token is used twice) and one fixed validation set.
#![deny(missing_docs)]

mod cache;
mod corpus;
mod distribution;
mod error;
mod manifest;
mod markov;
mod quanta;
mod source;
mod split;
mod text;
mod tokenizer;

pub use cache::{sha256_hex, CacheMeta, TokenFile};
pub use corpus::{Corpus, CorpusSpec, Format, DEFAULT_SEPARATOR};
pub use error::DataError;
pub use manifest::{FileCheck, Manifest, ManifestFile, ManifestSplit};
pub use markov::{MarkovConfig, MarkovSource};
pub use quanta::{QuantaConfig, QuantaSource};
pub use source::{Sequences, TokenSource};
pub use split::Split;
pub use text::TextSource;
pub use tokenizer::{Tokenizer, TokenizerSpec, END_OF_TEXT};
