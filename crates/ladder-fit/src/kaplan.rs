//! Kaplan et al. 2020's forms: single-variable power laws `L(x) = E + (x_c/x)^α` for
//! x = N, D or C, with and without the irreducible term E (their eqs. 1.1–1.3 have none),
//! and the joint `L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D` (eq. 1.5).
//!
//! Like approach 3, every form is fitted in log space by the sum of Huber terms of
//! `ln L − ln L̂` (δ = 1e-3), with L-BFGS from a grid of starts, keeping the best.

use serde::{Deserialize, Serialize};

use crate::minimize::{lbfgs, Objective, Tolerances};
use crate::stats::{polyfit, r_squared};
use crate::{huber, huber_derivative, FitError, Point, Points};

/// Huber threshold, as in approach 3.
const DELTA: f64 = 1e-3;

/// A fitted `L(x) = E + (x_c/x)^α` (E = 0 for the form without it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerLaw {
    /// Irreducible loss (0 when fitted without it).
    #[serde(rename = "E")]
    #[serde(deserialize_with = "crate::json::number")]
    pub e: f64,
    /// Scale `x_c`.
    #[serde(deserialize_with = "crate::json::number")]
    pub x_c: f64,
    /// Exponent `α`.
    #[serde(deserialize_with = "crate::json::number")]
    pub alpha: f64,
    /// R² of ln L in log space.
    #[serde(deserialize_with = "crate::json::number")]
    pub r2_log: f64,
    /// Points fitted.
    pub points: usize,
    /// Why the fit is degenerate (an exponent or E at an edge), if it is.
    pub degenerate: Option<String>,
}

/// The degenerate-fit reasons of [`crate::diagnostics`], joined, if there are any.
fn edges(exponents: &[(&str, f64)], e: Option<f64>) -> Option<String> {
    let why = crate::diagnostics::edges(exponents, e);
    (!why.is_empty()).then(|| why.join("; "))
}

impl PowerLaw {
    /// The predicted loss at `x`.
    pub fn loss(&self, x: f64) -> f64 {
        self.e + (self.x_c / x).powf(self.alpha)
    }
}

/// The joint `L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KaplanJoint {
    /// Scale `N_c`.
    #[serde(rename = "N_c")]
    #[serde(deserialize_with = "crate::json::number")]
    pub n_c: f64,
    /// Scale `D_c`.
    #[serde(rename = "D_c")]
    #[serde(deserialize_with = "crate::json::number")]
    pub d_c: f64,
    /// Exponent `α_N`.
    #[serde(deserialize_with = "crate::json::number")]
    pub alpha_n: f64,
    /// Exponent `α_D`.
    #[serde(deserialize_with = "crate::json::number")]
    pub alpha_d: f64,
    /// R² of ln L in log space.
    #[serde(deserialize_with = "crate::json::number")]
    pub r2_log: f64,
    /// Points fitted.
    pub points: usize,
    /// Why the fit is degenerate (an exponent at an edge), if it is.
    pub degenerate: Option<String>,
}

impl KaplanJoint {
    /// The predicted loss.
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        ((self.n_c / n).powf(self.alpha_n / self.alpha_d) + self.d_c / d).powf(self.alpha_d)
    }
}

/// `ln L̂ = LSE(α·(ln x_c − ln x), e)`, parameters `[ln x_c, α, e]`.
struct WithE<'a> {
    ln_x: &'a [f64],
    ln_l: &'a [f64],
}

impl Objective<3> for WithE<'_> {
    fn value_grad(&self, p: &[f64; 3], g: &mut [f64; 3]) -> f64 {
        let [lxc, alpha, e] = *p;
        *g = [0.0; 3];
        let mut f = 0.0;
        for (lx, ll) in self.ln_x.iter().zip(self.ln_l) {
            let t = alpha * (lxc - lx);
            let m = t.max(e);
            let (wt, we) = ((t - m).exp(), (e - m).exp());
            let s = wt + we;
            let r = ll - (m + s.ln());
            f += huber(DELTA, r);
            let h = -huber_derivative(DELTA, r) / s;
            g[0] += h * wt * alpha;
            g[1] += h * wt * (lxc - lx);
            g[2] += h * we;
        }
        f
    }
}

/// `ln L̂ = α_D·LSE((α_N/α_D)(ln N_c − ln N), ln D_c − ln D)`, parameters
/// `[ln N_c, ln D_c, α_N, α_D]`.
struct Joint<'a> {
    ln_n: &'a [f64],
    ln_d: &'a [f64],
    ln_l: &'a [f64],
}

