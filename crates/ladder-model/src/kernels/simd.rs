//! Element-wise transcendental functions over slices: 8 lanes at a time for f32 (with
//! `wide`, on whatever SIMD the build targets), libm for f64. Transcendentals were a
//! quarter of a fused training step when computed one `expf`/`tanhf` call at a time.

use wide::f32x8;

/// Slice-wise `exp` and `tanh`, by float type.
pub(crate) trait Elementwise: Sized + Copy {
    /// `x ← exp(x)`.
    fn exp_in_place(xs: &mut [Self]);
    /// `x ← tanh(x)`.
    fn tanh_in_place(xs: &mut [Self]);
}

/// Applies `f` to full 8-lane chunks and a zero-padded tail.
fn lanes(xs: &mut [f32], f: impl Fn(f32x8) -> f32x8) {
    let mut chunks = xs.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = f(f32x8::new([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        c.copy_from_slice(&v.to_array());
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut buf = [0f32; 8];
        buf[..tail.len()].copy_from_slice(tail);
        let v = f(f32x8::new(buf)).to_array();
        tail.copy_from_slice(&v[..tail.len()]);
    }
}

/// `tanh u = sign(u)·(1 − e)/(1 + e)` with `e = exp(−2|u|) ∈ (0, 1]`: no overflow, and an
/// absolute error of a few f32 ulps of 1.
fn tanh8(u: f32x8) -> f32x8 {
    let e = (u.abs() * f32x8::splat(-2.0)).exp();
    let t = (f32x8::ONE - e) / (f32x8::ONE + e);
    u.is_sign_negative().select(-t, t)
}

impl Elementwise for f32 {
    fn exp_in_place(xs: &mut [f32]) {
        lanes(xs, f32x8::exp);
    }

    fn tanh_in_place(xs: &mut [f32]) {
        lanes(xs, tanh8);
    }
}

impl Elementwise for f64 {
    fn exp_in_place(xs: &mut [f64]) {
        xs.iter_mut().for_each(|x| *x = x.exp());
    }

    fn tanh_in_place(xs: &mut [f64]) {
        xs.iter_mut().for_each(|x| *x = x.tanh());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_lanes_match_libm() {
        let xs: Vec<f32> = (-2000..2000).map(|i| i as f32 * 0.011).collect();
        let mut e = xs.clone();
        f32::exp_in_place(&mut e);
        let mut t = xs.clone();
        f32::tanh_in_place(&mut t);
        for ((&x, &e), &t) in xs.iter().zip(&e).zip(&t) {
            let (re, rt) = (f64::from(x).exp(), f64::from(x).tanh());
            assert!(
                ((f64::from(e) - re) / re).abs() < 4e-7,
                "exp({x}) = {e}, not {re}"
            );
            assert!(
                (f64::from(t) - rt).abs() < 4e-7,
                "tanh({x}) = {t}, not {rt}"
            );
        }
        let mut edge = [f32::NEG_INFINITY, -200.0, 0.0, 88.0];
        f32::exp_in_place(&mut edge);
        assert_eq!(&edge[..3], &[0.0, 0.0, 1.0]);
        assert!((edge[3] / 88f32.exp() - 1.0).abs() < 1e-6);
    }
}
