//! A whole pre-norm transformer block as one graph node, with its backward.
//!
//! `y = x₂ + W₄·gelu(W₃·ln₂(x₂))`, `x₂ = x + W₂·attn(W₁·ln₁(x))` (biases omitted), from
//! the same kernels as the one-node-per-composite path (LayerNorm, biased linear, causal
//! attention, GELU), run back to back on the block's own buffers.
//!
//! Why: candle's backprop pays per graph node. It accumulates each node's gradient into
//! a freshly zeroed tensor (zeros, then add), which at d 256 is about a quarter of a
//! training step in `memset` and adds (docs/LOG.md, 2026-12-01). Per block the per-op
//! path has ten composites plus the reshapes around its four linears, each an
//! activation-sized node; this op is one node, and only its input `x` pays. The twelve
//! parameters reach it as one flat tensor, a `cat` of the flattened parameters (a copy
//! of ~12·d² values per step); `cat`'s backward hands each parameter its slice of the
//! flat gradient.
//!
//! The forward saves its intermediates (both LayerNorm outputs, `qkv`, the attention
//! output, `x₂`, the MLP's pre-activation and its GELU) for the backward, as the per-op
//! graph holds them. The backward is the chain rule through the same kernels' backward
//! passes in reverse order, with the same products, so it gives the per-op path's
//! gradients.
//!
//! On a pool of several threads the batch is split into groups of whole sequences, one
//! per thread, each run through the whole block (forward, then backward) by one task with
//! single-threaded products; the groups' parameter gradients are summed in group order.
//! That is reproducible at a given thread count, but another count sums in another order,
//! so only one thread gives the per-op graph's bits.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::matmul::Threads;
use super::{attention, by_dtype, contiguous, gelu, layer_norm, linear, Float, Stash};

/// Elements per parallel task of the residual adds.
const ELEMENTS_PER_TASK: usize = 1 << 14;

/// Positions of the parameters in the packed vector, in [`transformer_block`]'s order.
const LN1_W: usize = 0;
const LN1_B: usize = 1;
const QKV_W: usize = 2;
const QKV_B: usize = 3;
const PROJ_W: usize = 4;
const PROJ_B: usize = 5;
const LN2_W: usize = 6;
const LN2_B: usize = 7;
const FC_W: usize = 8;
const FC_B: usize = 9;
const OUT_W: usize = 10;
const OUT_B: usize = 11;

/// The names of the parameters in packing order, for error messages.
const NAMES: [&str; 12] = [
    "ln1.weight",
    "ln1.bias",
    "attn.qkv.weight",
    "attn.qkv.bias",
    "attn.proj.weight",
    "attn.proj.bias",
    "ln2.weight",
    "ln2.bias",
    "mlp.fc.weight",
    "mlp.fc.bias",
    "mlp.proj.weight",
    "mlp.proj.bias",
];

/// Where each parameter lies in the packed vector of a block of width `d` and MLP
/// width `d_ff`.
#[derive(Clone, Copy)]
struct Packing {
    d: usize,
    d_ff: usize,
}

impl Packing {
    fn shapes(&self) -> [Vec<usize>; 12] {
        let (d, f) = (self.d, self.d_ff);
        [
            vec![d],
            vec![d],
            vec![3 * d, d],
            vec![3 * d],
            vec![d, d],
            vec![d],
            vec![d],
            vec![d],
            vec![f, d],
            vec![f],
            vec![d, f],
            vec![d],
        ]
    }