impl Objective<4> for Joint<'_> {
    fn value_grad(&self, p: &[f64; 4], g: &mut [f64; 4]) -> f64 {
        let [lnc, ldc, an, ad] = *p;
        *g = [0.0; 4];
        let mut f = 0.0;
        let ratio = an / ad;
        for i in 0..self.ln_l.len() {
            let (u, v) = (lnc - self.ln_n[i], ldc - self.ln_d[i]);
            let t0 = ratio * u;
            let m = t0.max(v);
            let (w0, w1) = ((t0 - m).exp(), (v - m).exp());
            let s = w0 + w1;
            let lse = m + s.ln();
            let r = self.ln_l[i] - ad * lse;
            f += huber(DELTA, r);
            let h = -huber_derivative(DELTA, r);
            let (p0, p1) = (w0 / s, w1 / s);
            // ∂(α_D·LSE)/∂θ with ∂t0/∂ln N_c = α_N/α_D, ∂t0/∂α_N = u/α_D,
            // ∂t0/∂α_D = −α_N·u/α_D².
            g[0] += h * ad * p0 * ratio;
            g[1] += h * ad * p1;
            g[2] += h * ad * p0 * u / ad;
            g[3] += h * (lse - ad * p0 * an * u / (ad * ad));
        }
        f
    }
}

/// The best minimum over `starts`.
fn best<const P: usize, O: Objective<P>>(objective: &O, starts: Vec<[f64; P]>) -> Option<[f64; P]> {
    use rayon::prelude::*;
    let tol = Tolerances::default();
    starts
        .into_par_iter()
        .map(|s| lbfgs(objective, s, tol))
        .filter(|m| m.value.is_finite())
        .min_by(|a, b| a.value.total_cmp(&b.value))
        .map(|m| m.x)
}

fn need(points: usize, needed: usize) -> Result<(), FitError> {
    if points < needed {
        return Err(FitError::TooFewPoints {
            got: points,
            needed,
        });
    }
    Ok(())
}

/// Fits `L(x) = E + (x_c/x)^α` (`with_e`) or `L(x) = (x_c/x)^α` to `(x, loss)` pairs.
pub fn fit_power_law(xs: &[f64], losses: &[f64], with_e: bool) -> Result<PowerLaw, FitError> {
    let n = xs.len();
    let ln_x: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let ln_l: Vec<f64> = losses.iter().map(|l| l.ln()).collect();
    let (e, x_c, alpha) = if with_e {
        need(n, 4)?;
        let objective = WithE {
            ln_x: &ln_x,
            ln_l: &ln_l,
        };
        let mut starts = Vec::new();
        for lxc in (0..=12).map(|k| 5.0 * k as f64) {
            for alpha in [0.03, 0.1, 0.3, 1.0] {
                for e in [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5] {
                    starts.push([lxc, alpha, e]);
                }
            }
        }
        let p = best(&objective, starts).ok_or(FitError::NoConvergence)?;
        (p[2].exp(), p[0].exp(), p[1])
    } else {
        need(n, 3)?;
        // ln L = α·ln x_c − α·ln x: a straight line in log-log space.
        let c = polyfit(&ln_x, &ln_l, 1).ok_or(FitError::TooFewPoints { got: n, needed: 3 })?;
        let alpha = -c[1];
        (0.0, (c[0] / alpha).exp(), alpha)
    };
    let law = PowerLaw {
        e,
        x_c,
        alpha,
        r2_log: 0.0,
        points: n,
        degenerate: edges(&[("alpha", alpha)], with_e.then_some(e)),
    };
    let predicted: Vec<f64> = xs.iter().map(|&x| law.loss(x).ln()).collect();
    Ok(PowerLaw {
        r2_log: r_squared(&ln_l, &predicted),
        ..law
    })
}

