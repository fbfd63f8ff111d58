//! Chinchilla approach 3: fit `L(N, D) = E + A/N^α + B/D^β` by minimising the sum over
//! points of `Huber_δ(log L − LSE(a − α·log N, b − β·log D, e))` with L-BFGS from every
//! start of Hoffmann's grid and keeping the best (Hoffmann et al. 2022, §3.3 and D.2;
//! the sum, not the mean, as Besiroglu et al. 2024 found necessary).

use rayon::prelude::*;
use wide::f32x8;

use crate::bootstrap::{bootstrap_clusters, bootstrap_signs, BootstrapOptions, Resampling};
use crate::minimize::{lbfgs, Minimum, Objective, Tolerances};
use crate::{huber, huber_derivative, ChinchillaLaw, FitError, IsoFlop, Point, Points, Spread};

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
    pub max_iters: usize,
    /// How many of the best grid results are polished with tight tolerances.
    pub polish: usize,
}

impl Approach3Options {
    /// Tolerances of the f32 run from each start: scipy L-BFGS-B's default gradient
    /// tolerance (`pgtol = 1e-5`) and a relative decrease of 1e-6, above the f32
    /// objective's rounding (~1e-7), below which its line searches only chase noise.
    fn grid_tolerances(&self) -> Tolerances {
        Tolerances {
            grad: 1e-5,
            rel_cost: 1e-6,
            max_iters: self.max_iters,
        }
    }

    /// Tolerances of the polishing runs from the best few grid results.
    fn polish_tolerances(&self) -> Tolerances {
        Tolerances {
            max_iters: self.max_iters,
            ..Tolerances::default()
        }
    }
}

impl Default for Approach3Options {
    fn default() -> Self {
        Self {
            delta: 1e-3,
            grid: StartGrid::hoffmann(),
            max_iters: 1000,
            polish: 16,
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
    /// Objective evaluations over all starts.
    pub evaluations: usize,
}

/// The approach-3 objective over points held in log space.
pub(crate) struct HuberObjective {
    log_n: Vec<f64>,
    log_d: Vec<f64>,
    log_loss: Vec<f64>,
    delta: f64,
    /// The same in f32, for [`Coarse`].
    log_n32: Vec<f32>,
    log_d32: Vec<f32>,
    log_loss32: Vec<f32>,
}

impl HuberObjective {
    pub(crate) fn new(points: &Points, delta: f64) -> Self {
        Self::from_indices(points, delta, 0..points.len())
    }

    /// The objective over `points[i]` for each `i` of `indices` (repeats allowed, as
    /// in a bootstrap resample).
    pub(crate) fn from_indices(
        points: &Points,
        delta: f64,
        indices: impl IntoIterator<Item = usize>,
    ) -> Self {
        let p = points.as_slice();
        let (mut log_n, mut log_d, mut log_loss) = (Vec::new(), Vec::new(), Vec::new());
        for i in indices {
            log_n.push(p[i].n.ln());
            log_d.push(p[i].d.ln());
            log_loss.push(p[i].loss.ln());
        }
        let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect();
        Self {
            log_n32: f32s(&log_n),
            log_d32: f32s(&log_d),
            log_loss32: f32s(&log_loss),
            log_n,
            log_d,
            log_loss,
            delta,
        }
    }
}

/// The objective in f32, eight points per step: about twice the throughput of the f64
/// lanes and accurate to ~1e-6 relative, enough to find the basins from the grid's
/// starts. The best grid results are then polished in f64 ([`HuberObjective`]).
pub(crate) struct Coarse<'a>(pub &'a HuberObjective);

impl Objective<N_PARAMS> for Coarse<'_> {
    fn value_grad(&self, x: &[f64; N_PARAMS], g: &mut [f64; N_PARAMS]) -> f64 {
        let o = self.0;
        let [a, b, e, alpha, beta] = x.map(|v| f32x8::splat(v as f32));
        let delta = f32x8::splat(o.delta as f32);
        let (neg_delta, half_delta) = (-delta, f32x8::splat(0.5 * o.delta as f32));
        let mut f8 = f32x8::ZERO;
        let mut g8 = [f32x8::ZERO; N_PARAMS];
        let chunks = o.log_loss.len() / 8;
        for c in 0..chunks {
            let load = |v: &[f32]| {
                f32x8::from(<[f32; 8]>::try_from(&v[8 * c..8 * c + 8]).unwrap_or_default())
            };
            let (ln_n, ln_d, ln_l) = (load(&o.log_n32), load(&o.log_d32), load(&o.log_loss32));
            let t0 = a - alpha * ln_n;
            let t1 = b - beta * ln_d;
            let m = t0.max(t1).max(e);
            let (w0, w1, w2) = ((t0 - m).exp(), (t1 - m).exp(), (e - m).exp());
            let s = w0 + w1 + w2;
            let r = ln_l - (m + s.ln());
            let abs = r.abs();
            f8 += abs
                .simd_le(delta)
                .select(0.5 * r * r, delta * (abs - half_delta));
            let h = -(r.max(neg_delta).min(delta)) / s;
            g8[0] += h * w0;
            g8[1] += h * w1;
            g8[2] += h * w2;
            g8[3] -= h * w0 * ln_n;
            g8[4] -= h * w1 * ln_d;
        }
        for (gk, lanes) in g.iter_mut().zip(&g8) {
            *gk = f64::from(lanes.reduce_add());
        }
        f64::from(f8.reduce_add()) + o.add_scalar(8 * chunks..o.log_loss.len(), x, g)
    }
}

