//! A misfit smooth in model size: one deviation from the law per model (N), correlated
//! between models as a Gaussian field over ln N with a squared-exponential kernel
//! (Rasmussen & Williams, *Gaussian Processes for Machine Learning*, 2006, §4.2),
//! `corr(N_i, N_j) = exp(−(ln N_i − ln N_j)² / 2ℓ²)`. With ℓ = 0 the models are
//! independent, as the simulations drew them before; a larger ℓ draws a misfit that
//! rises or falls over neighbouring sizes together, as results/lab-cpu's does (its two
//! largest models above the law at every budget).

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::ChinchillaLaw;

/// Relative jitter added to the kernel's diagonal so that its Cholesky factor exists
/// when sizes lie close together on the scale of ℓ: the field's variance grows by this
/// share, far below anything a simulation can see.
const JITTER: f64 = 1e-9;

/// The lower-triangular `L` with `L·Lᵀ = a` of a symmetric positive-definite `a`
/// (Golub & Van Loan 2013, Alg. 4.2.1); `None` when `a` is not.
pub(crate) fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                // Not positive, or NaN: not positive-definite.
                if s.is_nan() || s <= 0.0 {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Independent standard normals `z`, one per model of log size `log_n`, turned into a
/// field of standard deviation `sd` whose correlation between models is the kernel's of
/// length `length` (in ln N): `sd · L·z` with `L` the kernel's Cholesky factor. With
/// `length` 0 (or a single model) this is `sd · z`: the same numbers as independent
/// draws.
pub fn smooth_in_size(log_n: &[f64], sd: f64, length: f64, z: &[f64]) -> Vec<f64> {
    assert_eq!(log_n.len(), z.len(), "one normal per model");
    if length <= 0.0 || log_n.len() < 2 {
        return z.iter().map(|z| sd * z).collect();
    }
    let mut kernel = kernel(log_n, length);
    for (i, row) in kernel.iter_mut().enumerate() {
        row[i] += JITTER;
    }
    let l =
        cholesky(&kernel).expect("a squared-exponential kernel with jitter is positive-definite");
    l.iter()
        .map(|row| sd * row.iter().zip(z).map(|(a, b)| a * b).sum::<f64>())
        .collect()
}

/// A point's mean log residual about a law, as [`fit_size_misfit`] reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MeanResidual {
    /// Parameters.
    pub n: f64,
    /// Tokens.
    pub d: f64,
    /// `ln(mean loss / law)`.
    pub residual: f64,
    /// Runs (seeds) averaged.
    pub runs: usize,
}

/// The variances [`fit_size_misfit`] holds fixed, as the calibration's method of moments
/// measured them: each run's own, a model and seed's shared one, and a point's misfit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedVariances {
    /// Each run's own noise.
    pub run: f64,
    /// Noise shared by the runs of one model and seed.
    pub family: f64,
    /// A point's misfit, shared by its seeds.
    pub point: f64,
}

/// A misfit by size fitted to a sweep's point means: the per-model term's SD and its
/// correlation length in ln N that maximise the restricted likelihood, and how much
/// better they do than a term independent per model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeMisfit {
    /// SD of the per-model term at `length` (log loss).
    pub sd: f64,
    /// Its correlation length in ln N (0: independent per model).
    pub length: f64,
    /// The SD that fits best with the term independent per model.
    pub independent_sd: f64,
    /// The restricted log likelihood at (`sd`, `length`) less the best independent one:
    /// how much the point means prefer a smooth term (0 when they do not); see `p`.
    pub gain: f64,
    /// The longest length tried: half the sweep's span in ln N, beyond which a smooth
    /// term is nearly of the law's own form, which the fit absorbs and the likelihood
    /// cannot see.
    pub max_length: f64,
    /// The likelihood-ratio test of an independent term (ℓ = 0, on the boundary) against
    /// a smooth one: `P(½χ²₀ + ½χ²₁ > 2·gain)` (Self & Liang 1987).
    pub p: f64,
    /// Whether the SD stayed below the largest tried ([`SizeMisfit::MAX_SD`]); where it
    /// did not, the term runs along what the law's form absorbs and its size is not
    /// measured.
    pub identified: bool,
}

impl SizeMisfit {
    /// The step of the grid of lengths tried, in ln N.
    pub const LENGTH_STEP: f64 = 0.125;
    /// The largest per-model SD tried (log loss).
    pub const MAX_SD: f64 = 0.2;

    /// Whether the misfit runs smoothly across sizes: a length found, the SD measured, and
    /// the test of an independent misfit rejecting at 0.05.
    pub fn is_smooth(&self) -> bool {
        self.identified && self.length > 0.0 && self.p < 0.05
    }
}

