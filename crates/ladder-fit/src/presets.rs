//! Published scaling laws, as presets for `ladder laws`.
//!
//! Chinchilla-form laws `L = E + A/N^α + B/D^β` (N total parameters, D tokens, loss in
//! nats/token on the authors' data) and Kaplan et al. 2020's power laws (N without
//! embeddings), and Muennighoff et al. 2023's data-constrained law. Values are unrounded
//! where the source gives them.

use crate::{ChinchillaLaw, DataConstrainedLaw, Repetition};

/// A published Chinchilla-form law.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    /// Name used on the command line.
    pub name: &'static str,
    /// Where the numbers come from.
    pub source: &'static str,
    /// The law (for unique data, where the preset also models repetition).
    pub law: ChinchillaLaw,
    /// Muennighoff et al.'s discount for repeated data, where the preset has one.
    pub repetition: Option<Repetition>,
}

impl Preset {
    /// The data-constrained form of the law, where the preset has one.
    pub fn data_constrained(&self) -> Option<DataConstrainedLaw> {
        self.repetition.map(|repetition| DataConstrainedLaw {
            base: self.law,
            repetition,
        })
    }
}

/// Hoffmann et al. 2022's approach-3 values as their own code holds them, unrounded
/// (Epoch AI's notebook `true_params`: log A 6.0073404, log B 6.0179186, log E
/// 0.5267228, α 0.33917084, β 0.2849083; ../shared/reference/README.md).
const HOFFMANN_UNROUNDED: ChinchillaLaw = ChinchillaLaw {
    e: 1.693_373_7, // e^0.5267228
    a: 406.401_02,  // e^6.0073404
    b: 410.722_83,  // e^6.0179186
    alpha: 0.339_170_84,
    beta: 0.284_908_3,
};

/// Besiroglu et al. 2024 (Epoch AI), "Chinchilla Scaling: A replication attempt": the
/// maximum-likelihood refit of Hoffmann's own points that the paper reports.
const EPOCH_2024: ChinchillaLaw = ChinchillaLaw {
    e: 1.8172,
    a: 482.01,
    b: 2085.43,
    alpha: 0.3478,
    beta: 0.3658,
};

/// Muennighoff et al. 2023, fitted to their C4 runs with repetition, unrounded as in the
/// authors' code (datablations README, "Parametric Fit": log A 6.255414, log B 7.3049974,
/// log E 0.6254804, α = β = 0.3526596, R_D* 15.387756, R_N* 5.309743).
pub const MUENNIGHOFF_2023: DataConstrainedLaw = DataConstrainedLaw {
    base: ChinchillaLaw {
        e: 1.869_143_678, // e^0.6254804
        a: 520.824_951_7, // e^6.255414
        b: 1_487.716_094, // e^7.3049974
        alpha: 0.352_659_6,
        beta: 0.352_659_6,
    },
    repetition: Repetition {
        r_d_star: 15.387_756,
        r_n_star: 5.309_743,
    },
};

/// The Chinchilla-form presets.
pub const PRESETS: [Preset; 4] = [
    Preset {
        name: "chinchilla",
        source: "Hoffmann et al. 2022, approach 3, unrounded (Epoch AI notebook)",
        law: HOFFMANN_UNROUNDED,
        repetition: None,
    },
    Preset {
        name: "chinchilla-rounded",
        source: "Hoffmann et al. 2022, eq. 10 as printed: E 1.69, A 406.4, B 410.7, α 0.34, β 0.28",
        law: ChinchillaLaw::HOFFMANN_ROUNDED,
        repetition: None,
    },
    Preset {
        name: "epoch",
        source: "Besiroglu et al. 2024 (Epoch AI), refit of Hoffmann's points",
        law: EPOCH_2024,
        repetition: None,
    },
    Preset {
        name: "muennighoff",
        source: "Muennighoff et al. 2023, data-constrained law on C4 (authors' code); \
                 give --unique to discount repeated tokens",
        law: MUENNIGHOFF_2023.base,
        repetition: Some(MUENNIGHOFF_2023.repetition),
    },
];

