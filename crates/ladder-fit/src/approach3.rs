//! Chinchilla approach 3: fit `L(N, D) = E + A/N^α + B/D^β` by minimising the sum over
//! points of `Huber_δ(log L − LSE(a − α·log N, b − β·log D, e))` with L-BFGS from every
//! start of Hoffmann's grid and keeping the best (Hoffmann et al. 2022, §3.3 and D.2;
//! the sum, not the mean, as Besiroglu et al. 2024 found necessary).

use rayon::prelude::*;

use crate::minimize::{lbfgs, Objective};
use crate::{huber, huber_derivative, ChinchillaLaw, FitError, Points};

/// Number of free parameters of the law.
const N_PARAMS: usize = 5;

/// The grid of starting points, one list of values per parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct StartGrid {
    /// Values of `α`.
    pub alpha: Vec<f64>,
    /// Values of `β`.
    pub beta: Vec<f64>,
    /// Values of `e = log E`.
    pub e: Vec<f64>,
    /// Values of `a = log A`.
    pub a: Vec<f64>,
    /// Values of `b = log B`.
    pub b: Vec<f64>,
}

impl StartGrid {
    /// Hoffmann's grid: `α, β ∈ {0, 0.5, …, 2}`, `e ∈ {−1, −0.5, …, 1}`,
    /// `a, b ∈ {0, 5, …, 25}`: 4,500 starts.
    pub fn hoffmann() -> Self {
        let steps =
            |start: f64, step: f64, n: usize| (0..n).map(|i| start + step * i as f64).collect();
        Self {
            alpha: steps(0.0, 0.5, 5),
            beta: steps(0.0, 0.5, 5),
            e: steps(-1.0, 0.5, 5),
            a: steps(0.0, 5.0, 6),
            b: steps(0.0, 5.0, 6),
        }
    }

    /// Every start as `[a, b, e, α, β]`.
    fn starts(&self) -> Vec<[f64; N_PARAMS]> {
        let mut out = Vec::new();
        for &a in &self.a {
            for &b in &self.b {
                for &e in &self.e {
                    for &alpha in &self.alpha {
                        for &beta in &self.beta {
                            out.push([a, b, e, alpha, beta]);
                        }
                    }
                }
            }
        }
        out
    }
}

/// Settings of an approach-3 fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Approach3Options {
    /// Huber threshold δ (Hoffmann: 1e-3).
    pub delta: f64,
    /// Starting points.
    pub grid: StartGrid,
    /// Iteration limit per start.
    pub max_iters: u64,
}

impl Default for Approach3Options {
    fn default() -> Self {
        Self {
            delta: 1e-3,
            grid: StartGrid::hoffmann(),
            max_iters: 1000,
        }
    }
}

/// The result of an approach-3 fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Approach3Fit {
    /// The fitted law.
    pub law: ChinchillaLaw,
    /// The objective (sum of Huber terms) at the fit.
    pub objective: f64,
    /// How many starts reached a finite objective.
    pub converged_starts: usize,
    /// How many starts there were.
    pub total_starts: usize,
}

/// The approach-3 objective over points held in log space.
struct HuberObjective {
    log_n: Vec<f64>,
    log_d: Vec<f64>,
    log_loss: Vec<f64>,
    delta: f64,
}

impl HuberObjective {
    fn new(points: &Points, delta: f64) -> Self {
        let p = points.as_slice();
        Self {
            log_n: p.iter().map(|p| p.n.ln()).collect(),
            log_d: p.iter().map(|p| p.d.ln()).collect(),
            log_loss: p.iter().map(|p| p.loss.ln()).collect(),
            delta,
        }
    }

    /// The three LSE terms of point `i` for `x = [a, b, e, α, β]`.
    fn terms(&self, x: &[f64], i: usize) -> [f64; 3] {
        [
            x[0] - x[3] * self.log_n[i],
            x[1] - x[4] * self.log_d[i],
            x[2],
        ]
    }
}