    fn offset(&self, i: usize) -> usize {
        self.shapes()[..i]
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    fn len(&self) -> usize {
        self.offset(NAMES.len())
    }

    /// Parameter `i` as a layout over a packed vector that starts at `start`.
    fn layout(&self, i: usize, start: usize) -> Layout {
        Layout::contiguous_with_offset(self.shapes()[i].as_slice(), start + self.offset(i))
    }
}

/// What the forward keeps of one group of sequences for the backward.
struct Saved {
    xn1: CpuStorage,
    qkv: CpuStorage,
    att: CpuStorage,
    x2: CpuStorage,
    xn2: CpuStorage,
    h: CpuStorage,
    g: CpuStorage,
}

/// Whole sequences of the batch that one task runs the block on.
#[derive(Clone, Copy)]
struct Group {
    /// The first sequence and the number of sequences.
    first: usize,
    len: usize,
    /// The threads its matrix products run on.
    threads: Threads,
}

impl Group {
    /// Its rows of the batch's `(B·T, C)` rows for sequences of `t` and width `d`: how
    /// many, and the offset of its first element.
    fn rows(&self, t: usize, d: usize) -> (usize, usize) {
        (self.len * t, self.first * t * d)
    }
}

/// The batch of `b` sequences split into one group per thread of the calling pool (at
/// most one per sequence), each run through the whole block by one task: at the ladder's
/// widths two single-threaded streams of products gain ~1.85× over one, where `gemm`
/// splitting each product over two threads gains ~1.55× (docs/LOG.md, 2026-12-02). On
/// one thread it is the whole batch as one group, on candle's threads.
fn groups(b: usize) -> Vec<Group> {
    let threads = rayon::current_num_threads();
    let n = threads.min(b).max(1);
    if n == 1 {
        return vec![Group {
            first: 0,
            len: b,
            threads: Threads::Candle,
        }];
    }
    (0..n)
        .map(|i| Group {
            first: i * b / n,
            len: (i + 1) * b / n - i * b / n,
            threads: Threads::Count(threads / n),
        })
        .collect()
}

/// `data` cut into consecutive pieces of `lens` elements.
fn pieces<T>(mut data: &mut [T], lens: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    let mut out = Vec::new();
    for len in lens {
        let (piece, rest) = data.split_at_mut(len);
        out.push(piece);
        data = rest;
    }
    out
}

/// `(x, packed parameters) ↦ y`.
#[derive(Clone)]
struct Block {
    n_head: usize,
    eps: f64,
    packing: Packing,
    /// The groups the forward ran, each with what it kept.
    saved: Stash<Vec<(Group, Saved)>>,
}

/// `acc + other`, element-wise, reusing `acc`'s buffer.
fn add<T: Float>(acc: CpuStorage, other: &[T]) -> Result<CpuStorage> {
    let mut acc = T::cpu_storage_data(acc)?;
    add_assign(&mut acc, other);
    Ok(T::to_cpu_storage_owned(acc))
}

/// `acc += other`, element-wise.
fn add_assign<T: Float>(acc: &mut [T], other: &[T]) {
    acc.par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(other.par_chunks(ELEMENTS_PER_TASK))
        .for_each(|(a, b)| {
            for (a, &b) in a.iter_mut().zip(b) {
                *a += b;
            }
        });
}

/// The block's dimensions from `x`'s layout, checked against the packing.
fn dims(op: &str, packing: Packing, lx: &Layout, lp: &Layout) -> Result<(usize, usize)> {
    let (b, t, d) = lx.shape().dims3()?;
    if d != packing.d || lp.shape().elem_count() != packing.len() {
        candle_core::bail!("{op}: x of width {d} or its packed parameters do not match the block");
    }
    if !lx.is_contiguous() || !lp.is_contiguous() {
        candle_core::bail!("{op} needs contiguous inputs");
    }
    Ok((b, t))
}

fn forward<T: Float>(
    op: &Block,
    sx: &CpuStorage,
    lx: &Layout,
    sp: &CpuStorage,
    lp: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let (b, t) = dims("transformer block", op.packing, lx, lp)?;
    let d = op.packing.d;
    let groups = groups(b);
    let rows_of = |g: &Group| {
        let (rows, skip) = g.rows(t, d);
        (rows, lx.start_offset() + skip)
    };
    let y = if let [whole] = groups.as_slice() {
        let (y, saved) = forward_rows::<T>(op, whole.threads, sx, rows_of(whole), t, sp, lp)?;
        op.saved.keep("transformer block", vec![(*whole, saved)])?;
        y
    } else {
        let mut y = vec![T::zero(); b * t * d];
        let outs = pieces(&mut y, groups.iter().map(|g| g.rows(t, d).0 * d));
        let saved = groups
            .par_iter()
            .zip(outs)
            .map(|(g, out)| {
                let (y, saved) = forward_rows::<T>(op, g.threads, sx, rows_of(g), t, sp, lp)?;
                out.copy_from_slice(T::cpu_storage_as_slice(&y)?);
                Ok((*g, saved))
            })
            .collect::<Result<Vec<_>>>()?;
        op.saved.keep("transformer block", saved)?;
        T::to_cpu_storage_owned(y)
    };
    Ok((y, Shape::from((b, t, d))))
}

/// The block on `rows` rows of `x` starting at element `start` (whole sequences of `t`),
/// with its products on `threads`: the output and what the backward needs.
fn forward_rows<T: Float>(
    op: &Block,
    threads: Threads,
    sx: &CpuStorage,
    (rows, start): (usize, usize),
    t: usize,
    sp: &CpuStorage,
    lp: &Layout,
) -> Result<(CpuStorage, Saved)> {
    let pk = op.packing;
    let (d, f) = (pk.d, pk.d_ff);
    let at = |i| pk.layout(i, lp.start_offset());
    let x = Layout::contiguous_with_offset((rows, d), start);
    let (narrow, wide) = (Layout::contiguous((rows, d)), Layout::contiguous((rows, f)));
    let sequences = Layout::contiguous((rows / t, t, 3 * d));

    let (xn1, _) = layer_norm::forward::<T>(op.eps, sx, &x, sp, &at(LN1_W), sp, &at(LN1_B))?;
    let (qkv, _) = linear::forward::<T>(threads, &xn1, &narrow, sp, &at(QKV_W), sp, &at(QKV_B))?;
    let (att, _) = attention::forward::<T>(op.n_head, &qkv, &sequences)?;
    let (a, _) = linear::forward::<T>(threads, &att, &narrow, sp, &at(PROJ_W), sp, &at(PROJ_B))?;
    let x2 = add(a, contiguous::<T>("transformer block", sx, &x)?)?;
    let (xn2, _) = layer_norm::forward::<T>(op.eps, &x2, &narrow, sp, &at(LN2_W), sp, &at(LN2_B))?;
    let (h, _) = linear::forward::<T>(threads, &xn2, &narrow, sp, &at(FC_W), sp, &at(FC_B))?;
    let (g, _) = gelu::gelu_fwd::<T>(&h, &wide)?;
    let (m, _) = linear::forward::<T>(threads, &g, &wide, sp, &at(OUT_W), sp, &at(OUT_B))?;
    let y = add(m, T::cpu_storage_as_slice(&x2)?)?;

    let saved = Saved {
        xn1,
        qkv,
        att,
        x2,
        xn2,
        h,
        g,
    };
    Ok((y, saved))
}

impl CustomOp2 for Block {
    fn name(&self) -> &'static str {
        "ladder-transformer-block"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sp: &CpuStorage,
        lp: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, forward(self, sx, lx, sp, lp))
    }

    fn bwd(
        &self,
        x: &Tensor,
        params: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let op = BlockGrad(self.clone());
        let n = x.elem_count();
        let packed = x.apply_op3_no_bwd(params, &grad.contiguous()?, &op)?;
        let dx = packed.narrow(0, 0, n)?.reshape(x.shape())?;
        let dp = packed.narrow(0, n, self.packing.len())?;
        Ok((Some(dx), Some(dp)))
    }
}

