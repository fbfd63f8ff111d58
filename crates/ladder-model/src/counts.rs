//! Closed-form parameter and FLOP counts.

use serde::Serialize;

use crate::{GptConfig, PositionEncoding};

/// Parameter counts under both conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamCounts {
    /// Every parameter, embeddings and an untied head included
    /// (the convention of Hoffmann et al. 2022).
    pub total: u64,
    /// Every parameter except the token and position embeddings and the LM head
    /// matrix, which is a vocabulary embedding too (Kaplan et al. 2020, §2.1).
    pub non_embedding: u64,
}

impl ParamCounts {
    /// Counts for `config`, including biases and LayerNorm gains and shifts.
    ///
    /// Per block: LayerNorm `2d`, QKV `3d² + 3d`, output projection `d² + d`,
    /// LayerNorm `2d`, MLP `d·f + f + f·d + d`; then a final LayerNorm `2d`.
    pub fn of(config: &GptConfig) -> Self {
        let (d, f, l, v) = (
            config.d_model as u64,
            config.d_ff as u64,
            config.n_layer as u64,
            config.vocab as u64,
        );
        let per_block = 4 * d * d + 2 * d * f + 9 * d + f;
        let non_embedding = l * per_block + 2 * d;
        let positions = match config.positions {
            PositionEncoding::Learned => config.context as u64 * d,
            PositionEncoding::Rope => 0,
        };
        let head = if config.tied_head { 0 } else { v * d };
        Self {
            total: non_embedding + v * d + positions + head,
            non_embedding,
        }
    }
}

/// Training FLOPs per token (forward and backward).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FlopCounts {
    /// Kaplan et al. 2020, Table 1: `6·N_nonemb + 6·n_layer·context·d_model`.
    pub kaplan: f64,
    /// Every matrix multiply, the LM head included, with attention over the causal
    /// window: forward QKᵀ and AV cost `2·d·(t+1)` each at position `t`, averaging
    /// `d·(context+1)`; backward is twice forward. Element-wise ops are not counted.
    pub exact: f64,
}

impl FlopCounts {
    /// Counts for `config`.
    pub fn of(config: &GptConfig) -> Self {
        let (d, f, l, v, t) = (
            config.d_model as f64,
            config.d_ff as f64,
            config.n_layer as f64,
            config.vocab as f64,
            config.context as f64,
        );
        let non_embedding = ParamCounts::of(config).non_embedding as f64;
        let matmul_weights = l * (4.0 * d * d + 2.0 * d * f) + v * d;
        Self {
            kaplan: 6.0 * non_embedding + 6.0 * l * t * d,
            exact: 6.0 * matmul_weights + 6.0 * l * d * (t + 1.0),
        }
    }
}
