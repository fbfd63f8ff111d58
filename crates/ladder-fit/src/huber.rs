//! The Huber loss, with scipy's convention (`scipy.special.huber`), which is what
//! Hoffmann et al. 2022 and Besiroglu et al. 2024 sum over points.

/// Huber loss of residual `r` with threshold `delta`:
/// `r²/2` for `|r| ≤ δ`, else `δ(|r| − δ/2)`.
pub fn huber(delta: f64, r: f64) -> f64 {
    let abs = r.abs();
    if abs <= delta {
        0.5 * r * r
    } else {
        delta * (abs - 0.5 * delta)
    }
}

/// Derivative of [`huber`] with respect to `r`: `r` inside `[-δ, δ]`, else `δ·sign(r)`.
pub fn huber_derivative(delta: f64, r: f64) -> f64 {
    r.clamp(-delta, delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_values() {
        // scipy.special.huber(1.0, 0.5) = 0.125; huber(1.0, 3.0) = 2.5.
        assert_eq!(huber(1.0, 0.5), 0.125);
        assert_eq!(huber(1.0, -3.0), 2.5);
        assert_eq!(huber(1e-3, 1e-3), 0.5e-6);
    }

    #[test]
    fn derivative_matches_finite_difference() {
        for &r in &[-0.01, -5e-4, 0.0, 3e-4, 0.02] {
            let h = 1e-7;
            let fd = (huber(1e-3, r + h) - huber(1e-3, r - h)) / (2.0 * h);
            assert!((fd - huber_derivative(1e-3, r)).abs() < 1e-6, "r={r}");
        }
    }
}
