//! The sweep file as written: serde structs that mirror the TOML exactly. Unknown keys
//! are errors. [`crate::Plan::new`] validates and derives everything else.

use std::path::Path;

use serde::Deserialize;

use crate::SweepError;

/// A sweep config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Name of the sweep.
    pub name: String,
    /// Seed of the data order and of every run's initial weights.
    #[serde(default)]
    pub seed: u64,
    /// Token source.
    pub data: DataConfig,
    /// Model shapes.
    pub model: ModelConfig,
    /// Token budgets.
    pub tokens: TokensConfig,
    /// Optimiser and schedule.
    pub train: TrainConfig,
    /// Evaluation cadence and set.
    pub eval: EvalConfig,
    /// A design from the data and the clock: budgets, sizes and seeds chosen by
    /// `ladder plan`/`ladder run` (ladder-lab's `auto` module) when `[tokens]` gives no
    /// budgets.
    pub design: Option<DesignConfig>,
}

/// `[design]`: what the automatic IsoFLOP design may spend and must achieve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignConfig {
    /// Wall-clock minutes the whole ladder may take on this machine.
    pub minutes: f64,
    /// Parallel jobs it will train with (default: one per core).
    pub jobs: Option<usize>,
    /// Assume this training speed per job, in FLOPs per second counted as 6·N·D (2·N per
    /// evaluated token), instead of timing each size here: to design for a machine other
    /// than this one (a GPU config planned on a laptop), or to make the design
    /// reproducible.
    pub flops_per_second: Option<f64>,
    /// Seed counts to consider (default [1, 2, 3]).
    pub seeds: Option<Vec<u64>>,
    /// Sizes every budget must have on each side of its expected optimum (default 2).
    pub bracket: Option<usize>,
    /// Sizes added on each side beyond the bracket, against a misplaced prior (default 1).
    pub margin: Option<usize>,
    /// Factor between neighbouring budgets (default √10: two per decade).
    pub spacing: Option<f64>,
    /// Decades of compute to consider (default [1, 1.5, 2, 2.5, 3]).
    pub decades: Option<Vec<f64>>,
    /// The fewest optimizer steps any run may take (default 0: no rule). A run of a few
    /// hundred steps is still optimisation-limited, and its loss moves with the seed far
    /// more than a longer run's; this keeps such runs out of the design, which then
    /// starts its bottom budget higher.
    pub min_steps: Option<u64>,
    /// Keep only layouts with at least two budgets at or below `C_max / held_out`, so that
    /// the law fitted on them can be checked at the top budget (`ladder fit
    /// --extrapolate-k`, whose held-out check needs two small budgets); default: no rule.
    /// With the default spacing (√10) and `held_out = 8` that takes 1.5 decades or more.
    pub held_out: Option<f64>,
    /// The prior law the simulator draws from and whose optimum centres each budget's
    /// sizes: a preset name or a fit.json (relative to the config file).
    pub law: String,
    /// Relative noise of a run's loss (default: the fit.json's seed SD, else its residual
    /// RMS, else 0.01).
    pub noise: Option<f64>,
    /// The share of that noise's variance which a model's runs of one seed have in common
    /// under WSD branching (default: the one the fit.json measured, `approach2.noise.shared`;
    /// 0 without branching): simulated as one draw per model and seed.
    pub shared: Option<f64>,
    /// Relative deviation from the law per point, shared by its seeds (default 0).
    pub misfit: Option<f64>,
    /// Relative deviation from the law per model (N), shared by all its runs (default 0).
    pub model_misfit: Option<f64>,
    /// Simulated sweeps per candidate design (default 8).
    pub reps: Option<usize>,
    /// Bootstrap resamples of each simulated fit (default 200).
    pub bootstrap: Option<usize>,
}

