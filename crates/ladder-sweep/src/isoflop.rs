//! IsoFLOP designs (Hoffmann et al. 2022, approach 2): compute budgets C_k, each trained
//! at several model sizes with D from C, so that every budget traces a loss-against-N
//! curve whose minimum is the compute-optimal size.

use ladder_core::{BudgetRule, FlopCount, ParamCount};
use ladder_model::{FlopCounts, ParamCounts};

use crate::config::TokensConfig;
use crate::SweepError;

/// Chinchilla's rule of thumb, D ≈ 20·N, the default centre of the automatic size choice:
/// `C = 6·N·D = 120·N²` gives the expected optimum `N*(C) = √(C/120)`.
const TOKENS_PER_PARAM: f64 = 20.0;

/// A validated IsoFLOP design.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IsoFlop {
    /// Each budget with its TOML path.
    budgets: Vec<(String, f64)>,
    /// How D follows from C: `6·N·D` with N under `tokens.params`, or every matmul's
    /// FLOPs per token ([`FlopCounts::exact`]).
    pub(crate) rule: BudgetRule,
    /// Sizes per budget chosen around `N*(C)`; `None`: every size at every budget.
    per_budget: Option<usize>,
    /// Tokens per parameter expected at the largest budget's optimum.
    ratio: f64,
    /// The exponent a of `N*(C) ∝ C^a` that carries the expected optimum to the other
    /// budgets (0.5: the same ratio at every budget).
    exponent: f64,
}

/// One run an IsoFLOP design asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Budgeted {
    /// TOML path of the budget.
    pub field: String,
    /// Training tokens.
    pub tokens: f64,
    /// The budget C.
    pub compute: f64,
}