impl HuberObjective {
    /// The scalar objective and gradient over points `range` (libm, with the log-sum-exp
    /// shifted by its largest term).
    fn add_scalar(
        &self,
        range: std::ops::Range<usize>,
        x: &[f64; N_PARAMS],
        g: &mut [f64; N_PARAMS],
    ) -> f64 {
        let [a, b, e, alpha, beta] = *x;
        let mut f = 0.0;
        for i in range {
            let (t0, t1) = (a - alpha * self.log_n[i], b - beta * self.log_d[i]);
            let m = t0.max(t1).max(e);
            let w = [t0, t1, e].map(|v| (v - m).exp());
            let s = w[0] + w[1] + w[2];
            let r = self.log_loss[i] - (m + s.ln());
            f += huber(self.delta, r);
            // d/dθ Huber(log L − LSE) = −Huber'(r)·dLSE/dθ, and dLSE/dt_k = w_k/s.
            let h = -huber_derivative(self.delta, r) / s;
            g[0] += h * w[0];
            g[1] += h * w[1];
            g[2] += h * w[2];
            g[3] -= h * w[0] * self.log_n[i];
            g[4] -= h * w[1] * self.log_d[i];
        }
        f
    }
}

impl Objective<N_PARAMS> for HuberObjective {
    /// `x = [a, b, e, α, β]`, in scalar f64: this objective only polishes the best grid
    /// results, so the grid's SIMD lanes ([`Coarse`]) are where speed matters.
    fn value_grad(&self, x: &[f64; N_PARAMS], g: &mut [f64; N_PARAMS]) -> f64 {
        *g = [0.0; N_PARAMS];
        self.add_scalar(0..self.log_loss.len(), x, g)
    }
}

/// The law of a parameter vector `[a, b, e, α, β]`.
fn law_of(x: &[f64; N_PARAMS]) -> ChinchillaLaw {
    ChinchillaLaw {
        e: x[2].exp(),
        a: x[0].exp(),
        b: x[1].exp(),
        alpha: x[3],
        beta: x[4],
    }
}

/// Minimises from every start in parallel with loose tolerances in f32, then polishes
/// the `options.polish` best results with tight ones in f64. Returns the best minimum (ties go to
/// the earlier start, so the result does not depend on the number of threads), how
/// many starts ended finite, and the number of objective evaluations.
fn best_of(
    objective: &HuberObjective,
    starts: &[[f64; N_PARAMS]],
    options: &Approach3Options,
) -> (Option<Minimum<N_PARAMS>>, usize, usize) {
    let tol = options.grid_tolerances();
    let coarse = Coarse(objective);
    let mut results: Vec<Minimum<N_PARAMS>> = starts
        .par_iter()
        .map(|s| lbfgs(&coarse, *s, tol))
        .filter(|m| m.value.is_finite())
        .collect();
    let finite = results.len();
    let mut evaluations: usize = results.iter().map(|m| m.evals).sum();
    // A stable sort keeps grid order among equal values.
    results.sort_by(|x, y| x.value.total_cmp(&y.value));
    let tol = options.polish_tolerances();
    let polished: Vec<Minimum<N_PARAMS>> = results
        .par_iter()
        .take(options.polish.max(1))
        .map(|m| lbfgs(objective, m.x, tol))
        .collect();
    evaluations += polished.iter().map(|m| m.evals).sum::<usize>();
    let best = polished.into_iter().filter(|m| m.value.is_finite()).fold(
        None,
        |best: Option<Minimum<N_PARAMS>>, m| match best {
            Some(b) if b.value <= m.value => Some(b),
            _ => Some(m),
        },
    );
    (best, finite, evaluations)
}

