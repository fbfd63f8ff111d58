//! Mean softmax cross-entropy over the vocabulary, fused, with its backward.
//!
//! Forward, per row `r` with target `t_r`: `ℓ_r = logsumexp(z_r) − z_{r,t_r}`, and the
//! op returns `mean_r ℓ_r` (accumulated in f64). Backward:
//! `dz_{r,j} = g·(softmax(z_r)_j − [j = t_r])/R`, recomputing the softmax from `z`, so
//! no probability tensor is kept between the passes.

use candle_core::{
    CpuStorage, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor, WithDType,
};
use rayon::prelude::*;

use super::{by_dtype, contiguous, simd, Float};

/// Rows per parallel task, and per partial sum of the loss.
pub(super) const ROWS_PER_TASK: usize = 32;

pub(super) fn targets<'a>(
    op: &str,
    s: &'a CpuStorage,
    l: &Layout,
    rows: usize,
    vocab: usize,
) -> Result<&'a [u32]> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("{op} needs contiguous targets")
    };
    let t = &s.as_slice::<u32>()?[start..end];
    if t.len() != rows {
        candle_core::bail!("{op}: {} targets for {rows} rows of logits", t.len());
    }
    if let Some(bad) = t.iter().find(|&&t| t as usize >= vocab) {
        candle_core::bail!("{op}: target {bad} outside the vocabulary of {vocab}");
    }
    Ok(t)
}

/// Overwrites a row of logits `z` with `exp(z − max z)`; returns their sum and the row's
/// loss `logsumexp(z) − z_t`.
pub(super) fn exp_row<T: Float>(row: &mut [T], t: usize) -> (T, f64) {
    let max = simd::max(row);
    let zt = row[t];
    for z in row.iter_mut() {
        *z -= max;
    }
    T::exp_nonpositive_in_place(row);
    let sum = simd::sum(row);
    (sum, WithDType::to_f64(max + sum.ln() - zt))
}

/// Turns a row of `exp(z − max z)` with sum `sum` into
/// `dz = scale·(softmax(z) − onehot(t))`.
pub(super) fn grad_row<T: Float>(row: &mut [T], sum: T, t: usize, scale: T) {
    let k = scale / sum;
    for d in row.iter_mut() {
        *d *= k;
    }
    row[t] -= scale;
}

struct CrossEntropy;

pub(super) fn forward<T: Float>(
    sz: &CpuStorage,
    lz: &Layout,
    st: &CpuStorage,
    lt: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let op = "cross_entropy";
    let z = contiguous::<T>(op, sz, lz)?;
    let (rows, vocab) = lz.shape().dims2()?;
    let t = targets(op, st, lt, rows, vocab)?;
    let total: f64 = z
        .par_chunks(vocab * ROWS_PER_TASK)
        .zip(t.par_chunks(ROWS_PER_TASK))
        .map(|(z, t)| {
            let mut scratch = vec![T::zero(); vocab];
            z.chunks_exact(vocab)
                .zip(t)
                .map(|(row, &t)| {
                    scratch.copy_from_slice(row);
                    exp_row(&mut scratch, t as usize).1
                })
                .sum::<f64>()
        })
        // Fixed blocks summed in order: the same result on any number of threads.
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    let mean = T::from_f64(total / rows as f64);
    Ok((T::to_cpu_storage_owned(vec![mean]), Shape::from(())))
}

impl CustomOp2 for CrossEntropy {
    fn name(&self) -> &'static str {
        "ladder-cross-entropy"
    }

    fn cpu_fwd(
        &self,
        sz: &CpuStorage,
        lz: &Layout,
        st: &CpuStorage,
        lt: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sz, forward(sz, lz, st, lt))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dz = logits.apply_op3_no_bwd(targets, &grad.contiguous()?, &CrossEntropyGrad)?;
        Ok((Some(dz), None))
    }
}

/// `(z, targets, g) ↦ dz`.
struct CrossEntropyGrad;

pub(super) fn backward<T: Float>(
    sz: &CpuStorage,
    lz: &Layout,
    st: &CpuStorage,
    lt: &Layout,
    sg: &CpuStorage,
    lg: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let op = "cross_entropy backward";
    let z = contiguous::<T>(op, sz, lz)?;
    let (rows, vocab) = lz.shape().dims2()?;
    let t = targets(op, st, lt, rows, vocab)?;
    let g = contiguous::<T>(op, sg, lg)?[0];
    let scale = g / T::from(rows).unwrap_or_else(T::one);
    let mut dz = vec![T::zero(); z.len()];
    dz.par_chunks_mut(vocab * ROWS_PER_TASK)
        .zip(z.par_chunks(vocab * ROWS_PER_TASK))
        .zip(t.par_chunks(ROWS_PER_TASK))
        .for_each(|((dz, z), t)| {
            for ((dz, z), &t) in dz.chunks_exact_mut(vocab).zip(z.chunks_exact(vocab)).zip(t) {
                dz.copy_from_slice(z);
                let (sum, _) = exp_row(dz, t as usize);
                grad_row(dz, sum, t as usize, scale);
            }
        });
    Ok((T::to_cpu_storage_owned(dz), lz.shape().clone()))
}

impl CustomOp3 for CrossEntropyGrad {
    fn name(&self) -> &'static str {
        "ladder-cross-entropy-grad"
    }

    fn cpu_fwd(
        &self,
        sz: &CpuStorage,
        lz: &Layout,
        st: &CpuStorage,
        lt: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sz, backward(sz, lz, st, lt, sg, lg))
    }
}

/// Mean cross-entropy (nats) of `logits` `(R, V)` against `targets` `(R)` (u32): fused on
/// CPU, candle's composed `loss::cross_entropy` elsewhere.
pub fn cross_entropy(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if logits.device().is_cpu() {
        let targets = targets.to_dtype(DType::U32)?.contiguous()?;
        return logits.contiguous()?.apply_op2(&targets, CrossEntropy);
    }
    cross_entropy_composed(logits, targets)
}

/// candle's composed cross-entropy (log-softmax, gather, mean).
pub fn cross_entropy_composed(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    candle_nn::loss::cross_entropy(logits, targets)
}