/// Fits a misfit by size to `points`' mean log residuals about `law` by restricted
/// maximum likelihood (REML: Patterson & Thompson 1971; Harville 1977): the residuals are
/// modelled as the law's five parameters' Jacobian times unknown shifts (what a refit
/// would absorb, integrated out) plus a per-model Gaussian field of SD σ and length ℓ
/// ([`smooth_in_size`]), a per-point term and the seeds' noise, their variances `fixed`.
/// ℓ runs over a grid of [`SizeMisfit::LENGTH_STEP`] from 0 to half the span of ln N; σ
/// is maximised for each. `None` with fewer than three models or too few points to leave
/// the law's five parameters some residual freedom.
pub(crate) fn fit_size_misfit(
    points: &[MeanResidual],
    law: &ChinchillaLaw,
    fixed: FixedVariances,
) -> Option<SizeMisfit> {
    let model = crate::family_ids(points.iter().map(|p| p.n.to_bits()));
    let models = model.iter().max().map_or(0, |m| m + 1);
    if models < 3 || points.len() < ChinchillaLaw::PARAMS + 3 {
        return None;
    }
    let mut log_n = vec![0.0; models];
    for (p, &m) in points.iter().zip(&model) {
        log_n[m] = p.n.ln();
    }
    let span = log_n.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - log_n.iter().copied().fold(f64::INFINITY, f64::min);
    let x = jacobian(points, law);
    let r: Vec<f64> = points.iter().map(|p| p.residual).collect();
    // The fixed part of the covariance: the point term and the run noise on the
    // diagonal, the family noise shared by a model's points over their common seeds.
    let base: Vec<Vec<f64>> = (0..points.len())
        .map(|i| {
            (0..points.len())
                .map(|j| {
                    let (ki, kj) = (points[i].runs as f64, points[j].runs as f64);
                    let shared = if model[i] == model[j] {
                        fixed.family * ki.min(kj) / (ki * kj)
                    } else {
                        0.0
                    };
                    shared
                        + if i == j {
                            fixed.point + fixed.run / ki
                        } else {
                            0.0
                        }
                })
                .collect()
        })
        .collect();
    let likelihood = |sd: f64, length: f64| -> f64 {
        let mut v = base.clone();
        if sd > 0.0 {
            let kernel = kernel(&log_n, length);
            for i in 0..points.len() {
                for j in 0..points.len() {
                    v[i][j] += sd * sd * kernel[model[i]][model[j]];
                }
            }
        }
        restricted_log_likelihood(&r, &x, &v).unwrap_or(f64::NEG_INFINITY)
    };
    let best_sd = |length: f64| -> (f64, f64) {
        // A coarse log grid, then golden-section search about its best point.
        let grid: Vec<f64> = (0..=32)
            .map(|k| 1e-4 * (SizeMisfit::MAX_SD / 1e-4).powf(k as f64 / 32.0))
            .collect();
        let mut best = (0.0, likelihood(0.0, length));
        let mut at = None;
        for (k, &sd) in grid.iter().enumerate() {
            let l = likelihood(sd, length);
            if l > best.1 {
                best = (sd, l);
                at = Some(k);
            }
        }
        let Some(k) = at else { return best };
        let (mut lo, mut hi) = (
            grid[k.saturating_sub(1)].ln(),
            grid[(k + 1).min(grid.len() - 1)].ln(),
        );
        let phi = 0.5 * (5f64.sqrt() - 1.0);
        for _ in 0..40 {
            let (a, b) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
            if likelihood(a.exp(), length) >= likelihood(b.exp(), length) {
                hi = b;
            } else {
                lo = a;
            }
        }
        let sd = (0.5 * (lo + hi)).exp();
        let l = likelihood(sd, length);
        if l > best.1 {
            (sd, l)
        } else {
            best
        }
    };
    let max_length = 0.5 * span;
    let (independent_sd, independent) = best_sd(0.0);
    let mut best = (independent_sd, 0.0, independent);
    let mut length = SizeMisfit::LENGTH_STEP;
    while length <= max_length + 1e-12 {
        let (sd, l) = best_sd(length);
        if l > best.2 {
            best = (sd, length, l);
        }
        length += SizeMisfit::LENGTH_STEP;
    }
    let gain = best.2 - independent;
    let p = 0.5 * ChiSquared::new(1.0).ok()?.sf(2.0 * gain);
    Some(SizeMisfit {
        sd: best.0,
        length: best.1,
        independent_sd,
        gain,
        max_length,
        p: if gain > 0.0 { p } else { 1.0 },
        identified: best.0 < 0.99 * SizeMisfit::MAX_SD,
    })
}