/// Fits the Chinchilla law to `points` by approach 3: L-BFGS from every start of the
/// grid, in parallel, keeping the lowest objective.
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
    let (best, converged_starts, evaluations) = best_of(&objective, &starts, options);
    let best = best.ok_or(FitError::NoConvergence)?;
    Ok(Approach3Fit {
        law: law_of(&best.x),
        objective: best.value,
        converged_starts,
        total_starts: starts.len(),
        evaluations,
    })
}

/// A refit for the bootstrap: the objective is evaluated at every start of `grid`,
/// and L-BFGS runs from the `keep` best of them and from `warm` (the fit to the full
/// data). Returns the law and the objective, or `None` if nothing ended finite.
pub(crate) fn refit_screened(
    objective: &HuberObjective,
    options: &Approach3Options,
    grid: &[[f64; N_PARAMS]],
    keep: usize,
    warm: &ChinchillaLaw,
) -> Option<(ChinchillaLaw, f64)> {
    let mut scored: Vec<(f64, [f64; N_PARAMS])> = grid
        .iter()
        .map(|&s| {
            let mut g = [0.0; N_PARAMS];
            (Coarse(objective).value_grad(&s, &mut g), s)
        })
        .filter(|(v, _)| v.is_finite())
        .collect();
    scored.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut starts: Vec<[f64; N_PARAMS]> = vec![warm.log_params()];
    starts.extend(scored.iter().take(keep).map(|(_, s)| *s));
    let (coarse, polish) = (options.grid_tolerances(), options.polish_tolerances());
    starts
        .iter()
        .map(|s| lbfgs(&Coarse(objective), *s, coarse))
        .filter(|m| m.value.is_finite())
        .min_by(|x, y| x.value.total_cmp(&y.value))
        .map(|m| lbfgs(objective, m.x, polish))
        .filter(|m| m.value.is_finite())
        .map(|m| (law_of(&m.x), m.value))
}

/// A fit's log-loss residuals and fitted values, for the residual bootstrap. Each
/// residual is divided by `√(1 − h_i)`, `h_i` the point's leverage under the fit, then
/// centred: the fit pulls the points at the corners of a design towards itself, and
/// their raw residuals understate the noise there (Davison & Hinkley 1997, eq. 6.9).
/// Where the leverages cannot be computed, every residual is rescaled by `√(n/(n−5))`.
struct Residuals<'p> {
    points: &'p Points,
    fitted: Vec<f64>,
    residuals: Vec<f64>,
}

impl<'p> Residuals<'p> {
    fn of(points: &'p Points, law: &ChinchillaLaw) -> Self {
        let p = points.as_slice();
        let fitted: Vec<f64> = p.iter().map(|q| law.loss(q.n, q.d).ln()).collect();
        let raw: Vec<f64> = p
            .iter()
            .zip(&fitted)
            .map(|(q, f)| q.loss.ln() - f)
            .collect();
        let n = raw.len() as f64;
        let adjusted: Vec<f64> = match leverages(points, law) {
            Some(h) => raw
                .iter()
                .zip(&h)
                .map(|(r, h)| r / (1.0 - h).max(0.01).sqrt())
                .collect(),
            None => {
                let scale = (n / (n - N_PARAMS as f64).max(1.0)).sqrt();
                raw.iter().map(|r| scale * r).collect()
            }
        };
        let mean = adjusted.iter().sum::<f64>() / n;
        Self {
            points,
            fitted,
            residuals: adjusted.iter().map(|r| r - mean).collect(),
        }
    }

    /// The points with their own residuals, each times its family's sign (`family[i]`
    /// indexes `signs`), added to their fitted values.
    fn flipped(&self, family: &[usize], signs: &[f64]) -> Option<Points> {
        let p = self.points.as_slice();
        let pts = (0..p.len())
            .map(|i| Point {
                loss: (self.fitted[i] + signs[family[i]] * self.residuals[i]).exp(),
                ..p[i]
            })
            .collect();
        Points::new(pts).ok()
    }

