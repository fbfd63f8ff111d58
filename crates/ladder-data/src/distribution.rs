//! Discrete distributions the synthetic sources draw from.

/// The Zipf law over `n` ranks, normalised: `p(r) ∝ (r + 1)^(−exponent)`, r = 0, 1, ….
pub(crate) fn zipf(n: usize, exponent: f64) -> Vec<f64> {
    normalised((0..n).map(|r| ((r + 1) as f64).powf(-exponent)).collect())
}

/// `w` divided by its sum.
pub(crate) fn normalised(mut w: Vec<f64>) -> Vec<f64> {
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);
    w
}

/// Running sums of `p`.
pub(crate) fn cumulative(p: &[f64]) -> Vec<f64> {
    p.iter()
        .scan(0.0, |acc, &x| {
            *acc += x;
            Some(*acc)
        })
        .collect()
}

/// Index of the first cumulative weight above `u·total`.
pub(crate) fn sample_cdf(cdf: &[f64], u: f64) -> u32 {
    let target = u * cdf.last().copied().unwrap_or(1.0);
    cdf.partition_point(|&c| c <= target).min(cdf.len() - 1) as u32
}
