//! A synthetic source of *quanta*: facts to memorise, drawn with Zipf frequencies, after
//! Michaud et al. 2023 ("The Quantization Model of Neural Scaling").
//!
//! The stream is a sequence of independent facts, each `1 + key_len + value_len` tokens:
//! a separator (token 0), a key spelled in `key_len` letters, and the `value_len` letters
//! that belong to that key. Key `r` (rank 0, 1, …, `keys − 1`) is drawn with probability
//! `p_r ∝ (r + 1)^(−zipf)`; its spelling (distinct per key) and its value are fixed by the
//! seed. Letters are tokens `1..=alphabet`.
//!
//! Only the key is random, so a model that has memorised every key's value and the key
//! frequencies reaches `H(p) / fact_len` nats per token, the exact entropy rate. A model
//! that knows the values of the most frequent keys only pays `ln(alphabet)`-ish nats per
//! value token of the others, so the loss above the floor is the mass of the keys not yet
//! learned: a model learns more of them as it grows (capacity) and as it reads more
//! (exposures). In the quantization model a Zipf tail `p_r ∝ r^(−zipf)` makes both
//! power laws, with `α_N = zipf − 1`; whether a small transformer follows them is what a
//! ladder measures (docs/LOG.md).
//!
//! Windows are cut from the stream without a gap, so when the model's context is a
//! multiple of the fact length every window starts at a separator and every target sees
//! its whole fact before it: the entropy rate is then the floor of the loss as ladder
//! measures it. `ladder-sweep` refuses other contexts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::distribution::{cumulative, sample_cdf, zipf};
use crate::source::{train_stream, windows, VALIDATION_STREAM};
use crate::{DataError, Sequences, TokenSource};

/// Most keys the source will tabulate (their spellings and values are held in memory).
const MAX_KEYS: usize = 1 << 20;

/// Parameters of the source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantaConfig {
    /// Number of distinct facts.
    pub keys: usize,
    /// Letters (the vocabulary is `alphabet + 1`, with the separator).
    pub alphabet: usize,
    /// Letters that spell a key.
    pub key_len: usize,
    /// Letters of a key's value.
    pub value_len: usize,
    /// Zipf exponent of the keys' frequencies.
    pub zipf: f64,
    /// Seed of the spellings, the values and the streams.
    pub seed: u64,
}

impl QuantaConfig {
    /// Tokens per fact: the separator, the key and the value.
    pub fn fact_len(&self) -> usize {
        1 + self.key_len + self.value_len
    }

    fn validate(&self) -> Result<(), DataError> {
        let bad = |field, message: String| Err(DataError::BadParameter { field, message });
        if !(2..=65_535).contains(&self.alphabet) {
            return bad(
                "alphabet",
                format!("{} is out of range: use 2..=65535", self.alphabet),
            );
        }
        if self.key_len == 0 || self.value_len == 0 {
            let field = if self.key_len == 0 {
                "key_len"
            } else {
                "value_len"
            };
            return bad(field, "must be at least 1".into());
        }
        let spellings = (self.alphabet as f64).powi(self.key_len.min(64) as i32);
        if !(2..=MAX_KEYS).contains(&self.keys) || self.keys as f64 > spellings {
            return bad(
                "keys",
                format!(
                    "{} is out of range: use 2 to {} (at most alphabet^key_len = {spellings:.0} \
                     distinct spellings, and at most {MAX_KEYS}); raise key_len or alphabet \
                     for more keys",
                    self.keys,
                    (spellings.min(MAX_KEYS as f64)) as usize
                ),
            );
        }
        if !(self.zipf.is_finite() && self.zipf >= 0.0) {
            return bad("zipf", format!("{} must be finite and >= 0", self.zipf));
        }
        Ok(())
    }
}

/// The facts, their frequencies and the entropy rate.
pub struct QuantaSource {
    config: QuantaConfig,
    /// `fact_len − 1` letters per key: its spelling, then its value.
    facts: Vec<u32>,
    key_cdf: Vec<f64>,
    entropy_rate: f64,
}

impl QuantaSource {
    /// Draws the spellings and values and computes the entropy rate.
    pub fn new(config: QuantaConfig) -> Result<Self, DataError> {
        config.validate()?;
        let (a, k) = (config.alphabet as u64, config.keys);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x7175_616e_7461);
        let mut seen = std::collections::HashSet::with_capacity(k);
        let mut facts = Vec::with_capacity(k * (config.fact_len() - 1));
        let letter = |rng: &mut ChaCha8Rng| 1 + rng.random_range(0..a) as u32;
        while seen.len() < k {
            let spelling: Vec<u32> = (0..config.key_len).map(|_| letter(&mut rng)).collect();
            if seen.insert(spelling.clone()) {
                facts.extend(spelling);
                facts.extend((0..config.value_len).map(|_| letter(&mut rng)));
            }
        }
        let p = zipf(k, config.zipf);
        let h: f64 = p.iter().filter(|&&q| q > 0.0).map(|&q| -q * q.ln()).sum();
        let key_cdf = cumulative(&p);
        Ok(Self {
            config,
            facts,
            key_cdf,
            entropy_rate: h / config.fact_len() as f64,
        })
    }

    /// The source's parameters.
    pub fn config(&self) -> &QuantaConfig {
        &self.config
    }

    /// The letters of key `rank`: its spelling, then its value.
    pub fn fact(&self, rank: usize) -> &[u32] {
        let w = self.config.fact_len() - 1;
        &self.facts[rank * w..(rank + 1) * w]
    }

    /// The probability of key `rank`.
    pub fn key_probability(&self, rank: usize) -> f64 {
        self.key_cdf[rank]
            - if rank == 0 {
                0.0
            } else {
                self.key_cdf[rank - 1]
            }
    }

    /// An endless stream of facts; `stream` separates independent streams.
    fn tokens(&self, stream: u64) -> impl Iterator<Item = u32> + Send + '_ {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(stream);
        let mut pending: &[u32] = &[];
        // A separator, then the letters of a key drawn by its frequency, and again.
        std::iter::from_fn(move || match pending.split_first() {
            Some((&t, rest)) => {
                pending = rest;
                Some(t)
            }
            None => {
                pending = self.fact(sample_cdf(&self.key_cdf, rng.random()) as usize);
                Some(0)
            }
        })
    }
}