    /// The points with the residuals `picks` (indices into the residuals) added to
    /// their fitted values, in order.
    fn resample(&self, picks: &[usize]) -> Option<Points> {
        let p = self.points.as_slice();
        let pts = picks
            .iter()
            .enumerate()
            .map(|(i, &k)| Point {
                loss: (self.fitted[i] + self.residuals[k]).exp(),
                ..p[i]
            })
            .collect();
        Points::new(pts).ok()
    }
}

/// The leverage of every point under `law`: the diagonal of `J (JᵀJ)⁻¹ Jᵀ`, with `J` the
/// Jacobian of `ln L(N_i, D_i)` in the fit's log parameters (central differences).
/// `None` when `JᵀJ` is singular (a parameter the points do not determine).
fn leverages(points: &Points, law: &ChinchillaLaw) -> Option<Vec<f64>> {
    let x = law.log_params();
    let row = |q: &Point| -> [f64; N_PARAMS] {
        let mut grad = [0.0; N_PARAMS];
        for (k, g) in grad.iter_mut().enumerate() {
            let step = 1e-5 * x[k].abs().max(1.0);
            let (mut up, mut down) = (x, x);
            up[k] += step;
            down[k] -= step;
            *g = (law_of(&up).loss(q.n, q.d).ln() - law_of(&down).loss(q.n, q.d).ln())
                / (2.0 * step);
        }
        grad
    };
    let jac: Vec<[f64; N_PARAMS]> = points.as_slice().iter().map(row).collect();
    let mut jtj = [[0.0; N_PARAMS]; N_PARAMS];
    for j in &jac {
        for r in 0..N_PARAMS {
            for c in 0..N_PARAMS {
                jtj[r][c] += j[r] * j[c];
            }
        }
    }
    jac.iter()
        .map(|j| {
            let augmented = (0..N_PARAMS)
                .map(|r| jtj[r].iter().copied().chain([j[r]]).collect())
                .collect();
            let v = crate::stats::solve(augmented)?;
            let h: f64 = j.iter().zip(&v).map(|(a, b)| a * b).sum();
            (h.is_finite() && (0.0..1.0).contains(&h)).then_some(h)
        })
        .collect()
}

