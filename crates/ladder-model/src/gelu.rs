//! GELU (tanh approximation, as GPT-2) with an exact hand-written derivative.
//!
//! candle's own `gelu` backward uses constants rounded to six digits (0.797885,
//! 0.0356774, …), which put its gradients ~1e-5 (relative) away from the derivative of its
//! forward: the finite-difference test in `tests/model.rs` caught it. This op computes
//! `0.5·x·(1 + tanh(u))`, `u = √(2/π)·(x + 0.044715·x³)`, and its derivative
//! `0.5·(1 + tanh u) + 0.5·x·(1 − tanh²u)·√(2/π)·(1 + 3·0.044715·x²)` in full precision.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

const C: f64 = 0.797_884_560_802_865_4; // √(2/π)
const A: f64 = 0.044_715;

fn value(x: f64) -> f64 {
    0.5 * x * (1.0 + (C * (x + A * x * x * x)).tanh())
}

fn derivative(x: f64) -> f64 {
    let t = (C * (x + A * x * x * x)).tanh();
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * C * (1.0 + 3.0 * A * x * x)
}

/// Applies `f` element-wise to a contiguous f32 or f64 storage.
fn map(
    name: &str,
    f: fn(f64) -> f64,
    storage: &CpuStorage,
    layout: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{name} needs a contiguous input")
    };
    let out = match storage {
        CpuStorage::F32(v) => CpuStorage::F32(
            v[start..end]
                .iter()
                .map(|&x| f(f64::from(x)) as f32)
                .collect(),
        ),
        CpuStorage::F64(v) => CpuStorage::F64(v[start..end].iter().map(|&x| f(x)).collect()),
        _ => candle_core::bail!("{name} supports f32 and f64 only"),
    };
    Ok((out, layout.shape().clone()))
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "ladder-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        map(self.name(), value, storage, layout)
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let slope = arg.contiguous()?.apply_op1_no_bwd(&GeluDerivative)?;
        Ok(Some(grad_res.mul(&slope)?))
    }
}

struct GeluDerivative;

impl CustomOp1 for GeluDerivative {
    fn name(&self) -> &'static str {
        "ladder-gelu-derivative"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        map(self.name(), derivative, storage, layout)
    }
}

/// GELU of `x`. On CPU a custom op with an exact derivative; elsewhere the same formula
/// composed from candle ops, whose autograd is exact too.
pub(crate) fn gelu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() {
        return x.contiguous()?.apply_op1(Gelu);
    }
    let inner = ((x + x.powf(3.0)? * A)? * C)?.tanh()?;
    (x * 0.5)? * (inner + 1.0)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_matches_finite_differences() {
        for &x in &[-4.0, -1.3, -0.2, 0.0, 0.4, 1.7, 5.0] {
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