/// Fits the joint `L(N, D)` to every point.
pub fn fit_kaplan_joint(points: &Points) -> Result<KaplanJoint, FitError> {
    need(points.len(), 5)?;
    let p = points.as_slice();
    let ln_n: Vec<f64> = p.iter().map(|p| p.n.ln()).collect();
    let ln_d: Vec<f64> = p.iter().map(|p| p.d.ln()).collect();
    let ln_l: Vec<f64> = p.iter().map(|p| p.loss.ln()).collect();
    let objective = Joint {
        ln_n: &ln_n,
        ln_d: &ln_d,
        ln_l: &ln_l,
    };
    let mut starts = Vec::new();
    for lnc in (2..=10).map(|k| 5.0 * k as f64) {
        for ldc in (2..=10).map(|k| 5.0 * k as f64) {
            for an in [0.03, 0.1, 0.3, 1.0] {
                for ad in [0.03, 0.1, 0.3, 1.0] {
                    starts.push([lnc, ldc, an, ad]);
                }
            }
        }
    }
    let x = best(&objective, starts).ok_or(FitError::NoConvergence)?;
    let law = KaplanJoint {
        n_c: x[0].exp(),
        d_c: x[1].exp(),
        alpha_n: x[2],
        alpha_d: x[3],
        r2_log: 0.0,
        points: p.len(),
        degenerate: edges(&[("alpha_N", x[2]), ("alpha_D", x[3])], None),
    };
    let predicted: Vec<f64> = p.iter().map(|p| law.loss(p.n, p.d).ln()).collect();
    Ok(KaplanJoint {
        r2_log: r_squared(&ln_l, &predicted),
        ..law
    })
}

/// For each distinct value of `key`, the point with the largest `other`: L(N) takes
/// each size at its largest D (the nearest to convergence), L(D) each D at its largest N.
fn best_per(points: &Points, key: fn(&Point) -> f64, other: fn(&Point) -> f64) -> Vec<Point> {
    let mut pts = points.as_slice().to_vec();
    pts.sort_by(|a, b| {
        key(a)
            .total_cmp(&key(b))
            .then(other(b).total_cmp(&other(a)))
    });
    pts.dedup_by(|b, a| key(a) == key(b));
    pts
}

/// The compute frontier: points with a lower loss than every point of smaller `budget`.
fn frontier(points: &Points, budgets: &[f64]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..points.len()).collect();
    idx.sort_by(|&a, &b| budgets[a].total_cmp(&budgets[b]));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for i in idx {
        let loss = points.as_slice()[i].loss;
        if out.last().is_none_or(|(_, best)| loss < *best) {
            out.push((budgets[i], loss));
        }
    }
    out
}

/// A form's fit, or why the data cannot support it (serialised as the fit itself, or
/// as `{"skipped": reason}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FormFit<T> {
    /// The fitted form.
    Fitted(T),
    /// Why it was not fitted.
    Skipped {
        /// The reason.
        skipped: String,
    },
}

impl<T> From<Result<T, FitError>> for FormFit<T> {
    fn from(r: Result<T, FitError>) -> Self {
        match r {
            Ok(t) => FormFit::Fitted(t),
            Err(e) => FormFit::Skipped {
                skipped: e.to_string(),
            },
        }
    }
}

/// One single-variable form with and without E.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerLawPair {
    /// `E + (x_c/x)^α`.
    pub with_e: FormFit<PowerLaw>,
    /// `(x_c/x)^α`.
    pub without_e: FormFit<PowerLaw>,
}

/// Every Kaplan form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KaplanFits {
    /// L(N): each size at its largest D.
    #[serde(rename = "L_N")]
    pub l_n: PowerLawPair,
    /// L(D): each D at its largest N.
    #[serde(rename = "L_D")]
    pub l_d: PowerLawPair,
    /// L(C): the compute frontier of final losses.
    #[serde(rename = "L_C")]
    pub l_c: PowerLawPair,
    /// The joint L(N, D) over every point.
    pub joint: FormFit<KaplanJoint>,
}

impl KaplanFits {
    /// Every form skipped, for `reason`.
    pub fn skipped(reason: &str) -> Self {
        fn skipped<T>(reason: &str) -> FormFit<T> {
            FormFit::Skipped {
                skipped: reason.to_string(),
            }
        }
        let pair = || PowerLawPair {
            with_e: skipped(reason),
            without_e: skipped(reason),
        };
        Self {
            l_n: pair(),
            l_d: pair(),
            l_c: pair(),
            joint: skipped(reason),
        }
    }
}

fn pair(xs: &[f64], losses: &[f64]) -> PowerLawPair {
    let fit = |with_e| fit_power_law(xs, losses, with_e).into();
    PowerLawPair {
        with_e: fit(true),
        without_e: fit(false),
    }
}

