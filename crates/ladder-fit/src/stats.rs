//! Small statistics: percentiles, spread of bootstrap draws, R², least-squares lines
//! and polynomials, and Spearman's rank test.

use serde::{Deserialize, Serialize};

/// The `q`-quantile (`0 ≤ q ≤ 1`) of sorted `x` by linear interpolation between order
/// statistics (numpy's default, "linear", type 7 of Hyndman & Fan 1996).
pub fn quantile_sorted(x: &[f64], q: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let h = (x.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    match x.get(lo + 1) {
        Some(next) => x[lo] + frac * (next - x[lo]),
        None => x[lo],
    }
}

/// Mean and sample standard deviation (`n − 1` in the denominator).
pub fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// The spread of one quantity over bootstrap draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Standard error: the sample standard deviation of the draws.
    #[serde(deserialize_with = "crate::json::number")]
    pub se: f64,
    /// 80% percentile interval `[10th, 90th]`.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub ci80: [f64; 2],
    /// 95% percentile interval `[2.5th, 97.5th]`.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub ci95: [f64; 2],
}

impl Spread {
    /// The spread of `draws` (non-finite draws are dropped); `None` with fewer than
    /// two finite draws.
    pub fn of(draws: &[f64]) -> Option<Self> {
        let mut x: Vec<f64> = draws.iter().copied().filter(|v| v.is_finite()).collect();
        if x.len() < 2 {
            return None;
        }
        x.sort_by(f64::total_cmp);
        let q = |p: f64| quantile_sorted(&x, p);
        Some(Self {
            se: mean_sd(&x).1,
            ci80: [q(0.10), q(0.90)],
            ci95: [q(0.025), q(0.975)],
        })
    }
}

/// Coefficient of determination `1 − SS_res/SS_tot` of `predicted` against `observed`.
pub fn r_squared(observed: &[f64], predicted: &[f64]) -> f64 {
    let n = observed.len() as f64;
    let mean = observed.iter().sum::<f64>() / n;
    let ss_tot: f64 = observed.iter().map(|y| (y - mean).powi(2)).sum();
    let ss_res: f64 = observed
        .iter()
        .zip(predicted)
        .map(|(y, p)| (y - p).powi(2))
        .sum();
    1.0 - ss_res / ss_tot
}

/// Least-squares polynomial of degree `deg` through `(x, y)`: coefficients from the
/// constant term up. `None` if the normal equations are singular (too few distinct `x`).
pub fn polyfit(x: &[f64], y: &[f64], deg: usize) -> Option<Vec<f64>> {
    let k = deg + 1;
    // Centre and scale x for conditioning, then map the coefficients back.
    let (mx, _) = mean_sd(x);
    let sx = x.iter().map(|v| (v - mx).abs()).fold(0.0, f64::max);
    if sx.is_nan() || sx <= 0.0 {
        return None;
    }
    let u: Vec<f64> = x.iter().map(|v| (v - mx) / sx).collect();
    let mut m = vec![vec![0.0; k + 1]; k];
    for (ui, yi) in u.iter().zip(y) {
        let pows: Vec<f64> = (0..k).map(|p| ui.powi(p as i32)).collect();
        for r in 0..k {
            for c in 0..k {
                m[r][c] += pows[r] * pows[c];
            }
            m[r][k] += pows[r] * yi;
        }
    }
    let c = solve(m)?;
    // Expand Σ c_p ((x − mx)/sx)^p into powers of x.
    let mut out = vec![0.0; k];
    for (p, cp) in c.iter().enumerate() {
        for (j, o) in out.iter_mut().enumerate().take(p + 1) {
            let binom = (0..j).fold(1.0, |acc, i| acc * (p - i) as f64 / (i + 1) as f64);
            *o += cp * binom * (-mx).powi((p - j) as i32) / sx.powi(p as i32);
        }
    }
    Some(out)
}

