//! Monotone in size: at equal tokens, a larger model should not lose to a smaller one.
//! With hyperparameters that suit every size (Kaplan et al. 2020 §3: larger models are
//! more sample-efficient), the training curves of a ladder are ordered by N at every token
//! count; an inversion larger than the seed noise points at a size whose learning rate,
//! warmup or shape does not suit it, and biases every law fitted through it.

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
}

/// The mean loss of every size at every token count its curves reach, and the pooled SD
/// over seeds there. Runs of one seed at one size (WSD branches, or IsoFLOP runs of one
/// model) give one value per token count: the highest, the stable phase's, where a
/// branch's cooldown has lowered another.
fn means(curves: &[Curve]) -> (Vec<(f64, f64, f64)>, Option<f64>) {
    // (n, tokens, seed) -> loss
    let mut by_seed: Vec<(f64, f64, u64, f64)> = Vec::new();
    for c in curves {
        for (&t, &l) in c.tokens.iter().zip(&c.loss) {
            if !l.is_finite() {
                continue;
            }
            match by_seed
                .iter_mut()
                .find(|x| x.0 == c.n && x.1 == t && x.2 == c.seed)
            {
                Some(x) => x.3 = x.3.max(l),
                None => by_seed.push((c.n, t, c.seed, l)),
            }
        }
    }
    let mut cells: Vec<(f64, f64, Vec<f64>)> = Vec::new();
    for (n, t, _, l) in by_seed {
        match cells.iter_mut().find(|x| x.0 == n && x.1 == t) {
            Some(x) => x.2.push(l),
            None => cells.push((n, t, vec![l])),
        }
    }
    let (mut ss, mut dof) = (0.0, 0usize);
    for (_, _, v) in &cells {
        if v.len() > 1 {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            ss += v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
            dof += v.len() - 1;
        }
    }
    let sd = (dof > 0).then(|| (ss / dof as f64).sqrt());
    let mean = cells
        .into_iter()
        .map(|(n, t, v)| (n, t, v.iter().sum::<f64>() / v.len() as f64))
        .collect();
    (mean, sd)
}

/// Compares every pair of sizes at every token count both curves reach; an inversion is
/// a larger model's mean loss above a smaller one's by more than twice the seed spread
/// (pooled over the curves' points trained with several seeds; `fallback_sd`, the final
/// losses' seed spread, when the curves have none; else 0). `None` without curves of two
/// sizes.
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
    for (i, &(n1, t1, l1)) in cells.iter().enumerate() {
        for &(n2, t2, l2) in &cells[i + 1..] {
            if t1 != t2 || n1 == n2 {
                continue;
            }
            let ((ns, ls), (nl, ll)) = if n1 < n2 {
                ((n1, l1), (n2, l2))
            } else {
                ((n2, l2), (n1, l1))
            };
            compared += 1;
            if ll - ls > margin {
                inversions.push(Inversion {
                    tokens: t1,
                    smaller_n: ns,
                    smaller_loss: ls,
                    larger_n: nl,
                    larger_loss: ll,
                });
            }
        }
    }
    let sizes = cells.iter().fold(Vec::<f64>::new(), |mut v, c| {
        if !v.contains(&c.0) {
            v.push(c.0);
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
}
