//! Monotone in size: at equal tokens, a larger model should not lose to a smaller one.
//! With hyperparameters that suit every size (Kaplan et al. 2020 §3: larger models are
//! more sample-efficient), the training curves of a ladder are ordered by N at every token
//! count; an inversion larger than the seed noise points at a size whose learning rate,
//! warmup or shape does not suit it, and biases every law fitted through it.
//!
//! Two curves at equal tokens compare two models only where their learning rates agree
//! there: both past warmup at the peak (WSD's stable phase), or both decaying on the same
//! schedule (runs of the same length). Inside a warmup a curve measures the schedule more
//! than the model (and under WSD branching larger models warm up for longer), and a run in
//! its cooldown beats a run still at the peak whatever their sizes; such pairs are skipped,
//! and counted.

use serde::{Deserialize, Serialize};

use crate::Curve;

/// A larger model whose loss at some token count is above a smaller model's by more than
/// the margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inversion {
    /// Training tokens at which the two curves are compared.
    #[serde(deserialize_with = "crate::json::number")]
    pub tokens: f64,
    /// N of the smaller model.
    #[serde(deserialize_with = "crate::json::number")]
    pub smaller_n: f64,
    /// Its loss there (mean over seeds).
    #[serde(deserialize_with = "crate::json::number")]
    pub smaller_loss: f64,
    /// N of the larger model.
    #[serde(deserialize_with = "crate::json::number")]
    pub larger_n: f64,
    /// Its loss there.
    #[serde(deserialize_with = "crate::json::number")]
    pub larger_loss: f64,
}

/// The ladder's curves compared size against size at equal tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeOrder {
    /// (smaller, larger, tokens) comparisons made.
    pub compared: usize,
    /// The margin an inversion must exceed: twice the seed spread.
    #[serde(deserialize_with = "crate::json::number")]
    pub margin: f64,
    /// How the margin was set.
    pub spread_from: String,
    /// Every inversion beyond the margin, largest first.
    pub inversions: Vec<Inversion>,
    /// Pairs at equal tokens skipped because their learning rates differ there: one of
    /// them inside its warmup, or one decaying where the other is not (or on a schedule
    /// of another length).
    #[serde(default)]
    pub skipped: usize,
    /// How many of those would have counted as inversions (the margin being set by the
    /// points compared).
    #[serde(default)]
    pub inversions_skipped: usize,
}

/// Where a curve's point sits in its learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Inside the warmup: compared with nothing.
    Warmup,
    /// At the peak rate after warmup.
    Peak,
    /// Past the start of the decay of a run of this many tokens.
    Decay(f64),
}

impl Phase {
    fn of(curve: &Curve, tokens: f64) -> Self {
        if tokens <= curve.warmup_tokens {
            Phase::Warmup
        } else if tokens <= curve.decay_tokens {
            Phase::Peak
        } else {
            Phase::Decay(curve.tokens.last().copied().unwrap_or(tokens))
        }
    }
}

/// One size's mean loss at one token count and schedule phase.
struct Cell {
    n: f64,
    tokens: f64,
    phase: Phase,
    loss: f64,
}

/// The mean loss of every size at every token count and phase its curves reach, and the
/// pooled SD over seeds at the points outside a warmup. Runs of one seed at one size and
/// phase (WSD branches sharing their stable phase) give one value.
fn means(curves: &[Curve]) -> (Vec<Cell>, Option<f64>) {
    // (n, tokens, phase, seed) -> loss
    let mut by_seed: Vec<(f64, f64, Phase, u64, f64)> = Vec::new();
    for c in curves {
        for (&t, &l) in c.tokens.iter().zip(&c.loss) {
            if !l.is_finite() {
                continue;
            }
            let phase = Phase::of(c, t);
            match by_seed
                .iter_mut()
                .find(|x| x.0 == c.n && x.1 == t && x.2 == phase && x.3 == c.seed)
            {
                Some(x) => x.4 = x.4.max(l),
                None => by_seed.push((c.n, t, phase, c.seed, l)),
            }
        }
    }
    let mut cells: Vec<(f64, f64, Phase, Vec<f64>)> = Vec::new();
    for (n, t, phase, _, l) in by_seed {
        match cells
            .iter_mut()
            .find(|x| x.0 == n && x.1 == t && x.2 == phase)
        {
            Some(x) => x.3.push(l),
            None => cells.push((n, t, phase, vec![l])),
        }
    }
    let (mut ss, mut dof) = (0.0, 0usize);
    for (_, _, _, v) in cells.iter().filter(|c| c.2 != Phase::Warmup) {
        if v.len() > 1 {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            ss += v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
            dof += v.len() - 1;
        }
    }
    let sd = (dof > 0).then(|| (ss / dof as f64).sqrt());
    let mean = cells
        .into_iter()
        .map(|(n, tokens, phase, v)| Cell {
            n,
            tokens,
            phase,
            loss: v.iter().sum::<f64>() / v.len() as f64,
        })
        .collect();
    (mean, sd)
}

