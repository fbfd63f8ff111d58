//! LayerNorm over the last dimension (Ba et al. 2016), fused, with its backward.
//!
//! Forward, per row: `ŷ = (x − μ)/√(σ² + ε)`, `y = ŷ·w + b`. Backward, per row with
//! `ĝ = dy·w`: `dx = (ĝ − mean(ĝ) − ŷ·mean(ĝ·ŷ))/√(σ² + ε)`; `dw = Σ_rows dy·ŷ`,
//! `db = Σ_rows dy`. The backward recomputes μ and σ from `x` (one cheap pass) and
//! writes `dx`, `dw` and `db` into one buffer, which the graph sees as three views.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;

use super::{add_into, by_dtype, contiguous, simd, Float, ROWS_PER_TASK};

struct LayerNorm {
    eps: f64,
}

/// Mean and 1/√(var + eps) of one row (two passes, as PyTorch, for accuracy).
fn moments<T: Float>(row: &[T], eps: T) -> (T, T) {
    let n = T::from(row.len()).unwrap_or_else(T::one);
    let mean = simd::sum(row) / n;
    let var = simd::sum_sq_dev(row, mean) / n;
    (mean, (var + eps).sqrt().recip())
}

fn eps_as<T: Float>(eps: f64) -> T {
    T::from(eps).unwrap_or_else(T::epsilon)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn forward<T: Float>(
    eps: f64,
    sx: &CpuStorage,
    lx: &Layout,
    sw: &CpuStorage,
    lw: &Layout,
    sb: &CpuStorage,
    lb: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let op = "layer_norm";
    let (x, w, b) = (
        contiguous::<T>(op, sx, lx)?,
        contiguous::<T>(op, sw, lw)?,
        contiguous::<T>(op, sb, lb)?,
    );
    let d = w.len();
    if b.len() != d || lx.dims().last() != Some(&d) {
        candle_core::bail!("{op}: weight and bias must match the last dimension of x");
    }
    let eps = eps_as::<T>(eps);
    let mut y = vec![T::zero(); x.len()];
    y.par_chunks_mut(d * ROWS_PER_TASK)
        .zip(x.par_chunks(d * ROWS_PER_TASK))
        .for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
                let (mean, rstd) = moments(x, eps);
                for (((y, &x), &w), &b) in y.iter_mut().zip(x).zip(w).zip(b) {
                    *y = (x - mean) * rstd * w + b;
                }
            }
        });
    Ok((T::to_cpu_storage_owned(y), lx.shape().clone()))
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "ladder-layer-norm"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, forward(self.eps, sx, lx, sw, lw, sb, lb))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let n = x.elem_count();
        let d = w.elem_count();
        let packed =
            x.apply_op3_no_bwd(w, &grad.contiguous()?, &LayerNormGrad { eps: self.eps })?;
        let dx = packed.narrow(0, 0, n)?.reshape(x.shape())?;
        let dw = packed.narrow(0, n, d)?;
        let db = packed.narrow(0, n + d, d)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// `(x, w, dy) ↦ [dx | dw | db]`, flat.
struct LayerNormGrad {
    eps: f64,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn backward<T: Float>(
    eps: f64,
    sx: &CpuStorage,
    lx: &Layout,
    sw: &CpuStorage,
    lw: &Layout,
    sg: &CpuStorage,
    lg: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let op = "layer_norm backward";
    let (x, w, g) = (
        contiguous::<T>(op, sx, lx)?,
        contiguous::<T>(op, sw, lw)?,
        contiguous::<T>(op, sg, lg)?,
    );
    let d = w.len();
    let n = x.len();
    let eps = eps_as::<T>(eps);
    let inv_d = T::from(d).unwrap_or_else(T::one).recip();
    let mut out = vec![T::zero(); n + 2 * d];
    let (dx, _) = out.split_at_mut(n);
    let (dw, db) = dx
        .par_chunks_mut(d * ROWS_PER_TASK)
        .zip(x.par_chunks(d * ROWS_PER_TASK))
        .zip(g.par_chunks(d * ROWS_PER_TASK))
        .map(|((dx, x), g)| {
            let (mut dw, mut db, mut xhat) =
                (vec![T::zero(); d], vec![T::zero(); d], vec![T::zero(); d]);
            for ((dx, x), g) in dx
                .chunks_exact_mut(d)
                .zip(x.chunks_exact(d))
                .zip(g.chunks_exact(d))
            {
                let (mean, rstd) = moments(x, eps);
                // dx holds ĝ = dy·w until the last loop; xhat is this task's scratch.
                // Equal-length slices let the compiler drop the bounds checks.
                let (xhat, w, dw, db) = (&mut xhat[..d], &w[..d], &mut dw[..d], &mut db[..d]);
                for i in 0..d {
                    xhat[i] = (x[i] - mean) * rstd;
                    dx[i] = g[i] * w[i];
                    dw[i] += g[i] * xhat[i];
                    db[i] += g[i];
                }
                let mean_gw = simd::sum(dx) * inv_d;
                let mean_gwx = simd::dot(dx, xhat) * inv_d;
                for i in 0..d {
                    dx[i] = (dx[i] - mean_gw - xhat[i] * mean_gwx) * rstd;
                }
            }
            (dw, db)
        })
        // Fixed blocks summed in order: the same result on any number of threads.
        .collect::<Vec<_>>()
        .into_iter()
        .fold(
            (vec![T::zero(); d], vec![T::zero(); d]),
            |(dw, db), (dw2, db2)| (add_into(dw, &dw2), add_into(db, &db2)),
        );
    out[n..n + d].copy_from_slice(&dw);
    out[n + d..].copy_from_slice(&db);
    Ok((T::to_cpu_storage_owned(out), Shape::from(n + 2 * d)))
}

impl CustomOp3 for LayerNormGrad {
    fn name(&self) -> &'static str {
        "ladder-layer-norm-grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, backward(self.eps, sx, lx, sw, lw, sg, lg))
    }
}

/// LayerNorm of `x` over its last dimension with gain `w` and shift `b`: fused on CPU,
/// composed elsewhere.
pub fn layer_norm(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Result<Tensor> {
    if x.device().is_cpu() {
        return x
            .contiguous()?
            .apply_op3(&w.contiguous()?, &b.contiguous()?, LayerNorm { eps });
    }
    layer_norm_composed(x, w, b, eps)
}

/// LayerNorm composed from candle ops that record gradients (candle's fused
/// `ops::layer_norm` records none).
pub fn layer_norm_composed(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = centred.broadcast_div(&(var + eps)?.sqrt()?)?;
    normed.broadcast_mul(w)?.broadcast_add(b)
}
