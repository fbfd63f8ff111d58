//! Numeric claims about scaling laws, recomputed from public numbers (`ladder laws
//! claims`, `docs/claims.toml`), and the public sizes of known models.

use serde::Deserialize;

use crate::{kaplan2020, preset};

/// Public parameter and training-token counts of known models.
pub const MODELS: [(&str, f64, f64, &str); 7] = [
    ("GPT-3 175B", 175e9, 300e9, "Brown et al. 2020, Table 2.2"),
    (
        "Chinchilla 70B",
        70e9,
        1.4e12,
        "Hoffmann et al. 2022, Table 1",
    ),
    ("Llama 2 70B", 70e9, 2e12, "Touvron et al. 2023, Table 1"),
    (
        "Llama 3 8B",
        8e9,
        15e12,
        "Meta 2024, Llama 3 model card (15T+ tokens)",
    ),
    (
        "Llama 3 70B",
        70e9,
        15e12,
        "Meta 2024, Llama 3 model card (15T+ tokens)",
    ),
    (
        "SmolLM3 3B",
        3e9,
        11.2e12,
        "Hugging Face 2025, SmolLM3 blog",
    ),
    (
        "Phi-4-mini 3.8B",
        3.8e9,
        5e12,
        "Microsoft 2025, Phi-4-mini technical report",
    ),
];

/// What a claim asks to compute.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClaimKind {
    /// `D/N`.
    TokensPerParam {
        /// Parameters.
        n: f64,
        /// Training tokens.
        d: f64,
    },
    /// `(D/N) / (D_ref/N_ref)`.
    RatioVs {
        /// Parameters.
        n: f64,
        /// Training tokens.
        d: f64,
        /// Reference parameters.
        n_ref: f64,
        /// Reference tokens.
        d_ref: f64,
    },
    /// `D/N` under the rule `N = k·√(C/6)`, `D = C/(6N)`.
    SqrtRule {
        /// The rule's coefficient.
        k: f64,
        /// Compute.
        c: f64,
    },
    /// `D*/N*` of a preset law at compute `c`.
    LawOptimum {
        /// Preset name.
        law: String,
        /// Compute.
        c: f64,
    },
    /// `a` in `N* ∝ C^a` of a preset law (`kaplan`: Kaplan et al. 2020's 0.73).
    LawExponent {
        /// Preset name or `kaplan`.
        law: String,
    },
}

/// A claim with its source, claimed value and tolerance.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claim {
    /// The claim in words.
    pub text: String,
    /// Where it comes from.
    pub source: String,
    /// What to compute.
    #[serde(flatten)]
    pub kind: ClaimKind,
    /// The claimed value.
    pub claimed: f64,
    /// Relative tolerance within which the claim holds.
    pub rel_tol: f64,
}

/// The file of claims.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The claims, in order.
    pub claim: Vec<Claim>,
}

impl Claim {
    /// The recomputed value; the error names an unknown law.
    pub fn compute(&self) -> Result<f64, String> {
        let law = |name: &str| {
            preset(name)
                .map(|p| p.law)
                .ok_or_else(|| format!("unknown law `{name}` in claim \"{}\"", self.text))
        };
        Ok(match &self.kind {
            ClaimKind::TokensPerParam { n, d } => d / n,
            ClaimKind::RatioVs { n, d, n_ref, d_ref } => (d / n) / (d_ref / n_ref),
            ClaimKind::SqrtRule { k, c } => {
                let n = k * (c / 6.0).sqrt();
                c / (6.0 * n) / n
            }
            ClaimKind::LawOptimum { law: name, c } => {
                let (n, d) = law(name)?.compute_optimal(*c);
                d / n
            }
            ClaimKind::LawExponent { law: name } if name == "kaplan" => kaplan2020::N_OPT_EXPONENT,
            ClaimKind::LawExponent { law: name } => law(name)?.n_exponent(),
        })
    }

    /// Whether `value` is within the claim's tolerance of the claimed value.
    pub fn holds(&self, value: f64) -> bool {
        (value - self.claimed).abs() <= self.rel_tol * self.claimed.abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(kind: ClaimKind, claimed: f64) -> Claim {
        Claim {
            text: "t".into(),
            source: "s".into(),
            kind,
            claimed,
            rel_tol: 0.05,
        }
    }

    /// By hand: 15e12/70e9 = 214.3; (15e12/70e9)/(1.4e12/70e9) = 15/1.4 = 10.7; the √ rule
    /// gives D/N = C/(6N²) = C/(6·0.36·C/6) = 1/0.36 = 2.78 at any C.
    #[test]
    fn claims_recompute_by_hand_values() {
        let tpp = claim(ClaimKind::TokensPerParam { n: 70e9, d: 15e12 }, 214.0);
        assert!((tpp.compute().unwrap() - 214.2857).abs() < 1e-3 && tpp.holds(214.2857));
        let ratio = ClaimKind::RatioVs {
            n: 70e9,
            d: 15e12,
            n_ref: 70e9,
            d_ref: 1.4e12,
        };
        let vs = claim(ratio.clone(), 200.0);
        assert!((vs.compute().unwrap() - 10.714).abs() < 1e-3);
        assert!(!vs.holds(vs.compute().unwrap()));
        let rule = claim(ClaimKind::SqrtRule { k: 0.6, c: 5.76e23 }, 2.8);
        assert!((rule.compute().unwrap() - 1.0 / 0.36).abs() < 1e-9);
        let bad = claim(
            ClaimKind::LawOptimum {
                law: "nope".into(),
                c: 1e20,
            },
            1.0,
        );
        assert!(bad.compute().unwrap_err().contains("nope"));
        let kaplan = claim(
            ClaimKind::LawExponent {
                law: "kaplan".into(),
            },
            0.73,
        );
        assert_eq!(kaplan.compute().unwrap(), 0.73);
    }
}