/// `(x, packed parameters, dy) ↦ [dx | d parameters]`, flat, from the forward's saved
/// intermediates.
struct BlockGrad(Block);

/// Each group's backward in its own task, as the forward ran it; the parameters'
/// gradients are the groups' shares summed in group order, so a run is reproducible at a
/// given thread count (another count sums in another order: the low bits differ).
#[allow(clippy::too_many_arguments)]
fn backward<T: Float>(
    op: &Block,
    sx: &CpuStorage,
    lx: &Layout,
    sp: &CpuStorage,
    lp: &Layout,
    sg: &CpuStorage,
    lg: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let pk = op.packing;
    let (b, t) = dims("transformer block backward", pk, lx, lp)?;
    let d = pk.d;
    if lg.dims() != lx.dims() || !lg.is_contiguous() {
        candle_core::bail!(
            "transformer block backward: the gradient must be a contiguous (B, T, C)"
        );
    }
    let saved = op.saved.get("transformer block backward")?;
    let n = b * t * d;
    let mut out = vec![T::zero(); n + pk.len()];
    let (dx, dp) = out.split_at_mut(n);
    let task = |group: &(Group, Saved), dx: &mut [T], dp: &mut [T]| {
        backward_rows::<T>(op, group, t, (sx, lx), (sp, lp), (sg, lg), (dx, dp))
    };
    if let [whole] = saved.as_slice() {
        task(whole, dx, dp)?;
    } else {
        // The first group's parameter gradients go straight into the output.
        let mut shares: Vec<Vec<T>> = saved[1..]
            .iter()
            .map(|_| vec![T::zero(); pk.len()])
            .collect();
        let dps = std::iter::once(&mut *dp).chain(shares.iter_mut().map(Vec::as_mut_slice));
        let dxs = pieces(&mut *dx, saved.iter().map(|(g, _)| g.rows(t, d).0 * d));
        saved
            .par_iter()
            .zip(dxs)
            .zip(dps.collect::<Vec<_>>())
            .map(|((group, dx), dp)| task(group, dx, dp))
            .collect::<Result<()>>()?;
        for share in &shares {
            add_assign(dp, share);
        }
    }
    Ok((T::to_cpu_storage_owned(out), Shape::from(n + pk.len())))
}

