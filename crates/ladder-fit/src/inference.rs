//! Inference-aware sizing (Sardana et al. 2024, "Beyond Chinchilla-Optimal"): a model
//! that will serve `T` tokens costs `6·N·D` to train and `2·N·T` to serve, so the
//! cheapest model for a loss is smaller and trained longer than Chinchilla's.

use crate::ChinchillaLaw;

/// A model size and its training length, with the costs that make it optimal.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Allocation {
    /// Parameters.
    #[serde(deserialize_with = "crate::json::number")]
    pub n: f64,
    /// Training tokens.
    #[serde(deserialize_with = "crate::json::number")]
    pub d: f64,
    /// Loss the law predicts.
    #[serde(deserialize_with = "crate::json::number")]
    pub loss: f64,
    /// `6·N·D`.
    #[serde(deserialize_with = "crate::json::number")]
    pub train_flops: f64,
    /// `2·N·T`.
    #[serde(deserialize_with = "crate::json::number")]
    pub inference_flops: f64,
}

impl Allocation {
    /// `n` parameters trained on `d` tokens that will serve `t` tokens, with the loss
    /// `law` predicts.
    pub fn new(law: &ChinchillaLaw, n: f64, d: f64, t: f64) -> Self {
        Self {
            n,
            d,
            loss: law.loss(n, d),
            train_flops: 6.0 * n * d,
            inference_flops: 2.0 * n * t,
        }
    }

    /// Training plus inference FLOPs.
    pub fn total_flops(&self) -> f64 {
        self.train_flops + self.inference_flops
    }
}

/// The minimum of `f` over `[lo, hi]` by golden-section search (f unimodal there).
pub(crate) fn golden_min(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut x1, mut x2) = (hi - r * (hi - lo), lo + r * (hi - lo));
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..200 {
        if f1 <= f2 {
            (hi, x2, f2) = (x2, x1, f1);
            x1 = hi - r * (hi - lo);
            f1 = f(x1);
        } else {
            (lo, x1, f1) = (x1, x2, f2);
            x2 = lo + r * (hi - lo);
            f2 = f(x2);
        }
    }
    0.5 * (lo + hi)
}

/// The cheapest `(N, D)` reaching `loss` when the model will also serve `t` tokens:
/// minimise `6·N·D + 2·N·t` over N with D from `L(N, D) = loss` (Sardana et al. 2024,
/// eq. 2). `None` when the law cannot reach `loss` (at or below E).
pub fn optimum_for_loss(law: &ChinchillaLaw, loss: f64, t: f64) -> Option<Allocation> {
    let gap = loss - law.e;
    if !(gap > 0.0 && t >= 0.0) {
        return None;
    }
    // N must leave room for the data term: A/N^α < gap.
    let n_min = (law.a / gap).powf(1.0 / law.alpha);
    let d_of = |n: f64| (law.b / (gap - law.a / n.powf(law.alpha))).powf(1.0 / law.beta);
    let cost = |log_n: f64| {
        let n = log_n.exp();
        6.0 * n * d_of(n) + 2.0 * n * t
    };
    let log_n = golden_min(cost, n_min.ln() + 1e-9, n_min.ln() + 40.0);
    let n = log_n.exp();
    Some(Allocation::new(law, n, d_of(n), t))
}

/// The lifetime tokens served for which `n` parameters are the cheapest way to reach
/// `loss`: the inverse of [`optimum_for_loss`] in `t`. With `D(N)` from `L(N, D) = loss`
/// and `g = loss − E − A/N^α`, the cost `6·N·D(N) + 2·N·t` is stationary in N where
/// `t = 3·D·(α·A·N^(−α)/(β·g) − 1)`. `None` when `n` cannot reach `loss` (g ≤ 0) or is
/// larger than the Chinchilla-optimal size for `loss` (t would be negative).
pub fn served_tokens_for_optimum(law: &ChinchillaLaw, loss: f64, n: f64) -> Option<f64> {
    let g = loss - law.e - law.a / n.powf(law.alpha);
    if !(g > 0.0 && n > 0.0) {
        return None;
    }
    let d = (law.b / g).powf(1.0 / law.beta);
    let t = 3.0 * d * (law.alpha * law.a * n.powf(-law.alpha) / (law.beta * g) - 1.0);
    // At Chinchilla's own size t is 0 up to rounding.
    (t >= -1e-9 * d).then_some(t.max(0.0))
}

/// The lowest-loss `(N, D)` when training and serving `t` tokens must fit in `c` FLOPs:
/// minimise `L(N, (c − 2·N·t)/(6·N))` over `N < c/(2t)`. With `t = 0` this is
/// Chinchilla's compute-optimal allocation. `None` for a non-positive budget.
pub fn optimum_for_budget(law: &ChinchillaLaw, c: f64, t: f64) -> Option<Allocation> {
    if !(c > 0.0 && t >= 0.0) {
        return None;
    }
    let d_of = |n: f64| (c - 2.0 * n * t) / (6.0 * n);
    let n_max = if t > 0.0 { c / (2.0 * t) } else { c / 6.0 };
    let loss = |log_n: f64| {
        let n = log_n.exp();
        let d = d_of(n);
        if d > 0.0 {
            law.loss(n, d)
        } else {
            f64::INFINITY
        }
    };
    let log_n = golden_min(loss, 0.0, n_max.ln());
    let n = log_n.exp();
    Some(Allocation::new(law, n, d_of(n), t))
}

