//! The interface between token sources and training.

use crate::DataError;

/// A boxed stream of training sequences.
pub type Sequences<'a> = Box<dyn Iterator<Item = Vec<u32>> + Send + 'a>;

/// A source of token ids for one sweep: every run reads the same stream in the same
/// order, so a run on `D` tokens sees a prefix of what a longer run sees.
pub trait TokenSource: Send + Sync {
    /// Number of distinct token ids.
    fn vocab_size(&self) -> usize;

    /// Training target tokens the source can deliver in sequences of `context + 1`
    /// tokens without reusing any; `None` when unbounded.
    fn train_capacity(&self, context: usize) -> Option<u64>;

    /// Training sequences of `context + 1` tokens. Consecutive sequences share no
    /// target token: each yields `context` new targets. `replicate` picks the data order:
    /// 0 is the source's own, and each other value an independent one (a seed
    /// replicate's), drawn from the same training split.
    fn train_sequences(&self, context: usize, replicate: u64) -> Sequences<'_>;

    /// The fixed validation set: `ceil(tokens / context)` sequences of `context + 1`
    /// tokens, always the same for the same source.
    fn validation_sequences(&self, context: usize, tokens: u64)
        -> Result<Vec<Vec<u32>>, DataError>;

    /// Exact entropy rate in nats/token, when known (synthetic sources).
    fn entropy_rate(&self) -> Option<f64>;

    /// One line describing the source, stored with every run.
    fn describe(&self) -> String;
}

/// The stream a synthetic source's training replicate reads: stream 1 is the source's own
/// order and stream [`VALIDATION_STREAM`] the validation set, so replicate `r ≥ 1` reads
/// stream `2 + r`.
pub(crate) fn train_stream(replicate: u64) -> u64 {
    if replicate == 0 {
        1
    } else {
        VALIDATION_STREAM + replicate
    }
}

/// The stream of a synthetic source's validation set.
pub(crate) const VALIDATION_STREAM: u64 = 2;

/// Sequences of `context + 1` tokens cut from `tokens` without a gap, each overlapping the
/// one before by one token (so each yields `context` new targets).
pub(crate) fn windows(
    mut tokens: impl Iterator<Item = u32> + Send,
    context: usize,
) -> impl Iterator<Item = Vec<u32>> + Send {
    let mut last: Option<u32> = None;
    std::iter::from_fn(move || {
        let mut seq = Vec::with_capacity(context + 1);
        seq.push(last.or_else(|| tokens.next())?);
        for _ in 0..context {
            seq.push(tokens.next()?);
        }
        last = seq.last().copied();
        Some(seq)
    })
}