/// One group's backward (sequences of `t`) from what its forward kept, reading its rows
/// of the block's `x` and `dy`: `dx` for those rows, and the group's share of the
/// parameters' gradients into `dp`.
fn backward_rows<T: Float>(
    op: &Block,
    (group, s): &(Group, Saved),
    t: usize,
    (sx, lx): (&CpuStorage, &Layout),
    (sp, lp): (&CpuStorage, &Layout),
    (sg, lg): (&CpuStorage, &Layout),
    (dx, dp): (&mut [T], &mut [T]),
) -> Result<()> {
    let pk = op.packing;
    let (d, f, threads) = (pk.d, pk.d_ff, group.threads);
    let (rows, skip) = group.rows(t, d);
    let x = Layout::contiguous_with_offset((rows, d), lx.start_offset() + skip);
    let dy = Layout::contiguous_with_offset((rows, d), lg.start_offset() + skip);
    let at = |i| pk.layout(i, lp.start_offset());
    let (narrow, wide) = (Layout::contiguous((rows, d)), Layout::contiguous((rows, f)));
    let n = rows * d;
    let mut put = |i: usize, grad: &[T]| {
        let at = pk.offset(i);
        dp[at..at + grad.len()].copy_from_slice(grad);
    };

    // MLP: y = x₂ + W₄·gelu(h) + b₄, h = W₃·ln₂(x₂) + b₃.
    let (dg, dw, db) = linear::grads::<T>(threads, (&s.g, &wide), (sp, &at(OUT_W)), (sg, &dy))?;
    put(OUT_W, T::cpu_storage_as_slice(&dw)?);
    put(OUT_B, &db);
    let (dh, _) = gelu::gelu_grad::<T>(&s.h, &wide, &dg, &wide)?;
    let (dxn2, dw, db) =
        linear::grads::<T>(threads, (&s.xn2, &narrow), (sp, &at(FC_W)), (&dh, &wide))?;
    put(FC_W, T::cpu_storage_as_slice(&dw)?);
    put(FC_B, &db);
    let (ln2, _) =
        layer_norm::backward::<T>(op.eps, &s.x2, &narrow, sp, &at(LN2_W), &dxn2, &narrow)?;
    let mut ln2 = T::cpu_storage_data(ln2)?;
    put(LN2_W, &ln2[n..n + d]);
    put(LN2_B, &ln2[n + d..]);
    ln2.truncate(n);
    // dx₂ = the LayerNorm's share + dy (a sum of two: the same bits in either order).
    let dy_values = contiguous::<T>("transformer block backward", sg, &dy)?;
    let dx2 = add(T::to_cpu_storage_owned(ln2), dy_values)?;

    // Attention: x₂ = x + W₂·attn(qkv) + b₂, qkv = W₁·ln₁(x) + b₁.
    let (datt, dw, db) = linear::grads::<T>(
        threads,
        (&s.att, &narrow),
        (sp, &at(PROJ_W)),
        (&dx2, &narrow),
    )?;
    put(PROJ_W, T::cpu_storage_as_slice(&dw)?);
    put(PROJ_B, &db);
    let (b3, b1) = (
        Layout::contiguous((rows / t, t, 3 * d)),
        Layout::contiguous((rows / t, t, d)),
    );
    let (dqkv, _) = attention::backward::<T>(op.n_head, &s.qkv, &b3, &datt, &b1)?;
    let qkv_rows = Layout::contiguous((rows, 3 * d));
    let (dxn1, dw, db) = linear::grads::<T>(
        threads,
        (&s.xn1, &narrow),
        (sp, &at(QKV_W)),
        (&dqkv, &qkv_rows),
    )?;
    put(QKV_W, T::cpu_storage_as_slice(&dw)?);
    put(QKV_B, &db);
    let (ln1, _) = layer_norm::backward::<T>(op.eps, sx, &x, sp, &at(LN1_W), &dxn1, &narrow)?;
    let ln1 = T::cpu_storage_as_slice(&ln1)?;
    put(LN1_W, &ln1[n..n + d]);
    put(LN1_B, &ln1[n + d..]);
    let dx2 = T::cpu_storage_as_slice(&dx2)?;
    dx.par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(ln1[..n].par_chunks(ELEMENTS_PER_TASK))
        .zip(dx2.par_chunks(ELEMENTS_PER_TASK))
        .for_each(|((dx, a), b)| {
            for ((dx, &a), &b) in dx.iter_mut().zip(a).zip(b) {
                *dx = a + b;
            }
        });
    Ok(())
}