/// The preset called `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// Kaplan et al. 2020's laws (§1.2, eqs. 1.1–1.5 and Table 5): N counts non-embedding
/// parameters, D tokens, C_min compute in PF-days; loss in nats/token on WebText2.
pub mod kaplan2020 {
    /// `L(N) = (N_c/N)^α_N`: N_c, α_N.
    pub const N_C: f64 = 8.8e13;
    /// Exponent of `L(N)`.
    pub const ALPHA_N: f64 = 0.076;
    /// `L(D) = (D_c/D)^α_D`: D_c.
    pub const D_C: f64 = 5.4e13;
    /// Exponent of `L(D)`.
    pub const ALPHA_D: f64 = 0.095;
    /// `L(C_min) = (C_c/C_min)^α_C`, C in PF-days: C_c.
    pub const C_C: f64 = 3.1e8;
    /// Exponent of `L(C_min)`.
    pub const ALPHA_C: f64 = 0.050;
    /// `N_opt ∝ C_min^0.73` (eq. 1.7, Figure 14).
    pub const N_OPT_EXPONENT: f64 = 0.73;
    /// `N_opt = N_e·C_min^p_N`, C_min in PF-days (Table 6): N_e.
    pub const N_E: f64 = 1.3e9;
    /// `D_opt = D_e·C_min^p_D`, C_min in PF-days (Table 6): D_e.
    pub const D_E: f64 = 2e10;
    /// Exponent `p_D` of `D_opt` (Table 6).
    pub const D_OPT_EXPONENT: f64 = 0.27;
    /// FLOPs in a PF-day.
    pub const PF_DAY: f64 = 1e15 * 86_400.0;

    /// Kaplan's compute-efficient frontier (Table 6): `(N_opt, D_opt)` for compute C in
    /// FLOPs. These models stop well before convergence, so `6·N·D` need not equal C.
    pub fn frontier(c_flops: f64) -> (f64, f64) {
        let c = c_flops / PF_DAY;
        (N_E * c.powf(N_OPT_EXPONENT), D_E * c.powf(D_OPT_EXPONENT))
    }

    /// The minimum of the joint law [`loss_nd`] along `D = C/(6N)`: with
    /// `x = α_N/α_D`, `d/dN [(N_c/N)^x + 6·D_c·N/C] = 0` gives
    /// `N = (x·N_c^x·C/(6·D_c))^(1/(1+x))`, so `N ∝ C^0.556`, not the frontier's 0.73.
    pub fn joint_isoflop_optimum(c_flops: f64) -> (f64, f64) {
        let x = ALPHA_N / ALPHA_D;
        let n = (x * N_C.powf(x) * c_flops / (6.0 * D_C)).powf(1.0 / (1.0 + x));
        (n, c_flops / (6.0 * n))
    }

    /// `L(N)` for N non-embedding parameters trained to convergence.
    pub fn loss_n(n: f64) -> f64 {
        (N_C / n).powf(ALPHA_N)
    }

    /// `L(D)` for a large model trained on D tokens with early stopping.
    pub fn loss_d(d: f64) -> f64 {
        (D_C / d).powf(ALPHA_D)
    }

    /// `L(C_min)` for compute C in FLOPs (converted to PF-days).
    pub fn loss_c(c_flops: f64) -> f64 {
        (C_C / (c_flops / PF_DAY)).powf(ALPHA_C)
    }

    /// The joint law `L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D` (eq. 1.5).
    pub fn loss_nd(n: f64, d: f64) -> f64 {
        ((N_C / n).powf(ALPHA_N / ALPHA_D) + D_C / d).powf(ALPHA_D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unrounded and Epoch laws give the D*/N* that ../shared/reference/README.md
    /// tabulates: 18.6 and 25.6 at 1e18, 59.0 and 18.3 at 5.88e23; rounded 92.8.
    #[test]
    fn tokens_per_parameter_match_the_reference_table() {
        let ratio = |name: &str, c: f64| {
            let (n, d) = preset(name).unwrap().law.compute_optimal(c);
            d / n
        };
        for (name, c, want) in [
            ("chinchilla", 1e18, 18.6),
            ("chinchilla", 5.88e23, 59.0),
            ("chinchilla-rounded", 5.88e23, 92.8),
            ("epoch", 1e18, 25.6),
            ("epoch", 5.88e23, 18.3),
        ] {
            let got = ratio(name, c);
            assert!((got - want).abs() < 0.15, "{name} at {c}: {got} vs {want}");
        }
    }

    /// Kaplan's L(N) at N = 8.8e13 is 1 by construction, and the joint law reduces to
    /// L(N) as D → ∞ (eq. 1.5).
    #[test]
    fn kaplan_laws_meet_their_limits() {
        assert!((kaplan2020::loss_n(kaplan2020::N_C) - 1.0).abs() < 1e-12);
        let n = 1e9;
        assert!((kaplan2020::loss_nd(n, 1e30) - kaplan2020::loss_n(n)).abs() < 1e-6);
        // 1.5B parameters (GPT-2 XL size): (8.8e13/1.5e9)^0.076 = exp(0.076 · ln 58667)
        // = exp(0.076 · 10.9796) = exp(0.83445) ≈ 2.3036.
        assert!((kaplan2020::loss_n(1.5e9) - 2.3036).abs() < 1e-3);
    }
}