/// `[data]`: the synthetic chain or a text file.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DataConfig {
    /// The embedded synthetic Markov source.
    Markov {
        /// Vocabulary size.
        vocab: usize,
        /// Chain order.
        order: usize,
        /// Next-token support per context.
        successors: usize,
        /// Zipf exponent of token frequencies.
        #[serde(default = "one")]
        zipf: f64,
        /// Unigram mixing weight.
        #[serde(default = "default_smoothing")]
        smoothing: f64,
    },
    /// The embedded source of facts to memorise with Zipf frequencies
    /// (`ladder_data::QuantaSource`); `[model] context` must be a multiple of its fact
    /// length `1 + key_len + value_len`.
    Quanta {
        /// Distinct facts.
        #[serde(default = "default_keys")]
        keys: usize,
        /// Letters; the vocabulary is one more (the separator).
        #[serde(default = "default_alphabet")]
        alphabet: usize,
        /// Letters per key.
        #[serde(default = "default_key_len")]
        key_len: usize,
        /// Letters per value.
        #[serde(default = "default_value_len")]
        value_len: usize,
        /// Zipf exponent of the keys' frequencies.
        #[serde(default = "default_quanta_zipf")]
        zipf: f64,
    },
    /// A text corpus: a file, a directory of files or JSON Lines, any gzipped.
    Text {
        /// Path, relative to the config file's directory when not absolute.
        path: String,
        /// A known corpus (`datasets/NAME.toml`): its checksums are verified and its
        /// format, separator and split rule are used.
        corpus: Option<String>,
        /// `text` or `jsonl` (default: from each file's name).
        format: Option<String>,
        /// The JSON field with the text (default `text`).
        field: Option<String>,
        /// What ends each document.
        separator: Option<String>,
        /// Validation: the last fraction of the bytes (whole documents when several).
        split_fraction: Option<f64>,
        /// Validation: from this byte.
        split_offset: Option<u64>,
        /// Validation: the last N documents.
        split_documents: Option<usize>,
        /// `byte` (default, vocabulary 256) or `bpe`.
        tokenizer: Option<String>,
        /// BPE vocabulary size.
        vocab: Option<usize>,
        /// Token cache directory (default `$LADDER_CACHE`, else ~/.cache/ladder).
        cache_dir: Option<String>,
    },
}

fn one() -> f64 {
    1.0
}

fn default_smoothing() -> f64 {
    0.05
}

fn default_keys() -> usize {
    1024
}

fn default_alphabet() -> usize {
    32
}

fn default_key_len() -> usize {
    2
}

fn default_value_len() -> usize {
    6
}

fn default_quanta_zipf() -> f64 {
    1.5
}

/// One explicit model shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapeConfig {
    /// Residual width.
    pub d_model: usize,
    /// Blocks.
    pub n_layer: usize,
    /// Heads.
    pub n_head: usize,
    /// MLP width (default `4·d_model`).
    pub d_ff: Option<usize>,
}

/// `[model]`: shapes listed or derived from a size knob, plus shared settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Context length.
    pub context: usize,
    /// `learned` or `rope`.
    #[serde(default = "learned")]
    pub positions: String,
    /// Tie the LM head to the embedding.
    #[serde(default = "yes")]
    pub tied_head: bool,
    /// Explicit shapes.
    pub shapes: Option<Vec<ShapeConfig>>,
    /// Size knobs, each expanded by [`crate::shape_for_size`] (whole or fractional).
    pub sizes: Option<Vec<f64>>,
    /// `standard` (GPT-2's, default) or `mup` (μP: the learning rate tuned at
    /// `base_width` holds at every width).
    pub parametrization: Option<String>,
    /// μP: the width at which `train.lr` is the rate of the hidden matrices.
    pub base_width: Option<usize>,
}

fn learned() -> String {
    "learned".into()
}

fn yes() -> bool {
    true
}

/// `[tokens]`: D as counts or as multiples of the parameter count.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    /// Training tokens per run.
    pub counts: Option<Vec<f64>>,
    /// Tokens per parameter.
    pub per_param: Option<Vec<f64>>,
    /// IsoFLOP budgets C in FLOPs: each model trains at each budget with D from C.
    pub budgets: Option<Vec<f64>>,
    /// How D follows from a budget: `6nd` (C = 6·N·D) or `exact` (every matmul).
    #[serde(default = "six_nd")]
    pub flops: String,
    /// IsoFLOP: train only this many sizes per budget, those nearest (in log N) to the
    /// expected optimum N*(C) (see `expected_ratio` and `expected_exponent`).
    pub sizes_per_budget: Option<usize>,
    /// IsoFLOP with `sizes_per_budget`: the tokens per parameter expected at the optimum
    /// of the largest budget, which centres the sizes there: N*(C_max) = √(C_max/(6·r))
    /// (default 20, Chinchilla's D ≈ 20 N). Move it when a pilot shows the minima at one
    /// edge of the sampled sizes.
    pub expected_ratio: Option<f64>,
    /// IsoFLOP with `expected_ratio`: the exponent a of N*(C) ∝ C^a along which the other
    /// budgets' sizes are centred, N*(C) = N*(C_max)·(C/C_max)^a (default 0.5: the same
    /// ratio at every budget; a fitted law's is β/(α+β)).
    pub expected_exponent: Option<f64>,
    /// Parameter count that `per_param` multiplies: `total` or `non-embedding`.
    #[serde(default = "total")]
    pub params: String,
}