/// `log(Σ exp t)` and the softmax weights of `t`.
fn log_sum_exp(t: [f64; 3]) -> (f64, [f64; 3]) {
    let m = t[0].max(t[1]).max(t[2]);
    let w = t.map(|v| (v - m).exp());
    let s: f64 = w.iter().sum();
    (m + s.ln(), w.map(|v| v / s))
}

impl Objective for HuberObjective {
    fn value(&self, x: &[f64]) -> f64 {
        (0..self.log_loss.len())
            .map(|i| {
                huber(
                    self.delta,
                    self.log_loss[i] - log_sum_exp(self.terms(x, i)).0,
                )
            })
            .sum()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let mut g = vec![0.0; N_PARAMS];
        for i in 0..self.log_loss.len() {
            let (lse, w) = log_sum_exp(self.terms(x, i));
            // d/dθ Huber(log L − LSE) = −Huber'(r)·dLSE/dθ, and dLSE/dt_k = w_k.
            let h = -huber_derivative(self.delta, self.log_loss[i] - lse);
            g[0] += h * w[0];
            g[1] += h * w[1];
            g[2] += h * w[2];
            g[3] -= h * w[0] * self.log_n[i];
            g[4] -= h * w[1] * self.log_d[i];
        }
        g
    }
}

/// Fits the Chinchilla law to `points` by approach 3, in parallel over starts.
///
/// Ties between starts are broken by grid order, so the result does not depend on
/// the number of threads.
pub fn fit_approach3(
    points: &Points,
    options: &Approach3Options,
) -> Result<Approach3Fit, FitError> {
    if points.len() < N_PARAMS {
        return Err(FitError::TooFewPoints {
            got: points.len(),
            needed: N_PARAMS,
        });
    }
    let objective = HuberObjective::new(points, options.delta);
    let starts = options.grid.starts();
    let results: Vec<Option<(Vec<f64>, f64)>> = starts
        .par_iter()
        .map(|s| lbfgs(&objective, s.to_vec(), options.max_iters))
        .collect();
    let converged_starts = results.iter().flatten().count();
    let (x, objective) = results
        .into_iter()
        .flatten()
        .fold(None, |best: Option<(Vec<f64>, f64)>, r| match best {
            Some(b) if b.1 <= r.1 => Some(b),
            _ => Some(r),
        })
        .ok_or(FitError::NoConvergence)?;
    let law = ChinchillaLaw {
        e: x[2].exp(),
        a: x[0].exp(),
        b: x[1].exp(),
        alpha: x[3],
        beta: x[4],
    };
    Ok(Approach3Fit {
        law,
        objective,
        converged_starts,
        total_starts: starts.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Point;

    #[test]
    fn gradient_matches_central_differences() {
        let pts: Vec<Point> = (0..12)
            .map(|i| {
                let (n, d) = (1e6 * 3f64.powi(i % 4), 1e8 * 2f64.powi(i / 4));
                Point {
                    n,
                    d,
                    loss: 2.0
                        + 300.0 / n.powf(0.3)
                        + 200.0 / d.powf(0.25)
                        + 0.01 * (i as f64).sin(),
                }
            })
            .collect();
        let obj = HuberObjective::new(&Points::new(pts).unwrap(), 0.05);
        let x = [5.0, 4.0, 0.6, 0.35, 0.3];
        let g = obj.gradient(&x);
        for k in 0..N_PARAMS {
            let h = 1e-6;
            let (mut xp, mut xm) = (x, x);
            xp[k] += h;
            xm[k] -= h;
            let fd = (obj.value(&xp) - obj.value(&xm)) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() <= 1e-6 * fd.abs().max(1e-3),
                "param {k}: fd {fd} vs {}",
                g[k]
            );
        }
    }

    #[test]
    fn too_few_points_is_an_error() {
        let pts = Points::new(vec![
            Point {
                n: 1.0,
                d: 1.0,
                loss: 1.0
            };
            4
        ])
        .unwrap();
        assert!(matches!(
            fit_approach3(&pts, &Approach3Options::default()),
            Err(FitError::TooFewPoints { got: 4, needed: 5 })
        ));
    }
}
