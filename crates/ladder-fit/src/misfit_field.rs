//! A misfit smooth in model size: one deviation from the law per model (N), correlated
//! between models as a Gaussian field over ln N with a squared-exponential kernel
//! (Rasmussen & Williams, *Gaussian Processes for Machine Learning*, 2006, §4.2),
//! `corr(N_i, N_j) = exp(−(ln N_i − ln N_j)² / 2ℓ²)`. With ℓ = 0 the models are
//! independent, as the simulations drew them before; a larger ℓ draws a misfit that
//! rises or falls over neighbouring sizes together, as results/lab-cpu's does (its two
//! largest models above the law at every budget).

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
    let kernel: Vec<Vec<f64>> = log_n
        .iter()
        .enumerate()
        .map(|(i, a)| {
            log_n
                .iter()
                .enumerate()
                .map(|(j, b)| {
                    let r = (a - b) / length;
                    (-0.5 * r * r).exp() + if i == j { JITTER } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let l =
        cholesky(&kernel).expect("a squared-exponential kernel with jitter is positive-definite");
    l.iter()
        .map(|row| sd * row.iter().zip(z).map(|(a, b)| a * b).sum::<f64>())
        .collect()
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