fn total() -> String {
    ladder_core::ParamCount::Total.name().into()
}

/// `[train]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Sequences per step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warmup steps (capped at a tenth of each run); default 20 unless
    /// `warmup_fraction` is given.
    pub warmup_steps: Option<u64>,
    /// Warmup as a fraction of each run's steps, at least `warmup_min_steps` and at most
    /// `warmup_max_steps`.
    pub warmup_fraction: Option<f64>,
    /// Warmup of this many tokens per parameter (N under `tokens.params`), at least
    /// `warmup_min_steps` and at most `warmup_max_steps`: each model's warmup whatever
    /// its runs' lengths, so that a WSD model's runs share it without the design setting it.
    pub warmup_tokens_per_param: Option<f64>,
    /// With `warmup_fraction` or `warmup_tokens_per_param`: the fewest warmup steps
    /// (default 10).
    pub warmup_min_steps: Option<u64>,
    /// With `warmup_fraction` or `warmup_tokens_per_param`: the most warmup steps
    /// (default: no cap).
    pub warmup_max_steps: Option<u64>,
    /// The batch rule: each model trains with the largest of `batch_size`,
    /// `batch_size/2`, `batch_size/4`, … (down to `min_batch_size`) that gives its
    /// shortest run at least this many steps, at a learning rate scaled by
    /// √(batch / batch_size). Unset: every run uses `batch_size`.
    pub min_steps: Option<u64>,
    /// The batch rule's smallest batch (default 1).
    pub min_batch_size: Option<usize>,
    /// Seed replicates: each (N, D) point is trained this many times, replicate r with
    /// initial weights and data order of seed `seed + r` (default 1).
    pub seeds: Option<u64>,
    /// Final learning rate as a fraction of the peak.
    #[serde(default = "default_floor")]
    pub lr_floor: f64,
    /// AdamW β1.
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    /// AdamW β2.
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    /// Decoupled weight decay on matrices.
    #[serde(default = "default_wd")]
    pub weight_decay: f64,
    /// Global gradient-norm clip (0 disables).
    #[serde(default = "one")]
    pub grad_clip: f64,
    /// Scale the learning rate with width: `lr` is the rate at this d_model, and a model
    /// of width d trains at `lr · lr_width / d` (μP's rule for Adam, Yang et al. 2022).
    pub lr_width: Option<usize>,
    /// A table of tuned learning rates per model (from `ladder tune`), relative to the
    /// config file; it overrides `lr` and `lr_width`.
    pub lr_table: Option<String>,
    /// Learning-rate schedule: "cosine" or "wsd" (warmup-stable-decay).
    #[serde(default = "cosine_name")]
    pub schedule: String,
    /// WSD: fraction of each run spent cooling down.
    #[serde(default = "default_cooldown")]
    pub cooldown: f64,
    /// WSD: cooldown shape, "1-sqrt" or "linear".
    #[serde(default = "default_cooldown_shape")]
    pub cooldown_shape: String,
    /// WSD: train each model's lengths as cooldown branches of one stable phase.
    #[serde(default)]
    pub branching: bool,
    /// Precision of the matrix products: "f32", or "bf16" autocast (for GPUs).
    #[serde(default = "f32_name")]
    pub precision: String,
}

fn six_nd() -> String {
    ladder_core::FlopCount::SixNd.name().into()
}
fn cosine_name() -> String {
    "cosine".into()
}
fn default_cooldown() -> f64 {
    0.2
}
fn default_cooldown_shape() -> String {
    "1-sqrt".into()
}
fn f32_name() -> String {
    "f32".into()
}

fn default_floor() -> f64 {
    0.1
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.95
}
fn default_wd() -> f64 {
    0.1
}

/// `[eval]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// Evaluate every this many training tokens (rounded to whole steps).
    pub every_tokens: u64,
    /// Size of the fixed validation set in tokens.
    pub tokens: u64,
}

impl SweepConfig {
    /// Parses TOML text; `path` labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SweepError> {
        toml::from_str(text).map_err(|e| SweepError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}
