//! Lab 2's numbers: each IsoFLOP budget's minimum and its tokens per parameter, and
//! approach 2's exponents.

use ladder_fit::FitReport;
use serde::Serialize;

use super::{ci80, line};

/// One IsoFLOP budget's minimum.
#[derive(Debug, Serialize)]
struct Minimum {
    #[serde(rename = "C")]
    c: f64,
    n_opt: Option<f64>,
    d_opt: Option<f64>,
    /// `D_opt / N_opt`.
    ratio: Option<f64>,
    loss_min: Option<f64>,
    /// Whether the minimum lies inside the sampled sizes (the profile is a U).
    inside: bool,
    warnings: Vec<String>,
}

/// Lab 2's numbers: each budget's minimum, and approach 2's exponents.
#[derive(Debug, Serialize)]
pub(crate) struct Lab2 {
    minima: Vec<Minimum>,
    /// Budgets whose minimum lies inside the sampled sizes.
    u_shaped: usize,
    a: Option<f64>,
    b: Option<f64>,
    a_ci80: Option<[f64; 2]>,
    skipped: Option<String>,
}

impl Lab2 {
    /// The minima of `fit`'s approach 2.
    pub(crate) fn new(fit: &FitReport) -> Self {
        let profiles = fit
            .approach2
            .as_ref()
            .map_or(&[][..], |a2| &a2.fit.profiles[..]);
        let minima: Vec<Minimum> = profiles
            .iter()
            .map(|p| Minimum {
                c: p.c,
                n_opt: p.n_opt,
                d_opt: p.d_opt,
                ratio: p.n_opt.zip(p.d_opt).map(|(n, d)| d / n),
                loss_min: p.loss_min,
                inside: p
                    .n_opt
                    .is_some_and(|n| p.n_range[0] <= n && n <= p.n_range[1]),
                warnings: p.warnings.clone(),
            })
            .collect();
        Self {
            u_shaped: minima.iter().filter(|m| m.inside).count(),
            minima,
            a: fit.approach2.as_ref().map(|a2| a2.fit.a),
            b: fit.approach2.as_ref().map(|a2| a2.fit.b),
            a_ci80: fit
                .approach2
                .as_ref()
                .and_then(|a2| a2.intervals.ci80.get("a").copied()),
            skipped: fit.approach2_skipped.clone(),
        }
    }

    /// Each IsoFLOP minimum and approach 2's exponents, and approach 3's D*/N*.
    pub(crate) fn text(&self, fit: &FitReport) -> String {
        let mut out = String::new();
        if let Some(why) = &self.skipped {
            line(&mut out, format!("approach 2 did not run: {why}"));
            return out;
        }
        line(&mut out, "IsoFLOP minima (parabolas in ln N):");
        for m in &self.minima {
            line(&mut out, m.text());
        }
        if let (Some(a), Some(b)) = (self.a, self.b) {
            line(
                &mut out,
                format!(
                    "N_opt ∝ C^a: a = {a:.3} ({}); D_opt ∝ C^b: b = {b:.3}; Chinchilla: a ≈ b ≈ 0.5",
                    self.a_ci80.map_or("no interval".into(), |c| format!(
                        "80% [{:.3}, {:.3}]",
                        c[0], c[1]
                    ))
                ),
            );
        }
        if let Some(t) = fit.tokens_per_param.last() {
            line(
                &mut out,
                format!(
                    "approach 3 at C = {:.2e}: D*/N* = {:.1} ({}); Chinchilla: about 20",
                    t.c,
                    t.ratio,
                    ci80(t.ratio_spread, 1)
                ),
            );
        }
        out
    }
}

impl Minimum {
    fn text(&self) -> String {
        match (self.n_opt, self.d_opt, self.ratio) {
            (Some(n), Some(d), Some(r)) => format!(
                "  C = {:.2e}: N_opt = {n:.3e}, D_opt = {d:.3e}, D/N = {r:.1}{}",
                self.c,
                if self.inside {
                    String::new()
                } else {
                    format!(" ({})", self.warnings.join("; "))
                }
            ),
            _ => format!(
                "  C = {:.2e}: no minimum ({})",
                self.c,
                self.warnings.join("; ")
            ),
        }
    }
}
