//! Element-wise transcendental functions over slices, written as branch-free f32 code
//! that the compiler vectorises (libm for f64). Transcendentals were a quarter of a fused
//! training step when computed one `expf`/`tanhf` call at a time, and still 14% with
//! `wide`'s general-purpose `exp`, whose range checks the kernels do not need: every
//! exponent they take is ≤ 0 (scores minus their row maximum, `−2|u|` in tanh). The f32
//! `exp` and `tanh` loops are compiled for AVX-512 and AVX2 too (`multiversion`).

use multiversion::multiversion;

/// Slice-wise `exp` of non-positive arguments and `tanh`, by float type.
pub(crate) trait Elementwise: Sized + Copy {
    /// `x ← exp(x)` for `x ≤ 0` (NaN stays NaN; below −87 the result is ~1e-38, not 0).
    fn exp_nonpositive_in_place(xs: &mut [Self]);
    /// `x ← tanh(x)`.
    fn tanh_in_place(xs: &mut [Self]);
}

/// `exp(x)` for `x ≤ 0`: `x = n·ln2 + r`, `|r| ≤ ln2/2`, Cephes' degree-7 polynomial
/// for `exp(r)` (about 1 ulp), and `2ⁿ` built in the exponent bits.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5·2²³ rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = if x < -87.0 { -87.0 } else { x };
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let p = p * r * r + r + 1.0;
    let bits = (t.to_bits().wrapping_sub(ROUND.to_bits()) as i32 + 127) << 23;
    p * f32::from_bits(bits as u32)
}

/// `tanh u = sign(u)·(1 − e)/(1 + e)` with `e = exp(−2|u|) ∈ (0, 1]`: no overflow,
/// and an absolute error of a few f32 ulps of 1.
#[inline(always)]
fn tanh(u: f32) -> f32 {
    let e = exp_nonpositive(-2.0 * u.abs());
    ((1.0 - e) / (1.0 + e)).copysign(u)
}

// The crate is built for baseline x86-64, whose SSE2 holds 4 f32 lanes. These loops are
// also compiled for AVX-512 (16 lanes) and AVX2, and the widest the CPU has is picked at
// run time. Rust never fuses a multiply and an add on its own, so every version computes
// the same bits (`tests` checks).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl",
    "x86_64+avx2+fma",
))]
fn exp_slice(xs: &mut [f32]) {
    for x in xs {
        *x = exp_nonpositive(*x);
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl",
    "x86_64+avx2+fma",
))]
fn tanh_slice(xs: &mut [f32]) {
    for u in xs {
        *u = tanh(*u);
    }
}

impl Elementwise for f32 {
    fn exp_nonpositive_in_place(xs: &mut [f32]) {
        exp_slice(xs);
    }

    fn tanh_in_place(xs: &mut [f32]) {
        tanh_slice(xs);
    }
}

impl Elementwise for f64 {
    fn exp_nonpositive_in_place(xs: &mut [f64]) {
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
    fn f32_versions_match_libm() {
        let xs: Vec<f32> = (-8000..=0).map(|i| i as f32 * 0.0107).collect();
        let mut e = xs.clone();
        f32::exp_nonpositive_in_place(&mut e);
        for (&x, &e) in xs.iter().zip(&e) {
            let re = f64::from(x).exp();
            let err = ((f64::from(e) - re) / re).abs();
            assert!(err < 3e-7, "exp({x}) = {e}, not {re}");
        }
        let us: Vec<f32> = (-3000..3000).map(|i| i as f32 * 0.0071).collect();
        let mut t = us.clone();
        f32::tanh_in_place(&mut t);
        for (&u, &t) in us.iter().zip(&t) {
            let rt = f64::from(u).tanh();
            assert!(
                (f64::from(t) - rt).abs() < 4e-7,
                "tanh({u}) = {t}, not {rt}"
            );
        }
        // The version picked at run time against the scalar code, bit for bit.
        for (&x, &e) in xs.iter().zip(&e) {
            assert_eq!(e.to_bits(), exp_nonpositive(x).to_bits(), "exp({x})");
        }
        for (&u, &t) in us.iter().zip(&t) {
            assert_eq!(t.to_bits(), tanh(u).to_bits(), "tanh({u})");
        }
        let mut edge = [f32::NEG_INFINITY, -200.0, 0.0, f32::NAN];
        f32::exp_nonpositive_in_place(&mut edge);
        assert!(edge[0] < 1e-37 && edge[1] < 1e-37 && edge[2] == 1.0 && edge[3].is_nan());
    }
}

/// Lanes of the reductions below: independent partial results that the compiler keeps in
/// one vector register (a plain `iter().sum()` is a serial chain: floats do not
/// reassociate).
const LANES: usize = 8;

/// `Σ f(a_i, b_i)` over two equally long slices, in `LANES` partial sums.
#[inline(always)]
fn reduce2<T: num_traits::Float>(a: &[T], b: &[T], f: impl Fn(T, T) -> T) -> T {
    let mut acc = [T::zero(); LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: T = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .fold(T::zero(), |s, (&x, &y)| s + f(x, y));
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] = acc[i] + f(x[i], y[i]);
        }
    }
    acc.iter().fold(tail, |s, &x| s + x)
}

/// `Σ x`.
pub(crate) fn sum<T: num_traits::Float>(xs: &[T]) -> T {
    reduce2(xs, xs, |x, _| x)
}

/// `Σ a·b`.
pub(crate) fn dot<T: num_traits::Float>(a: &[T], b: &[T]) -> T {
    reduce2(a, b, |x, y| x * y)
}

/// `Σ (x − c)²`.
pub(crate) fn sum_sq_dev<T: num_traits::Float>(xs: &[T], c: T) -> T {
    reduce2(xs, xs, |x, _| (x - c) * (x - c))
}

/// `max x` (−∞ for an empty slice; a NaN anywhere may be lost, but it reaches the loss
/// through the sums all the same).
pub(crate) fn max<T: num_traits::Float>(xs: &[T]) -> T {
    let mut acc = [T::neg_infinity(); LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(T::neg_infinity(), |m, &x| if x > m { x } else { m });
    for c in chunks {
        for i in 0..LANES {
            acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
        }
    }
    acc.iter().fold(tail, |m, &x| if x > m { x } else { m })
}

#[cfg(test)]
mod reduction_tests {
    use super::*;

    #[test]
    fn reductions_match_the_serial_forms() {
        for n in [0usize, 1, 7, 8, 9, 100] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let close = |x: f64, y: f64| (x - y).abs() < 1e-12;
            assert!(close(sum(&a), a.iter().sum()));
            assert!(close(
                dot(&a, &b),
                a.iter().zip(&b).map(|(x, y)| x * y).sum()
            ));
            assert!(close(
                sum_sq_dev(&a, 0.2),
                a.iter().map(|x| (x - 0.2).powi(2)).sum()
            ));
            assert_eq!(max(&a), a.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        }
    }
}