impl CustomOp3 for BlockGrad {
    fn name(&self) -> &'static str {
        "ladder-transformer-block-grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sp: &CpuStorage,
        lp: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, backward(&self.0, sx, lx, sp, lp, sg, lg))
    }
}

/// One pre-norm transformer block, `x₂ = x + attn(ln₁(x))`, `y = x₂ + mlp(ln₂(x₂))`, on
/// `x` `(B, T, C)` with `n_head` heads, GELU (tanh) and LayerNorm epsilon `eps`, as one
/// graph node on CPU. `params` are, in order: `ln1` weight and bias `(C)`, the QKV
/// projection `(3C, C)` and `(3C)`, the attention output projection `(C, C)` and `(C)`,
/// `ln2` weight and bias, the MLP's first layer `(F, C)` and `(F)` and its second
/// `(C, F)` and `(C)`; linear weights are `(out, in)`.
///
/// Only for CPU tensors: on other devices the caller composes the block from the other
/// kernels (`Gpt` does).
pub fn transformer_block(
    x: &Tensor,
    params: [&Tensor; 12],
    n_head: usize,
    eps: f64,
) -> Result<Tensor> {
    if !x.device().is_cpu() {
        candle_core::bail!("transformer_block: the fused block runs on CPU only");
    }
    let d = x.dim(candle_core::D::Minus1)?;
    let packing = Packing {
        d,
        d_ff: params[FC_B].elem_count(),
    };
    for ((p, name), shape) in params.iter().zip(NAMES).zip(packing.shapes()) {
        if p.dims() != shape.as_slice() {
            candle_core::bail!(
                "transformer_block: {name} has shape {:?}, expected {shape:?} for width {d} and MLP width {}",
                p.dims(),
                packing.d_ff
            );
        }
    }
    let flat = params
        .iter()
        .map(|p| p.flatten_all())
        .collect::<Result<Vec<_>>>()?;
    let packed = Tensor::cat(&flat, 0)?;
    let op = Block {
        n_head,
        eps,
        packing,
        saved: Stash::new(),
    };
    x.contiguous()?.apply_op2(&packed, op)
}
