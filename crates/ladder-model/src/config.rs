//! The shape of a model.

use serde::{Deserialize, Serialize};

use crate::{ModelError, Parametrization};

/// How token positions enter the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionEncoding {
    /// A learned `(context, d_model)` table added to the token embedding (GPT-2).
    Learned,
    /// Rotary embeddings applied to queries and keys (Su et al. 2021); no parameters.
    Rope,
}

/// The shape of a GPT. Build it with [`GptConfig::new`], which validates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GptConfig {
    /// Vocabulary size.
    pub vocab: usize,
    /// Context length in tokens.
    pub context: usize,
    /// Residual width.
    pub d_model: usize,
    /// Number of transformer blocks.
    pub n_layer: usize,
    /// Attention heads per block; divides `d_model`.
    pub n_head: usize,
    /// Hidden width of the MLP (GPT-2: `4·d_model`).
    pub d_ff: usize,
    /// Position encoding.
    pub positions: PositionEncoding,
    /// Whether the LM head shares the token-embedding matrix.
    pub tied_head: bool,
    /// How initialisation, learning rates and logits scale with width.
    #[serde(default, skip_serializing_if = "Parametrization::is_standard")]
    pub parametrization: Parametrization,
}

impl GptConfig {
    /// Validates a shape: every size positive, `n_head` divides `d_model`, and with
    /// RoPE the head width is even.
    pub fn new(config: GptConfig) -> Result<Self, ModelError> {
        let c = config;
        // Upper limits far past any model trained here, low enough that parameter and
        // FLOP counts cannot overflow.
        for (field, v, most) in [
            ("vocab", c.vocab, 1 << 24),
            ("context", c.context, 1 << 20),
            ("d_model", c.d_model, 1 << 17),
            ("n_layer", c.n_layer, 1 << 12),
            ("n_head", c.n_head, 1 << 17),
            ("d_ff", c.d_ff, 1 << 19),
        ] {
            if v == 0 {
                return Err(ModelError::BadShape {
                    field,
                    message: "must be at least 1".into(),
                });
            }
            if v > most {
                return Err(ModelError::BadShape {
                    field,
                    message: format!("{v} is beyond what ladder trains (at most {most})"),
                });
            }
        }
        if !c.d_model.is_multiple_of(c.n_head) {
            return Err(ModelError::BadShape {
                field: "n_head",
                message: format!(
                    "must divide d_model ({}); {} does not: pick a divisor such as {}",
                    c.d_model,
                    c.n_head,
                    largest_divisor_at_most(c.d_model, c.n_head)
                ),
            });
        }
        if c.parametrization == (Parametrization::Mup { base_width: 0 }) {
            return Err(ModelError::BadShape {
                field: "base_width",
                message: "must be a width of at least 1".into(),
            });
        }
        if c.positions == PositionEncoding::Rope && !c.head_dim().is_multiple_of(2) {
            return Err(ModelError::BadShape {
                field: "n_head",
                message: format!(
                    "RoPE needs an even head width, but d_model/n_head = {}: change n_head or use learned positions",
                    c.head_dim()
                ),
            });
        }
        Ok(c)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.n_head
    }
}

fn largest_divisor_at_most(n: usize, k: usize) -> usize {
    (1..=k.min(n))
        .rev()
        .find(|d| n.is_multiple_of(*d))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> GptConfig {
        GptConfig {
            vocab: 64,
            context: 16,
            d_model: 48,
            n_layer: 2,
            n_head: 4,
            d_ff: 192,
            positions: PositionEncoding::Learned,
            tied_head: true,
            parametrization: Parametrization::Standard,
        }
    }

    #[test]
    fn head_count_must_divide_width() {
        let err = GptConfig::new(GptConfig {
            n_head: 5,
            ..shape()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("n_head:") && err.contains("48") && err.contains('4'),
            "{err}"
        );
    }

    #[test]
    fn zero_sizes_are_refused() {
        let err = GptConfig::new(GptConfig {
            n_layer: 0,
            ..shape()
        })
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("n_layer:"), "{err}");
    }

    #[test]
    fn rope_needs_even_head_width() {
        let c = GptConfig {
            d_model: 12,
            n_head: 4,
            positions: PositionEncoding::Rope,
            ..shape()
        };
        assert!(GptConfig::new(c).is_err());
        assert!(GptConfig::new(GptConfig {
            positions: PositionEncoding::Rope,
            ..shape()
        })
        .is_ok());
    }
}