impl TokenSource for QuantaSource {
    fn vocab_size(&self) -> usize {
        self.config.alphabet + 1
    }

    fn train_capacity(&self, _context: usize) -> Option<u64> {
        None
    }

    fn train_sequences(&self, context: usize, replicate: u64) -> Sequences<'_> {
        Box::new(windows(self.tokens(train_stream(replicate)), context))
    }

    fn validation_sequences(
        &self,
        context: usize,
        tokens: u64,
    ) -> Result<Vec<Vec<u32>>, DataError> {
        let n = tokens.div_ceil(context as u64) as usize;
        Ok(windows(self.tokens(VALIDATION_STREAM), context)
            .take(n)
            .collect())
    }

    fn entropy_rate(&self) -> Option<f64> {
        Some(self.entropy_rate)
    }

    fn describe(&self) -> String {
        let c = &self.config;
        format!(
            "quanta(keys={}, alphabet={}, key_len={}, value_len={}, zipf={}, seed={})",
            c.keys, c.alphabet, c.key_len, c.value_len, c.zipf, c.seed
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config() -> QuantaConfig {
        QuantaConfig {
            keys: 24,
            alphabet: 5,
            key_len: 2,
            value_len: 3,
            zipf: 1.2,
            seed: 3,
        }
    }

    /// Windows of a multiple of the fact length start at a separator, every key's value
    /// is always the same, and spellings are distinct.
    #[test]
    fn facts_are_aligned_and_fixed() {
        let src = QuantaSource::new(config()).unwrap();
        let l = config().fact_len();
        let mut values = HashMap::<Vec<u32>, Vec<u32>>::new();
        for seq in src.train_sequences(4 * l, 0).take(500) {
            assert_eq!(seq.len(), 4 * l + 1);
            for fact in seq[..4 * l].chunks(l) {
                assert_eq!(fact[0], 0, "{seq:?}");
                assert!(fact[1..].iter().all(|&t| (1..=5).contains(&t)));
                let (key, value) = fact[1..].split_at(2);
                let known = values.entry(key.to_vec()).or_insert(value.to_vec());
                assert_eq!(known, value, "key {key:?}");
            }
            assert_eq!(seq[4 * l], 0, "the overlap token is the next separator");
        }
        assert!(values.len() > 15, "{} keys seen", values.len());
        let spellings: std::collections::HashSet<_> =
            (0..24).map(|r| src.fact(r)[..2].to_vec()).collect();
        assert_eq!(spellings.len(), 24);
    }

    /// The plug-in entropy of a long sample of facts, per token, approaches the exact
    /// rate, and the key frequencies follow the Zipf law.
    #[test]
    fn entropy_rate_matches_a_long_sample() {
        let src = QuantaSource::new(config()).unwrap();
        let l = config().fact_len();
        let n = 200_000;
        let toks: Vec<u32> = src.tokens(9).take(n * l).collect();
        let mut counts = HashMap::<&[u32], f64>::new();
        for fact in toks.chunks(l) {
            *counts.entry(fact).or_default() += 1.0;
        }
        let plug_in: f64 = counts
            .values()
            .map(|&c| -(c / n as f64) * (c / n as f64).ln())
            .sum::<f64>()
            / l as f64;
        let exact = src.entropy_rate().unwrap();
        assert!((plug_in - exact).abs() < 0.002, "{plug_in} vs {exact}");
        let top = counts[&[&[0][..], src.fact(0)].concat()[..]] / n as f64;
        assert!((top - src.key_probability(0)).abs() < 0.005, "{top}");
        let ratio = src.key_probability(0) / src.key_probability(1);
        assert!((ratio - 2f64.powf(1.2)).abs() < 1e-9, "{ratio}");
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = QuantaSource::new(config()).unwrap();
        let b = QuantaSource::new(config()).unwrap();
        let ta: Vec<_> = a.train_sequences(12, 0).take(20).collect();
        assert_eq!(ta, b.train_sequences(12, 0).take(20).collect::<Vec<_>>());
        assert_ne!(ta, a.train_sequences(12, 1).take(20).collect::<Vec<_>>());
        assert_ne!(ta, a.validation_sequences(12, 240).unwrap());
        let other = QuantaSource::new(QuantaConfig {
            seed: 4,
            ..config()
        })
        .unwrap();
        assert_ne!(a.fact(0), other.fact(0));
    }

    #[test]
    fn impossible_parameters_are_refused() {
        let too_many = QuantaSource::new(QuantaConfig {
            keys: 26,
            ..config()
        });
        let err = too_many.err().unwrap().to_string();
        assert!(err.starts_with("keys:") && err.contains("25"), "{err}");
        let err = QuantaSource::new(QuantaConfig {
            zipf: f64::NAN,
            ..config()
        })
        .err()
        .unwrap();
        assert!(err.to_string().starts_with("zipf:"), "{err}");
        let err = QuantaSource::new(QuantaConfig {
            value_len: 0,
            ..config()
        })
        .err()
        .unwrap();
        assert!(err.to_string().starts_with("value_len:"), "{err}");
    }
}