/// Bootstrap spreads of an approach-3 fit and of what it implies.
#[derive(Debug, Clone, PartialEq)]
pub struct Approach3Bootstrap {
    /// Spreads of `alpha, beta, E, A, B, a, b`, named.
    pub params: Vec<(&'static str, Spread)>,
    /// Spread of `D*/N*` at each budget.
    pub tokens_per_param: Vec<Option<Spread>>,
    /// Spread of the loss at the compute optimum at each budget.
    pub loss_at_optimum: Vec<Option<Spread>>,
    /// Spread of the predicted loss at each target `(N, D)`.
    pub predicted: Vec<Option<Spread>>,
    /// Resamples that were refitted.
    pub resamples: usize,
    /// Resamples whose refit failed.
    pub failed: usize,
}

/// Names of the bootstrapped parameters, in the order of [`Approach3Bootstrap::params`].
const PARAM_NAMES: [&str; 7] = ["alpha", "beta", "E", "A", "B", "a", "b"];

/// The quantities recorded per bootstrap draw.
fn quantities(law: &ChinchillaLaw, budgets: &[IsoFlop], targets: &[(f64, f64)]) -> Vec<f64> {
    let mut q = vec![
        law.alpha,
        law.beta,
        law.e,
        law.a,
        law.b,
        law.n_exponent(),
        law.d_exponent(),
    ];
    for iso in budgets {
        let (n, d) = iso.optimum(law).unwrap_or((f64::NAN, f64::NAN));
        q.push(d / n);
        q.push(law.loss(n, d));
    }
    q.extend(targets.iter().map(|&(n, d)| law.loss(n, d)));
    q
}

/// Bootstraps `fit` (made from `points` with `options`): resamples the `clusters` of
/// points (runs that differ only by seed; one point each otherwise) with replacement,
/// or their residuals ([`Resampling`]; under [`Resampling::WildFamilies`] `clusters` are
/// the families, whose residuals flip sign together), and refits each resample from the grid (see
/// [`BootstrapOptions::screen_keep`]), in parallel. Besides the parameters it records,
/// per draw, `D*/N*` and the optimal loss at each of `budgets` and the loss at each of
/// `targets` (`(N, D)` pairs). A draw whose law has no optimum on a budget's path
/// ([`crate::IsoPath::optimum`]) leaves that budget's spread out of it.
pub fn bootstrap_approach3(
    points: &Points,
    clusters: &[Vec<usize>],
    fit: &Approach3Fit,
    options: &Approach3Options,
    boot: &BootstrapOptions,
    budgets: &[IsoFlop],
    targets: &[(f64, f64)],
) -> Approach3Bootstrap {
    let grid = options.grid.starts();
    let refit = |objective: &HuberObjective| {
        let (law, _) = refit_screened(objective, options, &grid, boot.screen_keep, &fit.law)?;
        Some(quantities(&law, budgets, targets))
    };
    let draws = match boot.resampling {
        Resampling::Pairs => bootstrap_clusters(clusters, boot, |idx| {
            refit(&HuberObjective::from_indices(
                points,
                options.delta,
                idx.iter().copied(),
            ))
        }),
        Resampling::WildFamilies => {
            let residuals = Residuals::of(points, &fit.law);
            let mut family = vec![0; points.len()];
            for (g, members) in clusters.iter().enumerate() {
                for &i in members {
                    family[i] = g;
                }
            }
            bootstrap_signs(clusters.len(), boot, |signs| {
                refit(&HuberObjective::new(
                    &residuals.flipped(&family, signs)?,
                    options.delta,
                ))
            })
        }
        // Unresolved (only `analyse` knows the data's seeds): a fixed design's residuals.
        Resampling::Residuals | Resampling::Sweep => {
            let residuals = Residuals::of(points, &fit.law);
            let singles: Vec<Vec<usize>> = (0..points.len()).map(|i| vec![i]).collect();
            bootstrap_clusters(&singles, boot, |idx| {
                refit(&HuberObjective::new(
                    &residuals.resample(idx)?,
                    options.delta,
                ))
            })
        }
    };
    let params = PARAM_NAMES
        .iter()
        .enumerate()
        .filter_map(|(q, name)| Some((*name, draws.spread(q)?)))
        .collect();
    let per_budget = |offset: usize| {
        (0..budgets.len())
            .map(|k| draws.spread(PARAM_NAMES.len() + 2 * k + offset))
            .collect()
    };
    Approach3Bootstrap {
        params,
        tokens_per_param: per_budget(0),
        loss_at_optimum: per_budget(1),
        predicted: (0..targets.len())
            .map(|t| draws.spread(PARAM_NAMES.len() + 2 * budgets.len() + t))
            .collect(),
        resamples: draws.rows.len(),
        failed: draws.failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Point;

    #[test]
    fn gradient_matches_central_differences() {
        let pts: Vec<Point> = (0..13)
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
        let mut g = [0.0; N_PARAMS];
        obj.value_grad(&x, &mut g);
        let value = |x: &[f64; N_PARAMS]| obj.value_grad(x, &mut [0.0; N_PARAMS]);
        for k in 0..N_PARAMS {
            let h = 1e-6;
            let (mut xp, mut xm) = (x, x);
            xp[k] += h;
            xm[k] -= h;
            let fd = (value(&xp) - value(&xm)) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() <= 1e-6 * fd.abs().max(1e-3),
                "param {k}: fd {fd} vs {}",
                g[k]
            );
        }
    }

    #[test]
    fn coarse_objective_agrees_with_the_f64_one() {
        // 19 points: two f32 chunks of eight and three in the scalar remainder.
        let pts: Vec<Point> = (0..19)
            .map(|i| {
                let (n, d) = (1e6 * 2f64.powi(i % 5), 1e8 * 1.7f64.powi(i));
                Point {
                    n,
                    d,
                    loss: 2.0
                        + 300.0 / n.powf(0.3)
                        + 200.0 / d.powf(0.25)
                        + 0.02 * (i as f64).cos(),
                }
            })
            .collect();
        let obj = HuberObjective::new(&Points::new(pts).unwrap(), 1e-3);
        for x in [[5.0, 4.0, 0.6, 0.35, 0.3], [0.0, 25.0, -1.0, 2.0, 0.0]] {
            let (mut g, mut gc) = ([0.0; N_PARAMS], [0.0; N_PARAMS]);
            let f = obj.value_grad(&x, &mut g);
            let fc = Coarse(&obj).value_grad(&x, &mut gc);
            assert!((fc / f - 1.0).abs() < 1e-5, "{fc} vs {f}");
            let scale = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for k in 0..N_PARAMS {
                assert!(
                    (gc[k] - g[k]).abs() < 1e-4 * scale,
                    "param {k}: {} vs {}",
                    gc[k],
                    g[k]
                );
            }
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