/// Compares every pair of sizes at every token count both curves reach with the same
/// learning rate (both at the peak past warmup, or both decaying in runs of one length);
/// an inversion is a larger model's mean loss above a smaller one's by more than twice
/// the seed spread (pooled over the curves' points outside a warmup trained with several
/// seeds; `fallback_sd`, the final losses' seed spread, when the curves have none; else
/// 0). `None` without curves of two sizes.
pub fn size_order(curves: &[Curve], fallback_sd: Option<f64>) -> Option<SizeOrder> {
    let (cells, sd) = means(curves);
    let (spread, spread_from) = match (sd, fallback_sd) {
        (Some(s), _) => (s, "twice the seed spread of the curves at equal tokens"),
        (None, Some(s)) => (s, "twice the seed spread of the final losses"),
        (None, None) => (
            0.0,
            "no seeds to measure the noise by, so any larger loss counts",
        ),
    };
    let margin = 2.0 * spread;
    let (mut compared, mut inversions) = (0, Vec::new());
    let (mut skipped, mut inversions_skipped) = (0, 0);
    for (i, a) in cells.iter().enumerate() {
        for b in &cells[i + 1..] {
            if a.tokens != b.tokens || a.n == b.n {
                continue;
            }
            let (small, large) = if a.n < b.n { (a, b) } else { (b, a) };
            let inverted = large.loss - small.loss > margin;
            if a.phase != b.phase || a.phase == Phase::Warmup {
                skipped += 1;
                inversions_skipped += usize::from(inverted);
                continue;
            }
            compared += 1;
            if inverted {
                inversions.push(Inversion {
                    tokens: a.tokens,
                    smaller_n: small.n,
                    smaller_loss: small.loss,
                    larger_n: large.n,
                    larger_loss: large.loss,
                });
            }
        }
    }
    let sizes = cells.iter().fold(Vec::<f64>::new(), |mut v, c| {
        if !v.contains(&c.n) {
            v.push(c.n);
        }
        v
    });
    if sizes.len() < 2 {
        return None;
    }
    inversions.sort_by(|a, b| {
        (b.larger_loss - b.smaller_loss).total_cmp(&(a.larger_loss - a.smaller_loss))
    });
    Some(SizeOrder {
        compared,
        margin,
        spread_from: spread_from.into(),
        inversions,
        skipped,
        inversions_skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(n: f64, loss: &[f64]) -> Curve {
        seeded(n, 0, loss)
    }

    fn seeded(n: f64, seed: u64, loss: &[f64]) -> Curve {
        Curve {
            run: format!("n{n}-s{seed}"),
            n,
            tokens: (1..=loss.len()).map(|i| i as f64 * 1000.0).collect(),
            loss: loss.to_vec(),
            seed,
            warmup_tokens: 0.0,
            decay_tokens: f64::INFINITY,
        }
    }

    #[test]
    fn a_larger_model_above_a_smaller_one_is_an_inversion() {
        let curves = [
            curve(1e4, &[3.0, 2.8, 2.7]),
            curve(2e4, &[2.9, 2.7, 2.75]),
            curve(4e4, &[2.8, 2.6, 2.5]),
        ];
        let order = size_order(&curves, None).unwrap();
        assert_eq!(order.compared, 9);
        assert_eq!(order.inversions.len(), 1);
        let inv = &order.inversions[0];
        assert_eq!(
            (inv.smaller_n, inv.larger_n, inv.tokens),
            (1e4, 2e4, 3000.0)
        );
        // Within twice the seed spread, it is noise.
        let noisy = size_order(&curves, Some(0.03)).unwrap();
        assert!(noisy.inversions.is_empty() && noisy.margin == 0.06);
    }

    #[test]
    fn seeds_give_the_margin_and_branches_count_once() {
        // Two seeds of the smaller size (0.02 apart), and a shorter branch of seed 0 whose
        // cooldown ended lower at its one point: one seed, at its stable phase's 3.00.
        let curves = [
            seeded(1e4, 0, &[3.00, 2.80]),
            seeded(1e4, 1, &[3.02, 2.82]),
            seeded(1e4, 0, &[2.95]),
            curve(2e4, &[3.03, 2.70]),
        ];
        let order = size_order(&curves, None).unwrap();
        // Pooled SD over two points of two seeds: √((2·0.01²+2·0.01²)/2) = 0.0141.
        assert!(
            (order.margin - 2.0 * 0.02f64.sqrt() * 0.1).abs() < 1e-9,
            "{}",
            order.margin
        );
        assert!(order.inversions.is_empty(), "3.03 vs 3.01 is within 0.028");
    }

    #[test]
    fn points_inside_a_warmup_are_skipped_and_counted() {
        // The larger model warms up over its first two points (2000 tokens) and is behind
        // there; past it, it leads. A seed of each size gives the margin: 0.01 apart.
        let warm = |seed, loss: &[f64]| Curve {
            warmup_tokens: 2000.0,
            ..seeded(2e4, seed, loss)
        };
        let curves = [
            seeded(1e4, 0, &[3.0, 2.8, 2.7]),
            seeded(1e4, 1, &[3.01, 2.81, 2.71]),
            warm(0, &[3.3, 2.9, 2.6]),
            warm(1, &[3.31, 2.91, 2.61]),
        ];
        let order = size_order(&curves, None).unwrap();
        assert_eq!((order.compared, order.skipped), (1, 2));
        assert!(order.inversions.is_empty());
        assert_eq!(order.inversions_skipped, 2, "3.3 > 3.0 and 2.9 > 2.8");
        // Without the warmup known, the same curves hold two inversions.
        let unknown: Vec<Curve> = curves
            .iter()
            .map(|c| Curve {
                warmup_tokens: 0.0,
                ..c.clone()
            })
            .collect();
        let order = size_order(&unknown, None).unwrap();
        assert_eq!((order.compared, order.inversions.len()), (3, 2));
    }

    #[test]
    fn a_cooldown_is_compared_only_with_the_same_schedule() {
        // WSD branches of 4000 and 8000 tokens, cooldown over the last 25%. At 4000 tokens
        // the smaller model's short run has cooled (2.60) while the larger one's long
        // branch is still at the peak (2.64): one schedule against another. The fair
        // comparisons there are peak against peak (2.65, 2.64) and the two short runs'
        // cooldowns (2.60, 2.55); the long runs end cooled (2.40, 2.30).
        let run = |n, d: f64, loss: &[f64]| Curve {
            tokens: (1..=loss.len()).map(|i| i as f64 * 1000.0).collect(),
            decay_tokens: 0.75 * d,
            ..seeded(n, 0, loss)
        };
        let curves = [
            run(1e4, 4000.0, &[3.0, 2.8, 2.7, 2.60]),
            run(1e4, 8000.0, &[3.0, 2.8, 2.7, 2.65, 2.6, 2.55, 2.45, 2.40]),
            run(2e4, 4000.0, &[2.9, 2.75, 2.68, 2.55]),
            run(2e4, 8000.0, &[2.9, 2.75, 2.68, 2.64, 2.55, 2.5, 2.35, 2.30]),
        ];
        let order = size_order(&curves, None).unwrap();
        // At 1000-6000 the two peaks (6), at 4000 the two short runs' cooldowns, at
        // 7000-8000 the long runs' (2): 9 compared; the peak of one against the other's
        // short cooldown at 4000, both ways round: 2 skipped.
        assert_eq!((order.compared, order.skipped), (9, 2));
        // The larger model's peak above the smaller one's cooldown is no inversion.
        assert!(order.inversions.is_empty(), "{:?}", order.inversions);
        assert_eq!(order.inversions_skipped, 1);
        // A model's longest run has no longer branch at the peak to stand in for its
        // cooldown: the smaller model's only run (4000) cools to 2.50 where the larger
        // model's only run (8000) is at its peak, 2.60. Skipped; read as one curve per
        // size (the phases unknown), it counts as an inversion.
        let curves = [
            run(1e4, 4000.0, &[3.0, 2.8, 2.7, 2.50]),
            run(2e4, 8000.0, &[2.9, 2.75, 2.65, 2.60, 2.55, 2.5, 2.4, 2.35]),
        ];
        let order = size_order(&curves, None).unwrap();
        assert_eq!((order.compared, order.skipped), (3, 1));
        assert!(order.inversions.is_empty() && order.inversions_skipped == 1);
        let unknown: Vec<Curve> = curves
            .iter()
            .map(|c| Curve {
                decay_tokens: f64::INFINITY,
                ..c.clone()
            })
            .collect();
        assert_eq!(size_order(&unknown, None).unwrap().inversions.len(), 1);
    }
}