/// Solves the augmented system `m = [A | b]` by Gaussian elimination with partial
/// pivoting; `None` if `A` is singular.
pub(crate) fn solve(mut m: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let k = m.len();
    for col in 0..k {
        let pivot = (col..k).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col].clone();
        for row in m.iter_mut().skip(col + 1) {
            let f = row[col] / pivot_row[col];
            for (v, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *v -= f * p;
            }
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let s: f64 = (row + 1..k).map(|c| m[row][c] * x[c]).sum();
        x[row] = (m[row][k] - s) / m[row][row];
    }
    Some(x)
}

/// `A^(−1/2)` of a symmetric positive semi-definite `a` (rows of equal length), by its
/// eigendecomposition (cyclic Jacobi rotations; Golub & Van Loan 2013, §8.5), with
/// every eigenvalue floored at `floor` so that a direction the matrix nearly annihilates
/// is stretched by at most `1/√floor`. `None` if `a` is not square or not finite.
pub(crate) fn inverse_sqrt_symmetric(a: &[Vec<f64>], floor: f64) -> Option<Vec<Vec<f64>>> {
    let m = a.len();
    if a.iter()
        .any(|r| r.len() != m || r.iter().any(|v| !v.is_finite()))
    {
        return None;
    }
    let mut d: Vec<Vec<f64>> = a.to_vec();
    let mut v: Vec<Vec<f64>> = (0..m)
        .map(|i| (0..m).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let scale: f64 = d.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..64 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| d[i][j] * d[i][j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                if d[p][q] == 0.0 {
                    continue;
                }
                // The rotation that zeroes d[p][q] (Golub & Van Loan, Algorithm 8.5.1).
                let theta = (d[q][q] - d[p][p]) / (2.0 * d[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in d.iter_mut() {
                    let (dkp, dkq) = (row[p], row[q]);
                    row[p] = c * dkp - s * dkq;
                    row[q] = s * dkp + c * dkq;
                }
                let (low, high) = d.split_at_mut(q);
                for (dpk, dqk) in low[p].iter_mut().zip(high[0].iter_mut()) {
                    (*dpk, *dqk) = (c * *dpk - s * *dqk, s * *dpk + c * *dqk);
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let root: Vec<f64> = (0..m).map(|k| 1.0 / d[k][k].max(floor).sqrt()).collect();
    Some(
        (0..m)
            .map(|i| {
                (0..m)
                    .map(|j| (0..m).map(|k| v[i][k] * root[k] * v[j][k]).sum())
                    .collect()
            })
            .collect(),
    )
}

/// Ranks of `x` (1-based, ties get their average rank).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation of `x` and `y` and its two-sided p-value from the
/// normal approximation `z = ρ·√(n − 1)` (exact enough for n ≥ 10; for fewer points
/// the p-value is reported as 1, since the test has no power there).
pub fn spearman(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (rx, ry) = (ranks(x), ranks(y));
    let rho = pearson(&rx, &ry);
    let n = x.len();
    if n < 10 || !rho.is_finite() {
        return (rho, 1.0);
    }
    let z = rho.abs() * ((n - 1) as f64).sqrt();
    (rho, erfc(z / std::f64::consts::SQRT_2))
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let (mx, sx) = mean_sd(x);
    let (my, sy) = mean_sd(y);
    let n = x.len() as f64;
    let cov: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / (n - 1.0);
    cov / (sx * sy)
}

/// The complementary error function, by the continued-fraction-free rational
/// approximation of Numerical Recipes (3rd ed., `erfc` via Chebyshev, |ε| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398
                                + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [10, 50, 97.5]) = [1.4, 3.0, 9.4]
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((quantile_sorted(&x, 0.10) - 1.4).abs() < 1e-12);
        assert_eq!(quantile_sorted(&x, 0.5), 3.0);
        assert!((quantile_sorted(&x, 0.975) - 9.4).abs() < 1e-12);
    }

    #[test]
    fn polyfit_recovers_a_parabola() {
        let x: Vec<f64> = (0..7).map(|i| 15.0 + 0.5 * i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 - 2.0 * v + 0.25 * v * v).collect();
        let c = polyfit(&x, &y, 2).unwrap();
        for (got, want) in c.iter().zip([3.0, -2.0, 0.25]) {
            assert!((got - want).abs() < 1e-8, "{c:?}");
        }
        assert!(polyfit(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], 2).is_none());
    }

    #[test]
    fn erfc_matches_known_values() {
        // erfc(0) = 1, erfc(1) = 0.157299207, erfc(-0.5) = 1.520499878
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-0.5) - 1.520_499_878).abs() < 1e-7);
    }

    #[test]
    fn spearman_sees_a_monotone_trend_and_not_a_u_shape() {
        let x: Vec<f64> = (0..30).map(f64::from).collect();
        let trend: Vec<f64> = x.iter().map(|v| v.sqrt() + 0.1 * (v * 7.0).sin()).collect();
        let (rho, p) = spearman(&x, &trend);
        assert!(rho > 0.9 && p < 1e-3, "rho {rho} p {p}");
        // A U shape has no monotone trend: its rank correlation with x is exactly 0.
        let u: Vec<f64> = x.iter().map(|v| (v - 14.5).powi(2)).collect();
        let (rho, p) = spearman(&x, &u);
        assert!(rho.abs() < 1e-12 && p > 0.99, "rho {rho} p {p}");
    }

    #[test]
    fn inverse_square_root_of_a_symmetric_matrix() {
        // A = B·Bᵀ + I for a fixed B: R = A^(−1/2) must be symmetric with R·A·R = I.
        let m = 7;
        let b: Vec<Vec<f64>> = (0..m)
            .map(|i| {
                (0..m)
                    .map(|j| ((3 * i + 5 * j) % 11) as f64 / 7.0 - 0.6)
                    .collect()
            })
            .collect();
        let a: Vec<Vec<f64>> = (0..m)
            .map(|i| {
                (0..m)
                    .map(|j| {
                        (0..m).map(|k| b[i][k] * b[j][k]).sum::<f64>()
                            + if i == j { 1.0 } else { 0.0 }
                    })
                    .collect()
            })
            .collect();
        let r = inverse_sqrt_symmetric(&a, 1e-12).unwrap();
        for i in 0..m {
            for j in 0..m {
                assert!((r[i][j] - r[j][i]).abs() < 1e-12);
                let rar: f64 = (0..m)
                    .flat_map(|k| (0..m).map(move |l| (k, l)))
                    .map(|(k, l)| r[i][k] * a[k][l] * r[l][j])
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((rar - want).abs() < 1e-10, "({i}, {j}): {rar}");
            }
        }
        // A 1×1 matrix is its own eigenvalue; a null direction is stretched by 1/√floor.
        assert!((inverse_sqrt_symmetric(&[vec![0.25]], 0.01).unwrap()[0][0] - 2.0).abs() < 1e-15);
        let flat = inverse_sqrt_symmetric(&[vec![0.5, 0.5], vec![0.5, 0.5]], 0.01).unwrap();
        // Eigenvalues 1 (along (1, 1)) and 0 (along (1, −1)), floored to 0.01.
        assert!((flat[0][0] - 5.5).abs() < 1e-12 && (flat[0][1] + 4.5).abs() < 1e-12);
        assert!(inverse_sqrt_symmetric(&[vec![1.0, 0.0]], 0.01).is_none());
    }

    #[test]
    fn spread_of_draws() {
        let draws: Vec<f64> = (0..=100).map(f64::from).collect();
        let s = Spread::of(&draws).unwrap();
        assert_eq!(s.ci80, [10.0, 90.0]);
        assert_eq!(s.ci95, [2.5, 97.5]);
        assert!((s.se - 29.300170647967224).abs() < 1e-9);
        assert!(Spread::of(&[1.0, f64::NAN]).is_none());
    }
}
