//! Chinchilla approach 3: fit `L(N, D) = E + A/N^α + B/D^β` by minimising the sum over
//! points of `Huber_δ(log L − LSE(a − α·log N, b − β·log D, e))` with L-BFGS from every
//! start of Hoffmann's grid and keeping the best (Hoffmann et al. 2022, §3.3 and D.2;
//! the sum, not the mean, as Besiroglu et al. 2024 found necessary).

use rayon::prelude::*;
use wide::f32x8;

use crate::bootstrap::{bootstrap_clusters, bootstrap_signs, BootstrapOptions, Draws, Resampling};
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
    /// Which point of the design each term is (a bootstrap resample repeats some), for
    /// [`Screen`].
    index: Vec<usize>,
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
        let index: Vec<usize> = indices.into_iter().collect();
        for &i in &index {
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
            index,
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
            let ([w0, w1, w2], s, fitted) = lanes([a, b, e, alpha, beta], ln_n, ln_d);
            let r = ln_l - fitted;
            f8 += huber_lanes(r, delta, half_delta);
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

/// The law's log loss at eight points (`[a, b, e, α, β]` splat), with the terms of its
/// log-sum-exp: `(exp(t_k − m), their sum, m + ln(sum))`, `m` the largest term.
#[inline(always)]
fn lanes(x: [f32x8; N_PARAMS], ln_n: f32x8, ln_d: f32x8) -> ([f32x8; 3], f32x8, f32x8) {
    let [a, b, e, alpha, beta] = x;
    let t0 = a - alpha * ln_n;
    let t1 = b - beta * ln_d;
    let m = t0.max(t1).max(e);
    let (w0, w1, w2) = ((t0 - m).exp(), (t1 - m).exp(), (e - m).exp());
    let s = w0 + w1 + w2;
    ([w0, w1, w2], s, m + s.ln())
}

/// Huber of eight residuals `r` (`half_delta` is `δ/2`).
#[inline(always)]
fn huber_lanes(r: f32x8, delta: f32x8, half_delta: f32x8) -> f32x8 {
    let abs = r.abs();
    abs.simd_le(delta)
        .select(0.5 * r * r, delta * (abs - half_delta))
}

/// The same as [`lanes`] at one point, in f64 (libm).
#[inline(always)]
fn terms(x: &[f64; N_PARAMS], log_n: f64, log_d: f64) -> ([f64; 3], f64, f64) {
    let [a, b, e, alpha, beta] = *x;
    let (t0, t1) = (a - alpha * log_n, b - beta * log_d);
    let m = t0.max(t1).max(e);
    let w = [t0, t1, e].map(|v| (v - m).exp());
    let s = w[0] + w[1] + w[2];
    (w, s, m + s.ln())
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
        let mut f = 0.0;
        for i in range {
            let (w, s, fitted) = terms(x, self.log_n[i], self.log_d[i]);
            let r = self.log_loss[i] - fitted;
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

/// The grid's starts scored against many draws of losses on one design (the bootstrap's
/// resamples): the law of each start at each point of the design does not depend on the
/// losses, so it is computed once, and a draw's score at a start is then a Huber sum of
/// differences, with no `exp` or `ln`. The scores equal [`Coarse`]'s objective bit for
/// bit (the same lanes, the same f64 tail), so a refit screened here picks the starts
/// it would pick without the screen.
pub(crate) struct Screen {
    starts: Vec<[f64; N_PARAMS]>,
    /// Points of the design; 0 when it is too large to hold ([`Screen::MAX_TERMS`]), in
    /// which case each score is [`Coarse`]'s own.
    points: usize,
    /// The fitted log loss of start `s` at point `i`, at `s·points + i`: in f32 as
    /// [`Coarse`]'s lanes compute it, and in f64 as its scalar tail does.
    fitted32: Vec<f32>,
    fitted64: Vec<f64>,
}

impl Screen {
    /// Above this many start-point pairs (about 48 MB) the scores are not held.
    const MAX_TERMS: usize = 1 << 22;

    /// The screen of `starts` on the design of `objective` (its own order of points,
    /// which draws' objectives index through [`HuberObjective::from_indices`]).
    pub(crate) fn new(objective: &HuberObjective, starts: Vec<[f64; N_PARAMS]>) -> Self {
        let o = objective;
        let points = o.log_n.len();
        if points == 0 || starts.len() * points > Self::MAX_TERMS {
            return Self {
                starts,
                points: 0,
                fitted32: Vec::new(),
                fitted64: Vec::new(),
            };
        }
        // Eight points per step as in `Coarse`, the last step padded with its last point.
        let lane = |v: &[f32], c: usize| {
            f32x8::from(std::array::from_fn(|j| v[(8 * c + j).min(points - 1)]))
        };
        let per_start = |x: &[f64; N_PARAMS]| {
            let splat = x.map(|v| f32x8::splat(v as f32));
            let mut f32s = Vec::with_capacity(points);
            for c in 0..points.div_ceil(8) {
                let (_, _, fitted) = lanes(splat, lane(&o.log_n32, c), lane(&o.log_d32, c));
                f32s.extend(fitted.to_array().iter().take(points - 8 * c));
            }
            let f64s: Vec<f64> = (0..points)
                .map(|i| terms(x, o.log_n[i], o.log_d[i]).2)
                .collect();
            (f32s, f64s)
        };
        let (fitted32, fitted64): (Vec<Vec<f32>>, Vec<Vec<f64>>) =
            starts.par_iter().map(per_start).unzip();
        Self {
            starts,
            points,
            fitted32: fitted32.concat(),
            fitted64: fitted64.concat(),
        }
    }

    /// [`Coarse`]'s objective of `objective` (a draw on this screen's design) at start
    /// `s`.
    fn score(&self, objective: &HuberObjective, s: usize) -> f64 {
        let o = objective;
        if self.points == 0 {
            return Coarse(o).value_grad(&self.starts[s], &mut [0.0; N_PARAMS]);
        }
        let fitted32 = &self.fitted32[s * self.points..(s + 1) * self.points];
        let fitted64 = &self.fitted64[s * self.points..(s + 1) * self.points];
        let delta = f32x8::splat(o.delta as f32);
        let half_delta = f32x8::splat(0.5 * o.delta as f32);
        let mut f8 = f32x8::ZERO;
        let chunks = o.log_loss32.len() / 8;
        for c in 0..chunks {
            let ln_l = f32x8::from(std::array::from_fn(|j| o.log_loss32[8 * c + j]));
            let fitted = f32x8::from(std::array::from_fn(|j| fitted32[o.index[8 * c + j]]));
            f8 += huber_lanes(ln_l - fitted, delta, half_delta);
        }
        let tail: f64 = (8 * chunks..o.log_loss.len())
            .map(|i| huber(o.delta, o.log_loss[i] - fitted64[o.index[i]]))
            .fold(0.0, |f, h| f + h);
        f64::from(f8.reduce_add()) + tail
    }
}

/// A refit for the bootstrap: the objective is scored at every start of `screen`, and
/// L-BFGS runs from the `keep` best of them and from `warm` (the fit to the full data).
/// Returns the law and the objective, or `None` if nothing ended finite.
pub(crate) fn refit_screened(
    objective: &HuberObjective,
    options: &Approach3Options,
    screen: &Screen,
    keep: usize,
    warm: &ChinchillaLaw,
) -> Option<(ChinchillaLaw, f64)> {
    let mut scored: Vec<(f64, [f64; N_PARAMS])> = (0..screen.starts.len())
        .map(|s| (screen.score(objective, s), screen.starts[s]))
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

/// Approach 3 refitted to `points` as the bootstrap refits one resample
/// ([`refit_screened`] over `screen`, made on `points`' design, keeping `keep` starts),
/// warm from `warm`.
pub(crate) fn refit_warm(
    points: &Points,
    options: &Approach3Options,
    screen: &Screen,
    keep: usize,
    warm: &ChinchillaLaw,
) -> Option<ChinchillaLaw> {
    let objective = HuberObjective::new(points, options.delta);
    refit_screened(&objective, options, screen, keep, warm).map(|(law, _)| law)
}

/// The screen of `options`' grid on the design of `points`.
pub(crate) fn screen_of(points: &Points, options: &Approach3Options) -> Screen {
    Screen::new(
        &HuberObjective::new(points, options.delta),
        options.grid.starts(),
    )
}

/// A fit's log-loss residuals and fitted values, for the residual bootstraps. The
/// residuals of each group (a family for the wild cluster bootstrap, one point each for
/// the residual bootstrap) are multiplied by `(I − H_gg)^(−1/2)`, `H_gg` the group's block
/// of the fit's hat matrix, then centred: the fit pulls its points towards itself, at the
/// corners of a design most, and takes part of what a family's runs share as a block, so
/// their raw residuals understate the noise. For one point this is the division by
/// `√(1 − h_i)` of Davison & Hinkley (1997, eq. 6.9); for a family it is Bell &
/// McCaffrey's (2002) CR2 adjustment, as MacKinnon, Nielsen & Webb (2023) use it in the
/// wild cluster bootstrap. Where the hat matrix cannot be computed, every residual is
/// rescaled by `√(n/(n−5))`.
struct Residuals<'p> {
    points: &'p Points,
    fitted: Vec<f64>,
    residuals: Vec<f64>,
}

impl<'p> Residuals<'p> {
    /// `groups` partitions the points' indices.
    fn of(points: &'p Points, law: &ChinchillaLaw, groups: &[Vec<usize>]) -> Self {
        let p = points.as_slice();
        let fitted: Vec<f64> = p.iter().map(|q| law.loss(q.n, q.d).ln()).collect();
        let raw: Vec<f64> = p
            .iter()
            .zip(&fitted)
            .map(|(q, f)| q.loss.ln() - f)
            .collect();
        let n = raw.len() as f64;
        let adjusted =
            hat_matrix(points, law).and_then(|hat| adjust_by_leverage(&hat, groups, &raw));
        let adjusted: Vec<f64> = match adjusted {
            Some(adjusted) => adjusted,
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

/// The fit's hat matrix `H = J (JᵀJ)⁻¹ Jᵀ`, `J` the Jacobian of `ln L(N_i, D_i)` in the
/// law's log parameters (central differences): how much each point's fitted log loss
/// moves with each point's observed one. `None` when `JᵀJ` is singular (a parameter the
/// points do not determine).
fn hat_matrix(points: &Points, law: &ChinchillaLaw) -> Option<Vec<Vec<f64>>> {
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
    // (JᵀJ)⁻¹ J_b for each point b, solved as the point's own system.
    let solved: Vec<Vec<f64>> = jac
        .iter()
        .map(|j| {
            let augmented = (0..N_PARAMS)
                .map(|r| jtj[r].iter().copied().chain([j[r]]).collect())
                .collect();
            crate::stats::solve(augmented)
        })
        .collect::<Option<_>>()?;
    Some(
        jac.iter()
            .map(|ja| {
                solved
                    .iter()
                    .map(|sb| ja.iter().zip(sb).map(|(x, y)| x * y).sum())
                    .collect()
            })
            .collect(),
    )
}

/// `raw` (residuals in log loss, one per point) with each group's residuals multiplied
/// by `(I − H_gg)^(−1/2)`, `H_gg` the group's block of `hat` ([`hat_matrix`]), with `1 − h`
/// floored at 0.01 (the eigenvalues of `I − H_gg` for a group). `None` when a leverage
/// is outside [0, 1).
fn adjust_by_leverage(hat: &[Vec<f64>], groups: &[Vec<usize>], raw: &[f64]) -> Option<Vec<f64>> {
    const FLOOR: f64 = 0.01;
    let mut adjusted = vec![0.0; raw.len()];
    for group in groups {
        if group.iter().any(|&i| !(0.0..1.0).contains(&hat[i][i])) {
            return None;
        }
        if let [i] = group[..] {
            adjusted[i] = raw[i] / (1.0 - hat[i][i]).max(FLOOR).sqrt();
            continue;
        }
        let block: Vec<Vec<f64>> = group
            .iter()
            .map(|&a| {
                group
                    .iter()
                    .map(|&b| f64::from(u8::from(a == b)) - 0.5 * (hat[a][b] + hat[b][a]))
                    .collect()
            })
            .collect();
        let root = crate::stats::inverse_sqrt_symmetric(&block, FLOOR)?;
        for (k, &a) in group.iter().enumerate() {
            adjusted[a] = group.iter().zip(&root[k]).map(|(&b, m)| m * raw[b]).sum();
        }
    }
    Some(adjusted)
}

/// Runs `refit` on `boot.resamples` sweeps drawn about `law` with the design of `points`
/// (every point keeps its N and D), in parallel. Under [`Resampling::WildFamilies`] and
/// [`Resampling::WildModels`] each of `clusters` (a partition of the points) flips the
/// sign of its residuals together; otherwise (residuals, and pairs, which would change
/// the design) each point takes a residual drawn with replacement. The residuals are
/// the law's, adjusted for leverage ([`Residuals`]).
pub(crate) fn bootstrap_fixed_design<F>(
    points: &Points,
    clusters: &[Vec<usize>],
    law: &ChinchillaLaw,
    boot: &BootstrapOptions,
    refit: F,
) -> Draws
where
    F: Fn(&Points) -> Option<Vec<f64>> + Sync,
{
    match boot.resampling {
        Resampling::WildFamilies | Resampling::WildModels => {
            let residuals = Residuals::of(points, law, clusters);
            let mut family = vec![0; points.len()];
            for (g, members) in clusters.iter().enumerate() {
                for &i in members {
                    family[i] = g;
                }
            }
            bootstrap_signs(clusters.len(), boot, |signs| {
                refit(&residuals.flipped(&family, signs)?)
            })
        }
        // Unresolved (only `analyse` knows the data's seeds): a fixed design's residuals.
        Resampling::Pairs | Resampling::Residuals | Resampling::Sweep => {
            let singles: Vec<Vec<usize>> = (0..points.len()).map(|i| vec![i]).collect();
            let residuals = Residuals::of(points, law, &singles);
            bootstrap_clusters(&singles, boot, |idx| refit(&residuals.resample(idx)?))
        }
    }
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
/// the families, under [`Resampling::WildModels`] the models, whose residuals flip sign
/// together), and refits each resample from the grid (see
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
    let screen = screen_of(points, options);
    let refit = |objective: &HuberObjective| {
        let (law, _) = refit_screened(objective, options, &screen, boot.screen_keep, &fit.law)?;
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
        _ => bootstrap_fixed_design(points, clusters, &fit.law, boot, |drawn| {
            refit(&HuberObjective::new(drawn, options.delta))
        }),
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
    fn family_residuals_are_adjusted_to_the_noise_they_came_from() {
        // A one-seed sweep's shape: 6 sizes, each a family branching at 1-6 budgets.
        let law = ChinchillaLaw {
            e: 1.1,
            a: 13.0,
            alpha: 0.29,
            b: 7.8e4,
            beta: 0.85,
        };
        let mut pts = Vec::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for size in 0..6 {
            let n = 2e4 * 1.5f64.powi(size);
            groups.push((pts.len()..pts.len() + size as usize + 1).collect());
            for branch in 0..=size {
                let d = 2e6 * 1.4f64.powi(branch);
                pts.push(Point {
                    n,
                    d,
                    loss: law.loss(n, d),
                });
            }
        }
        let points = Points::new(pts).unwrap();
        let n = points.len();
        let hat = hat_matrix(&points, &law).unwrap();
        // A hat matrix is a symmetric projection onto the five parameters' directions.
        let trace: f64 = (0..n).map(|i| hat[i][i]).sum();
        assert!((trace - N_PARAMS as f64).abs() < 1e-6, "trace {trace}");
        for i in 0..n {
            for j in 0..n {
                let hh: f64 = (0..n).map(|k| hat[i][k] * hat[k][j]).sum();
                assert!((hh - hat[i][j]).abs() < 1e-6 && (hat[i][j] - hat[j][i]).abs() < 1e-6);
            }
        }
        // Under independent noise of unit variance the residuals are (I − H)·u, so their
        // covariance is (I − H): the sum over unit vectors u = e_k of û ûᵀ. After the
        // adjustment each family's covariance must be the identity (Bell & McCaffrey's
        // CR2), where the raw residuals' is smaller; one point per group gets only its
        // own variance right.
        let adjusted_columns = |groups: &[Vec<usize>]| -> Vec<Vec<f64>> {
            (0..n)
                .map(|k| {
                    let raw: Vec<f64> = (0..n)
                        .map(|i| f64::from(u8::from(i == k)) - hat[i][k])
                        .collect();
                    adjust_by_leverage(&hat, groups, &raw).unwrap()
                })
                .collect()
        };
        let columns = adjusted_columns(&groups);
        for g in &groups {
            for &a in g {
                for &b in g {
                    let cov: f64 = columns.iter().map(|c| c[a] * c[b]).sum();
                    let want = f64::from(u8::from(a == b));
                    assert!((cov - want).abs() < 1e-6, "family {g:?}: ({a}, {b}) {cov}");
                }
            }
        }
        let singles: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let largest = groups.last().unwrap();
        let single_columns = adjusted_columns(&singles);
        // Summed over the family, the point-by-point adjustment understates the noise the
        // family's runs share: the variance of the sum falls short of the family's size.
        let summed = |cols: &[Vec<f64>]| -> f64 {
            cols.iter()
                .map(|c| largest.iter().map(|&a| c[a]).sum::<f64>().powi(2))
                .sum()
        };
        let (by_family, by_point) = (summed(&columns), summed(&single_columns));
        assert!(
            (by_family - largest.len() as f64).abs() < 1e-6,
            "{by_family}"
        );
        assert!(by_point < 0.5 * largest.len() as f64, "{by_point}");
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
    fn the_screen_scores_every_start_as_the_coarse_objective_does() {
        // 21 points: two chunks of eight and five in the f64 tail; losses off the law.
        let pts: Vec<Point> = (0..21)
            .map(|i| {
                let (n, d) = (1e6 * 2f64.powi(i % 5), 1e8 * 1.7f64.powi(i));
                let loss = 2.0 + 300.0 / n.powf(0.3) + 200.0 / d.powf(0.25);
                Point {
                    n,
                    d,
                    loss: loss * (1.0 + 0.03 * (i as f64).sin()),
                }
            })
            .collect();
        let points = Points::new(pts).unwrap();
        let options = Approach3Options::default();
        let screen = screen_of(&points, &options);
        assert_eq!(screen.points, 21);
        // The design itself, a draw of other losses on it, and a resample of its points
        // with repeats (the pairs bootstrap), in an order the screen was not built in.
        let mut drawn = points.as_slice().to_vec();
        for (i, p) in drawn.iter_mut().enumerate() {
            p.loss *= 1.0 + 0.05 * (i as f64 * 0.7).cos();
        }
        let picks = [
            20, 3, 3, 17, 0, 9, 9, 9, 12, 1, 20, 5, 6, 8, 2, 15, 4, 11, 19, 7, 14,
        ];
        let objectives = [
            HuberObjective::new(&points, options.delta),
            HuberObjective::new(&Points::new(drawn).unwrap(), options.delta),
            HuberObjective::from_indices(&points, options.delta, picks),
        ];
        let some_starts = Screen::new(&objectives[0], options.grid.starts().split_off(4400));
        for o in &objectives {
            for (s, x) in screen.starts.iter().enumerate() {
                let coarse = Coarse(o).value_grad(x, &mut [0.0; N_PARAMS]);
                // Bit for bit, non-finite values included.
                assert_eq!(screen.score(o, s).to_bits(), coarse.to_bits(), "start {s}");
            }
            let coarse = Coarse(o).value_grad(&some_starts.starts[0], &mut [0.0; N_PARAMS]);
            assert_eq!(some_starts.score(o, 0).to_bits(), coarse.to_bits());
        }
        // A design too large to hold falls back to the objective itself.
        let many: Vec<Point> = (0..1000)
            .map(|i| Point {
                n: 1e6 + i as f64,
                d: 1e8,
                loss: 3.0,
            })
            .collect();
        let big = HuberObjective::new(&Points::new(many).unwrap(), options.delta);
        let fallback = Screen::new(&big, options.grid.starts());
        assert_eq!(fallback.points, 0);
        let x = fallback.starts[7];
        assert_eq!(
            fallback.score(&big, 7).to_bits(),
            Coarse(&big).value_grad(&x, &mut [0.0; N_PARAMS]).to_bits()
        );
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
