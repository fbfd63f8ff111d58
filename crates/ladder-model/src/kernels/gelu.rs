//! GELU (tanh approximation, as GPT-2) with an exact hand-written derivative.
//!
//! candle's own `gelu` backward uses constants rounded to six digits (0.797885,
//! 0.0356774, …), which put its gradients ~1e-5 (relative) away from the derivative of its
//! forward: the finite-difference test in `tests/model.rs` caught it. This op computes
//! `0.5·x·(1 + tanh(u))`, `u = √(2/π)·(x + 0.044715·x³)`, and its derivative
//! `0.5·(1 + tanh u) + 0.5·x·(1 − tanh²u)·√(2/π)·(1 + 3·0.044715·x²)` in full precision.
//! The backward is one pass: `dx = dy · gelu'(x)`.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};

use rayon::prelude::*;

use super::{by_dtype, contiguous, Float};

/// Elements per parallel task.
const ELEMENTS_PER_TASK: usize = 1 << 14;

const C: f64 = 0.797_884_560_802_865_4; // √(2/π)
const A: f64 = 0.044_715;

/// `(√(2/π), 0.044715, 0.5, 3)` in `T`.
fn constants<T: Float>() -> (T, T, T, T) {
    (
        T::from_f64(C),
        T::from_f64(A),
        T::from_f64(0.5),
        T::from_f64(3.0),
    )
}

/// `out ← tanh(√(2/π)·(x + 0.044715·x³))`, vectorised.
fn tanh_inner<T: Float>(x: &[T], out: &mut [T]) {
    let (c, a, _, _) = constants::<T>();
    for (o, &x) in out.iter_mut().zip(x) {
        *o = c * (x + a * x * x * x);
    }
    T::tanh_in_place(out);
}

/// GELU of each `x` into `out`.
fn values<T: Float>(x: &[T], out: &mut [T]) {
    let (_, _, half, _) = constants::<T>();
    tanh_inner(x, out);
    for (o, &x) in out.iter_mut().zip(x) {
        *o = half * x * (T::one() + *o);
    }
}

/// `dy · gelu'(x)` of each pair into `out`.
fn slopes<T: Float>(x: &[T], dy: &[T], out: &mut [T]) {
    let (c, a, half, three) = constants::<T>();
    tanh_inner(x, out);
    for ((o, &x), &g) in out.iter_mut().zip(x).zip(dy) {
        let t = *o;
        *o = g
            * (half * (T::one() + t)
                + half * x * (T::one() - t * t) * c * (T::one() + three * a * x * x));
    }
}

#[cfg(test)]
fn value(x: f64) -> f64 {
    let mut out = [0.0];
    values(&[x], &mut out);
    out[0]
}

#[cfg(test)]
fn derivative(x: f64) -> f64 {
    let mut out = [0.0];
    slopes(&[x], &[1.0], &mut out);
    out[0]
}

struct Gelu;

pub(super) fn gelu_fwd<T: Float>(s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
    let x = contiguous::<T>("gelu", s, l)?;
    let mut y = vec![T::zero(); x.len()];
    y.par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(x.par_chunks(ELEMENTS_PER_TASK))
        .for_each(|(y, x)| values(x, y));
    Ok((T::to_cpu_storage_owned(y), l.shape().clone()))
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "ladder-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), s, gelu_fwd(s, l))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(
            arg.apply_op2_no_bwd(&grad_res.contiguous()?, &GeluGrad)?,
        ))
    }
}

/// `(x, dy) ↦ dy · gelu'(x)`.
struct GeluGrad;

pub(super) fn gelu_grad<T: Float>(
    s1: &CpuStorage,
    l1: &Layout,
    s2: &CpuStorage,
    l2: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let x = contiguous::<T>("gelu backward", s1, l1)?;
    let g = contiguous::<T>("gelu backward", s2, l2)?;
    let mut dx = vec![T::zero(); x.len()];
    dx.par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(
            x.par_chunks(ELEMENTS_PER_TASK)
                .zip(g.par_chunks(ELEMENTS_PER_TASK)),
        )
        .for_each(|(dx, (x, g))| slopes(x, g, dx));
    Ok((T::to_cpu_storage_owned(dx), l1.shape().clone()))
}

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "ladder-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), s1, gelu_grad(s1, l1, s2, l2))
    }
}

/// GELU of `x`. On CPU a custom op with an exact derivative; elsewhere the same formula
/// composed from candle ops, whose autograd is exact too.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() {
        return x.contiguous()?.apply_op1(Gelu);
    }
    gelu_composed(x)
}

/// GELU composed from candle ops (the reference for the fused op, and the CUDA path).
pub fn gelu_composed(x: &Tensor) -> Result<Tensor> {
    let inner = ((x + x.powf(3.0)? * A)? * C)?.tanh()?;
    (x * 0.5)? * (inner + 1.0)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_matches_finite_differences() {
        for &x in &[-4.0f64, -1.3, -0.2, 0.0, 0.4, 1.7, 5.0] {
            let h = 1e-5;
            let fd = (value(x + h) - value(x - h)) / (2.0 * h);
            assert!(
                (fd - derivative(x)).abs() < 1e-9,
                "x={x}: {fd} vs {}",
                derivative(x)
            );
        }
    }

    #[test]
    fn matches_the_tanh_gelu_values() {
        // GELU_tanh(1) = 0.8411919906082768 (PyTorch, approximate="tanh", float64).
        assert!((value(1.0) - 0.841_191_990_608_276_8).abs() < 1e-12);
        assert_eq!(value(0.0), 0.0);
    }
}
