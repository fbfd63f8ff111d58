//! [`RunMeta`]: a run's metadata as one struct, written and read by the one list of
//! attribute names below. `results/README.md` documents each attribute.

use std::collections::HashMap;

use hdf5_pure::AttrValue;
use ladder_core::BudgetRule;

use crate::Attr;

/// A Rust type stored as one HDF5 attribute.
trait AttrType: Sized {
    fn to_attr(&self) -> Attr;
    fn from_attr(value: &AttrValue) -> Option<Self>;
}

impl AttrType for String {
    fn to_attr(&self) -> Attr {
        Attr::Text(self.clone())
    }
    fn from_attr(value: &AttrValue) -> Option<Self> {
        match value {
            AttrValue::VarLenString(s)
            | AttrValue::String(s)
            | AttrValue::AsciiString(s)
            | AttrValue::VarLenAsciiString(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl AttrType for u64 {
    fn to_attr(&self) -> Attr {
        Attr::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
    fn from_attr(value: &AttrValue) -> Option<Self> {
        match value {
            AttrValue::I64(i) => u64::try_from(*i).ok(),
            AttrValue::I32(i) => u64::try_from(*i).ok(),
            AttrValue::U64(u) => Some(*u),
            _ => None,
        }
    }
}

impl AttrType for f64 {
    fn to_attr(&self) -> Attr {
        Attr::Float(*self)
    }
    fn from_attr(value: &AttrValue) -> Option<Self> {
        match value {
            AttrValue::F64(x) => Some(*x),
            AttrValue::F32(x) => Some(f64::from(*x)),
            AttrValue::I64(i) => Some(*i as f64),
            AttrValue::I32(i) => Some(f64::from(*i)),
            AttrValue::U64(u) => Some(*u as f64),
            _ => None,
        }
    }
}

/// Stored as 1 or 0, so that h5py and pandas read a number.
impl AttrType for bool {
    fn to_attr(&self) -> Attr {
        Attr::Int(i64::from(*self))
    }
    fn from_attr(value: &AttrValue) -> Option<Self> {
        match u64::from_attr(value)? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// `None` is stored as NaN, so that every run has the same attributes.
impl AttrType for Option<f64> {
    fn to_attr(&self) -> Attr {
        Attr::Float(self.unwrap_or(f64::NAN))
    }
    fn from_attr(value: &AttrValue) -> Option<Self> {
        f64::from_attr(value).map(|x| (!x.is_nan()).then_some(x))
    }
}

/// `None` is stored as the text `none`.
impl AttrType for Option<BudgetRule> {
    fn to_attr(&self) -> Attr {
        Attr::Text(self.map_or("none", |r| r.name()).to_string())
    }
    fn from_attr(value: &AttrValue) -> Option<Self> {
        match String::from_attr(value)?.as_str() {
            "none" => Some(None),
            name => name.parse().ok().map(Some),
        }
    }
}

/// Defines [`RunMeta`] and its attribute names from one list.
macro_rules! run_meta {
    ($($(#[$doc:meta])* $field:ident: $ty:ty = $name:literal,)+) => {
        /// A run's metadata: what was trained, on what data, with which settings, where
        /// and by which code. One HDF5 attribute per field, named as `results/README.md`
        /// documents; the run's status and times are kept beside it in
        /// [`RunRecord`](crate::RunRecord).
        #[derive(Debug, Clone, PartialEq)]
        pub struct RunMeta {
            $($(#[$doc])* pub $field: $ty,)+
        }

        impl RunMeta {
            /// Every attribute name, in the order the fields are written.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// Every field as `(attribute name, value)`, in the order of [`Self::NAMES`].
            pub fn attrs(&self) -> Vec<(&'static str, Attr)> {
                vec![$(($name, self.$field.to_attr())),+]
            }

            /// The fields from a run's attributes; the error names the first one missing
            /// or of the wrong type.
            pub(crate) fn from_attrs(attrs: &HashMap<String, AttrValue>) -> Result<Self, String> {
                Ok(Self {
                    $($field: attrs
                        .get($name)
                        .and_then(<$ty as AttrType>::from_attr)
                        .ok_or_else(|| wrong($name, attrs.get($name)))?,)+
                })
            }
        }
    };
}

/// Why an attribute could not be read.
fn wrong(name: &str, value: Option<&AttrValue>) -> String {
    match value {
        None => format!("attribute `{name}` is missing"),
        Some(v) => format!("attribute `{name}` has the wrong type or value ({v:?})"),
    }
}

run_meta! {
    /// `d<d_model>-l<n_layer>-h<n_head>-D<tokens>`.
    run_id: String = "run_id",
    /// The sweep's name.
    sweep: String = "sweep",
    /// The full TOML text of the sweep config.
    config: String = "config",
    /// Every parameter (Hoffmann et al. 2022's convention).
    n_total: u64 = "N_total",
    /// Parameters without the embeddings and the LM head (Kaplan et al. 2020's).
    n_nonemb: u64 = "N_nonemb",
    /// Training tokens, a whole number of steps.
    d: u64 = "D",
    /// `6·N_total·D`.
    c_6nd_total: f64 = "C_6nd_total",
    /// `6·N_nonemb·D`.
    c_6nd_nonemb: f64 = "C_6nd_nonemb",
    /// `D ×` Kaplan's FLOPs per token.
    c_kaplan: f64 = "C_kaplan",
    /// `D ×` the exact FLOPs per token.
    c_exact: f64 = "C_exact",
    /// An IsoFLOP run's planned budget C.
    c_budget: Option<f64> = "C_budget",
    /// How an IsoFLOP design derived D from `c_budget`.
    budget_rule: Option<BudgetRule> = "budget_convention",
    /// `6·N_nonemb + 6·n_layer·context·d_model` (Kaplan et al. 2020, Table 1).
    flops_per_token_kaplan: f64 = "flops_per_token_kaplan",
    /// Every matmul, the LM head and causal attention included.
    flops_per_token_exact: f64 = "flops_per_token_exact",
    /// Seed of the initial weights and of the data order.
    seed: u64 = "seed",
    /// Vocabulary size.
    vocab: u64 = "vocab",
    /// Context length.
    context: u64 = "context",
    /// Residual width.
    d_model: u64 = "d_model",
    /// Blocks.
    n_layer: u64 = "n_layer",
    /// Attention heads.
    n_head: u64 = "n_head",
    /// MLP width.
    d_ff: u64 = "d_ff",
    /// `learned` or `rope`.
    positions: String = "positions",
    /// Whether the LM head shares the embedding.
    tied_head: bool = "tied_head",
    /// Sequences per step.
    batch_size: u64 = "batch_size",
    /// `f32` or `bf16`.
    precision: String = "precision",
    /// `cosine` or `wsd(cooldown=…, 1-sqrt|linear[, branched])`.
    schedule: String = "schedule",
    /// The step where the learning rate starts to fall.
    decay_start_step: u64 = "decay_start_step",
    /// Optimiser steps.
    steps: u64 = "steps",
    /// Peak learning rate.
    lr: f64 = "lr",
    /// Warmup steps.
    warmup_steps: u64 = "warmup_steps",
    /// Final learning rate as a fraction of the peak.
    lr_floor: f64 = "lr_floor",
    /// AdamW β1.
    beta1: f64 = "beta1",
    /// AdamW β2.
    beta2: f64 = "beta2",
    /// Decoupled weight decay on matrices.
    weight_decay: f64 = "weight_decay",
    /// Global gradient-norm clip (0: none).
    grad_clip: f64 = "grad_clip",
    /// The token source, described; a token cache is named by its key, not its path.
    data: String = "data",
    /// `synthetic`, `byte` or `bpe-<vocab>`.
    tokenizer: String = "tokenizer",
    /// Tokens in the fixed validation set.
    eval_tokens: u64 = "eval_tokens",
    /// Git commit of the code (`unknown` outside a checkout).
    git_commit: String = "git_commit",
    /// Versions of ladder and its key crates.
    versions: String = "versions",
    /// Where it trained: `cpu` or `cuda:<n>`.
    device: String = "device",
    /// Threads of the run's pool.
    threads: u64 = "threads",
    /// A synthetic source's exact entropy rate in nats/token.
    entropy_rate: Option<f64> = "entropy_rate",
}

impl RunMeta {
    /// N under a parameter convention.
    pub fn n(&self, params: ladder_core::ParamCount) -> u64 {
        match params {
            ladder_core::ParamCount::Total => self.n_total,
            ladder_core::ParamCount::NonEmbedding => self.n_nonemb,
        }
    }

    /// The run's compute under a budget rule: `6·N·D` or the exact count.
    pub fn compute(&self, rule: BudgetRule) -> f64 {
        match rule {
            BudgetRule::SixNd(ladder_core::ParamCount::Total) => self.c_6nd_total,
            BudgetRule::SixNd(ladder_core::ParamCount::NonEmbedding) => self.c_6nd_nonemb,
            BudgetRule::Exact => self.c_exact,
        }
    }
}