impl IsoFlop {
    /// The design `[tokens]` describes, or `None` when it lists token counts instead.
    pub(crate) fn from_config(
        t: &TokensConfig,
        params: ParamCount,
    ) -> Result<Option<Self>, SweepError> {
        let Some(budgets) = &t.budgets else {
            if t.sizes_per_budget.is_some() {
                return Err(SweepError::invalid(
                    "tokens.sizes_per_budget",
                    "applies to IsoFLOP budgets only: add tokens.budgets",
                ));
            }
            return Ok(None);
        };
        if t.counts.is_some() || t.per_param.is_some() {
            return Err(SweepError::invalid(
                "tokens",
                "give budgets (IsoFLOP) or counts or per_param, not several",
            ));
        }
        if budgets.is_empty() {
            return Err(SweepError::invalid("tokens.budgets", "must not be empty"));
        }
        let budgets = budgets
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let field = format!("tokens.budgets[{i}]");
                if c.is_finite() && c > 0.0 {
                    Ok((field, c))
                } else {
                    Err(SweepError::invalid(
                        field,
                        format!("{c} must be a number of FLOPs > 0"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let flops = t
            .flops
            .parse::<FlopCount>()
            .map_err(|e| SweepError::invalid("tokens.flops", e.to_string()))?;
        let rule = BudgetRule::new(flops, params);
        let ratio = match (t.expected_ratio, t.sizes_per_budget) {
            (None, _) => TOKENS_PER_PARAM,
            (Some(_), None) => {
                return Err(SweepError::invalid(
                    "tokens.expected_ratio",
                    "centres the sizes chosen per budget: add tokens.sizes_per_budget",
                ))
            }
            (Some(r), Some(_)) if r.is_finite() && r > 0.0 => r,
            (Some(r), Some(_)) => {
                return Err(SweepError::invalid(
                    "tokens.expected_ratio",
                    format!("{r} must be a number of tokens per parameter > 0, e.g. 20"),
                ))
            }
        };
        let exponent = match (t.expected_exponent, t.expected_ratio) {
            (None, _) => 0.5,
            (Some(_), None) => {
                return Err(SweepError::invalid(
                    "tokens.expected_exponent",
                    "carries expected_ratio's optimum to the other budgets: add \
                     tokens.expected_ratio",
                ))
            }
            (Some(a), Some(_)) if a.is_finite() && a > 0.0 && a < 1.0 => a,
            (Some(a), Some(_)) => {
                return Err(SweepError::invalid(
                    "tokens.expected_exponent",
                    format!("{a} must be the a of N* ∝ C^a, between 0 and 1 (Chinchilla: 0.5)"),
                ))
            }
        };
        if t.sizes_per_budget == Some(0) {
            return Err(SweepError::invalid(
                "tokens.sizes_per_budget",
                "must be at least 1 (approach 2 needs 3 or more)",
            ));
        }
        Ok(Some(Self {
            budgets,
            rule,
            per_budget: t.sizes_per_budget,
            ratio,
            exponent,
        }))
    }

    /// The runs of model `index` among `models` (each with its N under the config's
    /// convention and its FLOP counts): at every budget, or at those budgets where it is
    /// among the `sizes_per_budget` sizes nearest (in log N) to the expected optimum
    /// ([`expected_optimum`]).
    pub(crate) fn runs_for(&self, index: usize, models: &[(f64, FlopCounts)]) -> Vec<Budgeted> {
        let (n, flops) = models[index];
        let ns: Vec<f64> = models.iter().map(|m| m.0).collect();
        let top = self.budgets.iter().map(|b| b.1).fold(0.0, f64::max);
        self.budgets
            .iter()
            .filter(|(_, c)| match self.per_budget {
                None => true,
                Some(k) => {
                    let centre = expected_optimum(*c, top, self.ratio, self.exponent);
                    nearest_sizes(&ns, centre, k).contains(&index)
                }
            })
            .map(|(field, c)| Budgeted {
                field: field.clone(),
                tokens: match self.rule {
                    BudgetRule::SixNd(_) => c / (6.0 * n),
                    BudgetRule::Exact => c / flops.exact,
                },
                compute: *c,
            })
            .collect()
    }
}

impl IsoFlop {
    /// The largest budget whose every run needs at most `capacity` training tokens,
    /// under the same choice of sizes (to 1%, by bisection in log C); `None` when not
    /// even a budget a million times smaller fits.
    pub(crate) fn largest_budget(
        &self,
        models: &[(f64, FlopCounts)],
        capacity: f64,
    ) -> Option<f64> {
        let top = self.budgets.iter().map(|b| b.1).fold(0.0, f64::max);
        let fits = |c: f64| {
            let probe = Self {
                budgets: vec![(String::new(), c)],
                ..self.clone()
            };
            (0..models.len())
                .flat_map(|i| probe.runs_for(i, models))
                .all(|b| b.tokens <= capacity)
        };
        let (mut lo, mut hi) = (top * 1e-6, top);
        if fits(hi) {
            return Some(hi);
        }
        if !fits(lo) {
            return None;
        }
        while hi / lo > 1.01 {
            let mid = (lo * hi).sqrt();
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }
}

/// The expected compute-optimal N at budget `c`: `√(top/(6·ratio))` at the largest budget
/// `top`, carried to `c` along `N* ∝ C^exponent`. With exponent 0.5 it is `√(c/(6·ratio))`,
/// the same tokens per parameter at every budget.
pub fn expected_optimum(c: f64, top: f64, ratio: f64, exponent: f64) -> f64 {
    (top / (6.0 * ratio)).sqrt() * (c / top).powf(exponent)
}

/// The indices of the `k` sizes among `ns` nearest (in log N) to `target`, in index
/// order: the sizes an IsoFLOP budget trains around its expected optimum. The design
/// search (`ladder-lab`'s `[design]`) lays budgets out with this same rule, so the sizes
/// it plans are the sizes `sizes_per_budget` later trains.
pub fn nearest_sizes(ns: &[f64], target: f64, k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ns.len()).collect();
    let distance = |i: usize| (ns[i] / target).ln().abs();
    order.sort_by(|&a, &b| distance(a).total_cmp(&distance(b)));
    order.truncate(k);
    order.sort_unstable();
    order
}

/// N of `params` under the convention `count`.
pub(crate) fn convention_n(params: &ParamCounts, count: ParamCount) -> f64 {
    match count {
        ParamCount::Total => params.total as f64,
        ParamCount::NonEmbedding => params.non_embedding as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(n: f64) -> (f64, FlopCounts) {
        (
            n,
            FlopCounts {
                kaplan: 6.0 * n,
                exact: 7.0 * n,
            },
        )
    }

    #[test]
    fn sizes_nearest_the_expected_optimum_get_each_budget() {
        let models: Vec<_> = [1e4, 3e4, 1e5, 3e5, 1e6, 3e6].map(counts).to_vec();
        let design = IsoFlop {
            budgets: vec![
                ("b0".into(), 120.0 * 1e5 * 1e5),
                ("b1".into(), 120.0 * 1e6 * 1e6),
            ],
            rule: BudgetRule::SixNd(ParamCount::Total),
            per_budget: Some(3),
            ratio: TOKENS_PER_PARAM,
            exponent: 0.5,
        };
        let at = |i: usize| -> Vec<String> {
            design
                .runs_for(i, &models)
                .into_iter()
                .map(|b| b.field)
                .collect()
        };
        // N* = 1e5 for b0: 1e5, then 3e4 and 3e5; N* = 1e6 for b1: 1e6, 3e5, 3e6.
        assert_eq!(at(0), Vec::<String>::new());
        assert_eq!(at(1), ["b0"]);
        assert_eq!(at(3), ["b0", "b1"]);
        assert_eq!(at(5), ["b1"]);
        let run = &design.runs_for(2, &models)[0];
        assert!((run.tokens - 120.0 * 1e10 / 6e5).abs() < 1e-6 && run.compute == 1.2e12);
        let exact = IsoFlop {
            rule: BudgetRule::Exact,
            per_budget: None,
            ..design
        };
        assert!((exact.runs_for(2, &models)[0].tokens - 1.2e12 / 7e5).abs() < 1e-3);
        // Expecting 180 tokens per parameter divides N* by 3: 3.3e4 for b0 (3e4, 1e5, 1e4)
        // and 3.3e5 for b1 (3e5, 1e6, 1e5).
        let skewed = IsoFlop {
            ratio: 180.0,
            per_budget: Some(3),
            ..exact
        };
        let at = |i: usize| skewed.runs_for(i, &models).len();
        assert_eq!([at(0), at(2), at(3), at(4), at(5)], [1, 2, 1, 1, 0]);
        // An exponent of 0.7 keeps b1's centre (1e6 at 20 tokens per parameter) and
        // carries it down two decades of C to 1e6·10^-1.4 = 4e4 at b0: 1e4, 3e4, 1e5
        // there instead of 3e4, 1e5, 3e5.
        let steep = IsoFlop {
            ratio: TOKENS_PER_PARAM,
            exponent: 0.7,
            ..skewed
        };
        let budgets_of = |i: usize| -> Vec<String> {
            steep
                .runs_for(i, &models)
                .into_iter()
                .map(|b| b.field)
                .collect()
        };
        assert_eq!(budgets_of(0), ["b0"]);
        assert_eq!(budgets_of(1), ["b0"]);
        assert_eq!(budgets_of(2), ["b0"]);
        assert_eq!(budgets_of(3), ["b1"]);
        assert_eq!(budgets_of(4), ["b1"]);
        assert_eq!(budgets_of(5), ["b1"]);
    }

    #[test]
    fn the_expected_optimum_follows_its_exponent_from_the_top_budget() {
        let top = 1.2e13;
        // At the top, √(C/(6·20)) = 1e5.5 whatever the exponent.
        for a in [0.3, 0.5, 0.8] {
            let n = expected_optimum(top, top, 20.0, a);
            assert!((n / 10f64.powf(5.5) - 1.0).abs() < 1e-12);
        }
        // 0.5 is the constant ratio; 0.75 moves N* three quarters of a decade per decade.
        let c = top / 100.0;
        assert!((expected_optimum(c, top, 20.0, 0.5) / (c / 120.0).sqrt() - 1.0).abs() < 1e-12);
        assert!((expected_optimum(c, top, 20.0, 0.75) / 10f64.powf(4.0) - 1.0).abs() < 1e-12);
    }
}