/// The squared-exponential correlation between models of log sizes `log_n` (the
/// identity for length 0).
fn kernel(log_n: &[f64], length: f64) -> Vec<Vec<f64>> {
    log_n
        .iter()
        .map(|a| {
            log_n
                .iter()
                .map(|b| {
                    if length > 0.0 {
                        let r = (a - b) / length;
                        (-0.5 * r * r).exp()
                    } else if a == b {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

/// The derivatives of `ln L(N, D)` in the law's five parameters at each point, each
/// column scaled to unit length (the restricted likelihood depends only on their span).
fn jacobian(points: &[MeanResidual], law: &ChinchillaLaw) -> Vec<Vec<f64>> {
    let mut x: Vec<Vec<f64>> = points
        .iter()
        .map(|p| {
            let loss = law.loss(p.n, p.d);
            let (nt, dt) = (law.a * p.n.powf(-law.alpha), law.b * p.d.powf(-law.beta));
            vec![
                1.0 / loss,
                nt / law.a / loss,
                -nt * p.n.ln() / loss,
                dt / law.b / loss,
                -dt * p.d.ln() / loss,
            ]
        })
        .collect();
    for c in 0..ChinchillaLaw::PARAMS {
        let norm = x.iter().map(|row| row[c] * row[c]).sum::<f64>().sqrt();
        if norm > 0.0 {
            for row in &mut x {
                row[c] /= norm;
            }
        }
    }
    x
}

/// `y` with `L·y = b` for a lower-triangular `l`.
fn forward(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; b.len()];
    for i in 0..b.len() {
        let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - s) / l[i][i];
    }
    y
}

/// The restricted log likelihood of residuals `r` with fixed-effect columns `x` (rows
/// are points) and covariance `v`, up to a constant:
/// `−½(ln|V| + ln|XᵀV⁻¹X| + rᵀ(V⁻¹ − V⁻¹X(XᵀV⁻¹X)⁻¹XᵀV⁻¹)r)`. `None` when `V` or
/// `XᵀV⁻¹X` is not positive-definite.
fn restricted_log_likelihood(r: &[f64], x: &[Vec<f64>], v: &[Vec<f64>]) -> Option<f64> {
    let l = cholesky(v)?;
    let log_det = |l: &[Vec<f64>]| 2.0 * (0..l.len()).map(|i| l[i][i].ln()).sum::<f64>();
    let w = forward(&l, r);
    let p = x.first().map_or(0, Vec::len);
    let wx: Vec<Vec<f64>> = (0..p)
        .map(|c| forward(&l, &x.iter().map(|row| row[c]).collect::<Vec<_>>()))
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
    let xtx: Vec<Vec<f64>> = wx
        .iter()
        .map(|a| wx.iter().map(|b| dot(a, b)).collect())
        .collect();
    let lx = cholesky(&xtx)?;
    let z = forward(&lx, &wx.iter().map(|a| dot(a, &w)).collect::<Vec<_>>());
    let quadratic = dot(&w, &w) - dot(&z, &z);
    Some(-0.5 * (log_det(&l) + log_det(&lx) + quadratic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn cholesky_factors_a_known_matrix() {
        // [[4, 2], [2, 5]] = L·Lᵀ with L = [[2, 0], [1, 2]].
        let l = cholesky(&[vec![4.0, 2.0], vec![2.0, 5.0]]).unwrap();
        assert_eq!(l, vec![vec![2.0, 0.0], vec![1.0, 2.0]]);
        assert!(cholesky(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }

    /// Known answers: without fixed effects the Gaussian log likelihood
    /// `−½(ln|V| + rᵀV⁻¹r)`; with a column of ones, the mean integrated out.
    #[test]
    fn the_restricted_likelihood_matches_hand_values() {
        let v = [vec![2.0, 0.0], vec![0.0, 3.0]];
        let plain = restricted_log_likelihood(&[1.0, 1.0], &[vec![], vec![]], &v).unwrap();
        assert!((plain + 0.5 * (6f64.ln() + 0.5 + 1.0 / 3.0)).abs() < 1e-12);
        let identity = [vec![1.0, 0.0], vec![0.0, 1.0]];
        let ones = [vec![1.0], vec![1.0]];
        // rᵀ(I − 11ᵀ/2)r = 2 for r = (1, −1); |XᵀX| = 2.
        let mean_out = restricted_log_likelihood(&[1.0, -1.0], &ones, &identity).unwrap();
        assert!((mean_out + 0.5 * (2f64.ln() + 2.0)).abs() < 1e-12);
        // A residual along the fixed effect leaves no quadratic term.
        let along = restricted_log_likelihood(&[1.0, 1.0], &ones, &identity).unwrap();
        assert!((along + 0.5 * 2f64.ln()).abs() < 1e-12);
    }

    /// Point means of twelve models at four token counts each, their residuals a field
    /// of 1% per model with correlation length `length` (0: independent), plus 0.1%
    /// per point, about Hoffmann et al.'s law; the fitted length of each of `sweeps`
    /// sweeps.
    fn fitted_lengths(length: f64, sweeps: u64) -> Vec<SizeMisfit> {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let sizes: Vec<f64> = (0..12).map(|i| 1e7 * (0.3 * i as f64).exp()).collect();
        let log_n: Vec<f64> = sizes.iter().map(|n| n.ln()).collect();
        let fixed = FixedVariances {
            run: 0.0,
            family: 0.0,
            point: 0.001f64.powi(2),
        };
        (0..sweeps)
            .map(|seed| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let z: Vec<f64> = (0..12).map(|_| StandardNormal.sample(&mut rng)).collect();
                let field = smooth_in_size(&log_n, 0.01, length, &z);
                let mut points = Vec::new();
                for (n, f) in sizes.iter().zip(&field) {
                    for k in 0..4 {
                        let noise: f64 = StandardNormal.sample(&mut rng);
                        points.push(MeanResidual {
                            n: *n,
                            d: n * 10.0 * 2f64.powi(k),
                            residual: f + 0.001 * noise,
                            runs: 1,
                        });
                    }
                }
                fit_size_misfit(&points, &law, fixed).unwrap()
            })
            .collect()
    }

    fn median(mut x: Vec<f64>) -> f64 {
        x.sort_by(f64::total_cmp);
        0.5 * (x[(x.len() - 1) / 2] + x[x.len() / 2])
    }

    /// Over a hundred sweeps each, the restricted likelihood finds a smooth misfit's
    /// length near the truth (0.8, in a span of 3.3) and its test of independence
    /// rejects it nearly always (a probe found 197 of 200), while on an independent
    /// misfit it finds no length, an SD near the truth, and rejects at about its level
    /// (11 of 200 at 0.05): the ½χ²₀ + ½χ²₁ mixture is calibrated on this design.
    #[test]
    fn the_fit_tells_a_smooth_misfit_from_an_independent_one() {
        let rejected = |fits: &[SizeMisfit]| fits.iter().filter(|f| f.p < 0.05).count();
        let smooth = fitted_lengths(0.8, 100);
        let length = median(smooth.iter().map(|f| f.length).collect());
        assert!((0.5..=1.25).contains(&length), "length {length}");
        assert!(rejected(&smooth) >= 90, "{}", rejected(&smooth));
        assert!(smooth
            .iter()
            .all(|f| f.identified && (f.max_length - 0.5 * 3.3).abs() < 1e-9));
        let independent = fitted_lengths(0.0, 100);
        let length = median(independent.iter().map(|f| f.length).collect());
        let sd = median(independent.iter().map(|f| f.independent_sd).collect());
        assert!(length <= 0.125, "length {length}");
        assert!((sd / 0.01 - 1.0).abs() < 0.3, "sd {sd}");
        // Binomial(100, 0.05): 12 or more has probability below 0.5%.
        assert!(rejected(&independent) < 12, "{}", rejected(&independent));
    }

    #[test]
    fn without_a_length_the_field_is_the_independent_draws() {
        let z = [0.3, -1.2, 0.7];
        let field = smooth_in_size(&[1.0, 2.0, 3.0], 0.01, 0.0, &z);
        assert_eq!(field, z.iter().map(|z| 0.01 * z).collect::<Vec<_>>());
    }

    /// Over many draws, the field's SD is `sd` at every size and the correlation of two
    /// sizes is the kernel's: ≈ e^(−1/2) one length apart, ≈ e^(−2) two lengths apart.
    #[test]
    fn the_field_has_the_kernels_variance_and_correlation() {
        let log_n = [10.0, 10.5, 11.0];
        let (sd, length, draws) = (0.02, 0.5, 20_000);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut moments = [[0.0; 3]; 3];
        for _ in 0..draws {
            let z: Vec<f64> = (0..3).map(|_| StandardNormal.sample(&mut rng)).collect();
            let f = smooth_in_size(&log_n, sd, length, &z);
            for i in 0..3 {
                for j in 0..3 {
                    moments[i][j] += f[i] * f[j] / draws as f64;
                }
            }
        }
        for (i, row) in moments.iter().enumerate() {
            assert!(
                (row[i].sqrt() / sd - 1.0).abs() < 0.02,
                "SD {}",
                row[i].sqrt()
            );
        }
        let corr = |i: usize, j: usize| moments[i][j] / (moments[i][i] * moments[j][j]).sqrt();
        assert!(
            (corr(0, 1) - (-0.5f64).exp()).abs() < 0.02,
            "{}",
            corr(0, 1)
        );
        assert!(
            (corr(1, 2) - (-0.5f64).exp()).abs() < 0.02,
            "{}",
            corr(1, 2)
        );
        assert!(
            (corr(0, 2) - (-2.0f64).exp()).abs() < 0.02,
            "{}",
            corr(0, 2)
        );
    }
}
