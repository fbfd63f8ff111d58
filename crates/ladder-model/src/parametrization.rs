//! How initialisation, learning rates and the output scale depend on width: GPT-2's
//! standard parametrization, or μP for Adam (Yang et al. 2022, "Tensor Programs V:
//! Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer", Table 3), in which
//! the learning rate tuned at one width is also the best at the others.

use serde::{Deserialize, Serialize};

/// GPT-2's initialisation scale for weight matrices and embeddings.
pub(crate) const INIT_STD: f64 = 0.02;

/// The parametrization of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parametrization {
    /// GPT-2's: every matrix and embedding drawn from N(0, 0.02²), one learning rate for
    /// every variable, logits unscaled.
    #[default]
    Standard,
    /// μP for Adam, relative to a base width. With the width multiplier
    /// `m = d_model / base_width`, as in Microsoft's `mup` package (`MuReadout`, `MuAdam`):
    /// - hidden matrices (attention and MLP): initial std `0.02/√m` (variance ∝ 1/fan-in)
    ///   and learning rate `lr/m`;
    /// - embeddings, biases and LayerNorm gains ("vector-like"): initial values and
    ///   learning rate as at the base width;
    /// - logits multiplied by `1/m` (the readout multiplier; the tied head keeps the
    ///   embedding's learning rate).
    ///
    /// At `d_model = base_width` the model is exactly the standard one. Attention keeps
    /// 1/√d_head: μP asks for 1/d_head, which differs from it only by a constant while the
    /// head width is fixed, as it is for shapes from the size knob (heads of width 16).
    /// Depth follows GPT-2's rule, residual projections initialised at `1/√(2·n_layer)`
    /// of the hidden std; `ladder tune` measures whether the best rate moves with it.
    Mup {
        /// The width at which the learning rate was tuned.
        base_width: usize,
    },
}

impl Parametrization {
    /// `d_model / base_width` under μP, 1 under the standard parametrization.
    pub fn width_multiplier(&self, d_model: usize) -> f64 {
        match *self {
            Self::Standard => 1.0,
            Self::Mup { base_width } => d_model as f64 / base_width as f64,
        }
    }

    /// Initial std of a hidden matrix before any depth scaling.
    pub fn hidden_std(&self, d_model: usize) -> f64 {
        INIT_STD / self.width_multiplier(d_model).sqrt()
    }

    /// The factor on the logits.
    pub fn output_multiplier(&self, d_model: usize) -> f64 {
        1.0 / self.width_multiplier(d_model)
    }

    /// The factor on the learning rate of the variable `name` of rank `rank` in a model of
    /// width `d_model`: `1/m` for hidden matrices under μP, 1 for everything else.
    pub fn lr_multiplier(&self, d_model: usize, name: &str, rank: usize) -> f64 {
        let embedding = matches!(name, "wte.weight" | "wpe.weight" | "lm_head.weight");
        if rank >= 2 && !embedding {
            1.0 / self.width_multiplier(d_model)
        } else {
            1.0
        }
    }

    /// Whether this is the standard parametrization (which serialises to nothing).
    pub fn is_standard(&self) -> bool {
        *self == Self::Standard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mup_scales_hidden_matrices_only() {
        let p = Parametrization::Mup { base_width: 64 };
        assert_eq!(p.width_multiplier(128), 2.0);
        assert!((p.hidden_std(128) - 0.02 / 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(p.output_multiplier(128), 0.5);
        assert_eq!(p.lr_multiplier(128, "h.0.attn.qkv.weight", 2), 0.5);
        assert_eq!(p.lr_multiplier(128, "h.0.attn.qkv.bias", 1), 1.0);
        assert_eq!(p.lr_multiplier(128, "wte.weight", 2), 1.0);
        assert_eq!(p.lr_multiplier(128, "ln_f.weight", 1), 1.0);
    }

    #[test]
    fn mup_at_the_base_width_is_standard() {
        let (mup, sp) = (
            Parametrization::Mup { base_width: 48 },
            Parametrization::Standard,
        );
        for name in ["h.1.mlp.fc.weight", "wte.weight"] {
            assert_eq!(
                mup.lr_multiplier(48, name, 2),
                sp.lr_multiplier(48, name, 2)
            );
        }
        assert_eq!(mup.hidden_std(48), sp.hidden_std(48));
        assert_eq!(mup.output_multiplier(48), 1.0);
    }
}