/// Chinchilla's compute-optimal model (sized for training alone) such that training it
/// and serving `t` tokens fits the total budget `c`: bisection on its training compute.
/// `None` for a non-positive budget.
pub fn chinchilla_within_budget(law: &ChinchillaLaw, c: f64, t: f64) -> Option<Allocation> {
    if !(c > 0.0 && t >= 0.0) {
        return None;
    }
    let at = |train: f64| {
        let (n, d) = law.compute_optimal(train);
        Allocation::new(law, n, d, t)
    };
    let (mut lo, mut hi) = (0.0, c);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if at(mid).total_flops() > c {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(at(lo))
}

/// Chinchilla's compute-optimal model (sized for training alone) that reaches `loss`,
/// with the cost of serving `t` tokens: bisection on log compute over 1 to 1e40 FLOPs.
/// `None` when no budget in that range reaches `loss`.
pub fn chinchilla_for_loss(law: &ChinchillaLaw, loss: f64, t: f64) -> Option<Allocation> {
    let loss_at = |log_c: f64| {
        let (n, d) = law.compute_optimal(log_c.exp());
        law.loss(n, d)
    };
    let (mut lo, mut hi) = (0.0, 40.0 * std::f64::consts::LN_10);
    if !(loss_at(hi) < loss && t >= 0.0) {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if loss_at(mid) > loss {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (n, d) = law.compute_optimal(hi.exp());
    Some(Allocation::new(law, n, d, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_tokens_inverts_the_inference_optimum() {
        let law = crate::preset("chinchilla").unwrap().law;
        let loss = law.loss(8e9, 15e12);
        let t = served_tokens_for_optimum(&law, loss, 8e9).unwrap();
        let best = optimum_for_loss(&law, loss, t).unwrap();
        assert!((best.n / 8e9 - 1.0).abs() < 1e-4, "{} vs 8e9", best.n);
        assert!((best.d / 15e12 - 1.0).abs() < 1e-3, "{} vs 15e12", best.d);
        // The Chinchilla-optimal size for a loss serves nothing; a larger one never pays.
        let (n0, d0) = law.compute_optimal(1e22);
        let t0 = served_tokens_for_optimum(&law, law.loss(n0, d0), n0).unwrap();
        assert!(t0.abs() < 1e-6 * d0, "{t0}");
        assert_eq!(
            served_tokens_for_optimum(&law, law.loss(n0, d0), 2.0 * n0),
            None
        );
        assert_eq!(served_tokens_for_optimum(&law, law.e, 8e9), None);
    }

    /// L = 1/√N + 1/√D (E = 0, A = B = 1, α = β = 1/2): by symmetry the cheapest way to
    /// loss 0.2 without inference is N = D = (2/0.2)² = 100, costing 6·100·100 = 60,000.
    const TOY: ChinchillaLaw = ChinchillaLaw {
        e: 0.0,
        a: 1.0,
        b: 1.0,
        alpha: 0.5,
        beta: 0.5,
    };

    #[test]
    fn without_inference_it_is_chinchilla() {
        let a = optimum_for_loss(&TOY, 0.2, 0.0).unwrap();
        assert!(
            (a.n - 100.0).abs() < 1e-3 && (a.d - 100.0).abs() < 1e-3,
            "{a:?}"
        );
        assert!((a.total_flops() - 60_000.0).abs() < 1e-2);
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let (n, d) = law.compute_optimal(1e22);
        let b = optimum_for_budget(&law, 1e22, 0.0).unwrap();
        assert!(
            (b.n / n - 1.0).abs() < 1e-4 && (b.d / d - 1.0).abs() < 1e-4,
            "{b:?} {n} {d}"
        );
    }

    /// Serving tokens makes the optimal model smaller and its training longer, at the
    /// same loss and at a lower total cost than Chinchilla's model would have.
    #[test]
    fn inference_shifts_to_smaller_longer_trained_models() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let (n0, d0) = law.compute_optimal(1e23);
        let target = law.loss(n0, d0);
        let t = 1e13;
        let a = optimum_for_loss(&law, target, t).unwrap();
        assert!((a.loss - target).abs() < 1e-9);
        assert!(a.n < n0 && a.d > d0, "{a:?} vs {n0} {d0}");
        let chinchilla_total = 6.0 * n0 * d0 + 2.0 * n0 * t;
        assert!(a.total_flops() < chinchilla_total);
        assert!(optimum_for_loss(&law, law.e, t).is_none());
        let b = optimum_for_budget(&law, chinchilla_total, t).unwrap();
        assert!(b.loss <= target + 1e-9 && (b.total_flops() / chinchilla_total - 1.0).abs() < 1e-9);
    }

    /// Chinchilla's own model for a loss or a total budget is back on its compute-optimal
    /// path: for the toy law, loss 0.2 is N = D = 100; a total of 6e4 + 2·100·50 = 7e4
    /// FLOPs with t = 50 buys that same model.
    #[test]
    fn chinchilla_models_for_a_loss_and_a_budget() {
        let a = chinchilla_for_loss(&TOY, 0.2, 50.0).unwrap();
        assert!(
            (a.n - 100.0).abs() < 1e-6 && (a.d - 100.0).abs() < 1e-6,
            "{a:?}"
        );
        assert!((a.total_flops() - 70_000.0).abs() < 1e-3);
        let b = chinchilla_within_budget(&TOY, 70_000.0, 50.0).unwrap();
        assert!((b.n - 100.0).abs() < 1e-6, "{b:?}");
        assert!(chinchilla_for_loss(&TOY, 0.0, 0.0).is_none());
        assert!(chinchilla_within_budget(&TOY, -1.0, 0.0).is_none());
    }
}