/// Fits every Kaplan form to `points`, with `budgets` (FLOPs) for L(C).
pub fn fit_kaplan(points: &Points, budgets: &[f64]) -> KaplanFits {
    let by_n = best_per(points, |p| p.n, |p| p.d);
    let by_d = best_per(points, |p| p.d, |p| p.n);
    let front = frontier(points, budgets);
    let split = |v: Vec<(f64, f64)>| -> (Vec<f64>, Vec<f64>) { v.into_iter().unzip() };
    let (nx, nl) = split(by_n.iter().map(|p| (p.n, p.loss)).collect());
    let (dx, dl) = split(by_d.iter().map(|p| (p.d, p.loss)).collect());
    let (cx, cl) = split(front);
    KaplanFits {
        l_n: pair(&nx, &nl),
        l_d: pair(&dx, &dl),
        l_c: pair(&cx, &cl),
        joint: fit_kaplan_joint(points).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_single_variable_laws() {
        // Kaplan's L(N) constants: N_c = 8.8e13, α_N = 0.076, with an E added.
        let xs: Vec<f64> = (0..10).map(|i| 1e6 * 3f64.powi(i)).collect();
        for (e, with_e) in [(1.2, true), (0.0, false)] {
            let losses: Vec<f64> = xs.iter().map(|x| e + (8.8e13 / x).powf(0.076)).collect();
            let fit = fit_power_law(&xs, &losses, with_e).unwrap();
            assert!((fit.alpha - 0.076).abs() < 1e-3, "{fit:?}");
            assert!((fit.e - e).abs() < 1e-2, "{fit:?}");
            assert!((fit.x_c.ln() - 8.8e13f64.ln()).abs() < 0.1, "{fit:?}");
            assert!(fit.r2_log > 0.9999);
            assert_eq!(fit.degenerate, None);
        }
    }

    #[test]
    fn recovers_the_joint_law() {
        // Kaplan eq. 1.5 with their constants: α_N 0.076, α_D 0.095, N_c 6.4e13, D_c 1.8e13.
        let truth = KaplanJoint {
            n_c: 6.4e13,
            d_c: 1.8e13,
            alpha_n: 0.076,
            alpha_d: 0.095,
            r2_log: 1.0,
            points: 0,
            degenerate: None,
        };
        let mut pts = Vec::new();
        for i in 0..6 {
            for j in 0..6 {
                let (n, d) = (1e6 * 10f64.powi(i), 1e7 * 10f64.powi(j));
                pts.push(Point {
                    n,
                    d,
                    loss: truth.loss(n, d),
                });
            }
        }
        let fit = fit_kaplan_joint(&Points::new(pts).unwrap()).unwrap();
        assert!((fit.alpha_n - 0.076).abs() < 2e-3, "{fit:?}");
        assert!((fit.alpha_d - 0.095).abs() < 2e-3, "{fit:?}");
        assert!((fit.n_c.ln() - truth.n_c.ln()).abs() < 0.2, "{fit:?}");
        assert!((fit.d_c.ln() - truth.d_c.ln()).abs() < 0.2, "{fit:?}");
    }

    #[test]
    fn joint_gradient_matches_central_differences() {
        let ln_n: Vec<f64> = (0..8).map(|i| 14.0 + i as f64).collect();
        let ln_d: Vec<f64> = (0..8).map(|i| 18.0 + 0.7 * i as f64).collect();
        let ln_l: Vec<f64> = (0..8).map(|i| 1.2 - 0.05 * i as f64).collect();
        let obj = Joint {
            ln_n: &ln_n,
            ln_d: &ln_d,
            ln_l: &ln_l,
        };
        let x = [30.0, 29.0, 0.08, 0.1];
        let mut g = [0.0; 4];
        obj.value_grad(&x, &mut g);
        for k in 0..4 {
            let h = 1e-7;
            let (mut xp, mut xm) = (x, x);
            xp[k] += h;
            xm[k] -= h;
            let fd = (obj.value_grad(&xp, &mut [0.0; 4]) - obj.value_grad(&xm, &mut [0.0; 4]))
                / (2.0 * h);
            assert!(
                (fd - g[k]).abs() <= 1e-5 * fd.abs().max(1e-3),
                "param {k}: {fd} vs {}",
                g[k]
            );
        }
    }

    #[test]
    fn frontier_keeps_only_improvements() {
        let pts = Points::new(vec![
            Point {
                n: 1.0,
                d: 1.0,
                loss: 3.0,
            },
            Point {
                n: 1.0,
                d: 2.0,
                loss: 3.5,
            },
            Point {
                n: 2.0,
                d: 2.0,
                loss: 2.5,
            },
        ])
        .unwrap();
        let f = frontier(&pts, &[6.0, 12.0, 24.0]);
        assert_eq!(f, vec![(6.0, 3.0), (24.0, 2.5)]);
    }
}
