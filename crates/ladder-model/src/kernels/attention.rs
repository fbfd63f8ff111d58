//! Causal multi-head self-attention from the fused `qkv` projection, with its backward.
//!
//! Input `qkv` is `(B, T, 3C)`: queries, keys and values side by side, as the QKV linear
//! layer writes them. Heads are read in place through strided layouts, so there is no
//! split, transpose or copy into `(B, H, T, hd)`, and the output `(B, T, C)` comes out with
//! heads already merged. For each batch row, a group of heads at a time, and each block
//! of `QUERY_BLOCK` query rows `r0..r1` against the keys `0..r1` it can see:
//!
//! - forward: `S = Q·Kᵀ` (one batched matmul), `P = softmax(S/√hd)` under the causal mask
//!   (in place, in the same buffer), `Y = P·V`;
//! - backward: recompute `P`, then `dP = dY·Vᵀ`,
//!   `dS = P ⊙ (dP − rowsum(P ⊙ dP))/√hd`, `dQ = dS·K`, and accumulate `dV += Pᵀ·dY`,
//!   `dK += dSᵀ·Q` over the blocks.
//!
//! Query blocks skip the key blocks above the diagonal: at T = 256 and blocks of 64 the
//! products cover 10/16 of the `(T, T)` square instead of all of it. The scores exist only
//! for one group and block at a time (≤ 1 MiB), never for the whole `(B, H, T, T)` batch
//! as in the composed form (67 MB per layer at d 256). Recomputing `P` in the backward
//! costs one extra `Q·Kᵀ`, as in FlashAttention (Dao et al. 2022); the products
//! themselves are candle's CPU matmul.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, DType, Device, Layout, Result, Shape, Tensor, D,
};
use rayon::prelude::*;

use super::matmul::{matmul, Threads};
use super::{by_dtype, simd, Float};
use crate::Precision;

/// Score elements per group of heads and query block (1 MiB of f32).
const SCORES_PER_GROUP: usize = 1 << 18;

/// Query rows per block.
const QUERY_BLOCK: usize = 64;

/// Where one batch row's heads live in `qkv`, and the shapes around them.
#[derive(Clone, Copy)]
struct Geometry {
    t: usize,
    c: usize,
    hd: usize,
    heads: usize,
    /// Heads per batched matmul.
    group: usize,
}

/// Rows `r0..r0 + rows` of heads `h0..h0 + g` of one batch row.
#[derive(Clone, Copy)]
struct Tile {
    bi: usize,
    h0: usize,
    g: usize,
    r0: usize,
    rows: usize,
}

impl Geometry {
    fn of(layout: &Layout, n_head: usize) -> Result<(usize, Self)> {
        let (b, t, c3) = layout.shape().dims3()?;
        if !layout.is_contiguous() || c3 % 3 != 0 || (c3 / 3) % n_head != 0 {
            candle_core::bail!(
                "causal_attention: qkv must be a contiguous (B, T, 3C) tensor with C divisible by {n_head} heads"
            );
        }
        let c = c3 / 3;
        let group = (SCORES_PER_GROUP / (QUERY_BLOCK.min(t) * t).max(1)).clamp(1, n_head);
        Ok((
            b,
            Self {
                t,
                c,
                hd: c / n_head,
                heads: n_head,
                group,
            },
        ))
    }

    /// `(g, rows, hd)` view of part `part` (0 q, 1 k, 2 v) of a tile, in a storage whose
    /// rows are `width` wide (`3C` for `qkv`, `C` for a merged `(B, T, C)`), from `start`.
    fn view(&self, start: usize, width: usize, part: usize, tile: Tile) -> Layout {
        let offset =
            start + (tile.bi * self.t + tile.r0) * width + part * self.c + tile.h0 * self.hd;
        let shape = (tile.g, tile.rows, self.hd).into();
        Layout::new(shape, vec![self.hd, width, 1], offset)
    }

    /// The same view transposed, `(g, hd, rows)`.
    fn view_t(&self, start: usize, width: usize, part: usize, tile: Tile) -> Layout {
        let l = self.view(start, width, part, tile);
        let shape = (tile.g, self.hd, tile.rows).into();
        Layout::new(shape, vec![self.hd, 1, width], l.start_offset())
    }

    fn scale<T: Float>(&self) -> T {
        T::from(self.hd).map_or_else(T::nan, |hd| hd.sqrt().recip())
    }

    /// The tiles of batch row `bi`: for each group of heads, the query blocks, each with
    /// the key tile `0..r1` it attends to.
    fn tiles(&self, bi: usize) -> impl Iterator<Item = (Tile, Tile)> + '_ {
        let block = QUERY_BLOCK.min(self.t).max(1);
        (0..self.heads).step_by(self.group).flat_map(move |h0| {
            let g = self.group.min(self.heads - h0);
            (0..self.t).step_by(block).map(move |r0| {
                let rows = block.min(self.t - r0);
                let queries = Tile {
                    bi,
                    h0,
                    g,
                    r0,
                    rows,
                };
                let keys = Tile {
                    r0: 0,
                    rows: r0 + rows,
                    ..queries
                };
                (queries, keys)
            })
        })
    }
}

/// `(g, m, n)` scores of query rows `r0..r0 + m` against keys `0..n` → causal softmax
/// probabilities of `scale·S`, in place.
fn causal_softmax<T: Float>(scores: &mut [T], n: usize, r0: usize, m: usize, scale: T) {
    for (i, row) in scores.chunks_exact_mut(n).enumerate() {
        let (live, masked) = row.split_at_mut(r0 + i % m + 1);
        let max = simd::max(live) * scale;
        for s in live.iter_mut() {
            *s = *s * scale - max;
        }
        T::exp_nonpositive_in_place(live);
        let inv = simd::sum(live).recip();
        for s in live.iter_mut() {
            *s *= inv;
        }
        masked.fill(T::zero());
    }
}

/// `P` `(g, m, n)` for a query tile against its key tile.
fn probabilities<T: Float>(
    qkv: &CpuStorage,
    start: usize,
    geo: &Geometry,
    q: Tile,
    k: Tile,
) -> Result<Vec<T>> {
    let (m, n) = (q.rows, k.rows);
    let ql = geo.view(start, 3 * geo.c, 0, q);
    let kt = geo.view_t(start, 3 * geo.c, 1, k);
    let mut p = T::cpu_storage_data(matmul::<T>(
        Threads::Caller,
        qkv,
        qkv,
        (q.g, m, n, geo.hd),
        &ql,
        &kt,
    )?)?;
    causal_softmax(&mut p, n, q.r0, m, geo.scale());
    Ok(p)
}

/// Writes one head's `(rows, hd)` values into rows `r0..` of a row-major `(T, width)`
/// block, at column `col`.
fn scatter<T: Float>(src: &[T], dst: &mut [T], hd: usize, width: usize, col: usize, r0: usize) {
    for (i, row) in src.chunks_exact(hd).enumerate() {
        let at = (r0 + i) * width + col;
        dst[at..at + hd].copy_from_slice(row);
    }
}

/// `(g, m, n)` transposed to `(g, n, m)`, as a layout over the contiguous buffer.
fn transposed(g: usize, m: usize, n: usize) -> Layout {
    Layout::new((g, n, m).into(), vec![m * n, 1, n], 0)
}

struct CausalAttention {
    n_head: usize,
}

pub(super) fn forward<T: Float>(
    n_head: usize,
    s: &CpuStorage,
    l: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let (b, geo) = Geometry::of(l, n_head)?;
    let (t, c, hd) = (geo.t, geo.c, geo.hd);
    let start = l.start_offset();
    let mut y = vec![T::zero(); b * t * c];
    y.par_chunks_mut(t * c)
        .enumerate()
        .try_for_each(|(bi, yb)| -> Result<()> {
            for (q, k) in geo.tiles(bi) {
                let p = T::to_cpu_storage_owned(probabilities::<T>(s, start, &geo, q, k)?);
                let v = geo.view(start, 3 * c, 2, k);
                let pl = Layout::contiguous((q.g, q.rows, k.rows));
                let o = matmul::<T>(Threads::Caller, &p, s, (q.g, q.rows, hd, k.rows), &pl, &v)?;
                let o = T::cpu_storage_as_slice(&o)?;
                scatter_heads(o, yb, q, hd, c, q.h0 * hd);
            }
            Ok(())
        })?;
    Ok((T::to_cpu_storage_owned(y), Shape::from((b, t, c))))
}

/// Writes a tile's `(g, rows, hd)` values into a `(T, width)` block at column `col`.
fn scatter_heads<T: Float>(
    src: &[T],
    dst: &mut [T],
    tile: Tile,
    hd: usize,
    width: usize,
    col: usize,
) {
    for (gi, head) in src.chunks_exact(tile.rows * hd).enumerate() {
        scatter(head, dst, hd, width, col + gi * hd, tile.r0);
    }
}

impl CustomOp1 for CausalAttention {
    fn name(&self) -> &'static str {
        "ladder-causal-attention"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), s, forward(self.n_head, s, l))
    }

    fn bwd(&self, qkv: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let op = CausalAttentionGrad {
            n_head: self.n_head,
        };
        Ok(Some(qkv.apply_op2_no_bwd(&grad.contiguous()?, &op)?))
    }
}

/// `(qkv, dy) ↦ dqkv`.
struct CausalAttentionGrad {
    n_head: usize,
}

/// Adds a `(g, n, hd)` product into the first `n` rows of each head of a `(g, T, hd)`
/// accumulator.
fn accumulate<T: Float>(acc: &mut [T], add: &[T], t: usize, n: usize, hd: usize) {
    for (acc, add) in acc.chunks_exact_mut(t * hd).zip(add.chunks_exact(n * hd)) {
        for (a, &b) in acc.iter_mut().zip(add) {
            *a += b;
        }
    }
}

pub(super) fn backward<T: Float>(
    n_head: usize,
    s: &CpuStorage,
    l: &Layout,
    sg: &CpuStorage,
    lg: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let (b, geo) = Geometry::of(l, n_head)?;
    let (t, c, hd) = (geo.t, geo.c, geo.hd);
    if lg.dims() != [b, t, c] || !lg.is_contiguous() {
        candle_core::bail!("causal_attention backward: gradient must be a contiguous (B, T, C)");
    }
    let (start, gstart) = (l.start_offset(), lg.start_offset());
    let scale: T = geo.scale();
    let mut dqkv = vec![T::zero(); b * t * 3 * c];
    dqkv.par_chunks_mut(t * 3 * c)
        .enumerate()
        .try_for_each(|(bi, db)| -> Result<()> {
            // dK and dV of the current group of heads, summed over its query blocks.
            let (mut dk, mut dv) = (Vec::new(), Vec::new());
            for (q, k) in geo.tiles(bi) {
                let (g, m, n) = (q.g, q.rows, k.rows);
                if q.r0 == 0 {
                    dk = vec![T::zero(); g * t * hd];
                    dv = vec![T::zero(); g * t * hd];
                }
                let p = probabilities::<T>(s, start, &geo, q, k)?;
                let dy = geo.view(gstart, c, 0, q);
                let vt = geo.view_t(start, 3 * c, 2, k);
                let mut ds = T::cpu_storage_data(matmul::<T>(
                    Threads::Caller,
                    sg,
                    s,
                    (g, m, n, hd),
                    &dy,
                    &vt,
                )?)?;
                for (i, (ds, p)) in ds.chunks_exact_mut(n).zip(p.chunks_exact(n)).enumerate() {
                    let live = q.r0 + i % m + 1;
                    let dot = simd::dot(&ds[..live], &p[..live]);
                    for (d, &p) in ds[..live].iter_mut().zip(&p[..live]) {
                        *d = p * (*d - dot) * scale;
                    }
                    ds[live..].fill(T::zero());
                }
                let p = T::to_cpu_storage_owned(p);
                let ds = T::to_cpu_storage_owned(ds);
                let (square, square_t) = (Layout::contiguous((g, m, n)), transposed(g, m, n));
                let dq = matmul::<T>(
                    Threads::Caller,
                    &ds,
                    s,
                    (g, m, hd, n),
                    &square,
                    &geo.view(start, 3 * c, 1, k),
                )?;
                scatter_heads(T::cpu_storage_as_slice(&dq)?, db, q, hd, 3 * c, q.h0 * hd);
                let dv_blk = matmul::<T>(Threads::Caller, &p, sg, (g, n, hd, m), &square_t, &dy)?;
                accumulate(&mut dv, T::cpu_storage_as_slice(&dv_blk)?, t, n, hd);
                let q_view = geo.view(start, 3 * c, 0, q);
                let dk_blk =
                    matmul::<T>(Threads::Caller, &ds, s, (g, n, hd, m), &square_t, &q_view)?;
                accumulate(&mut dk, T::cpu_storage_as_slice(&dk_blk)?, t, n, hd);
                if q.r0 + m == t {
                    let full = Tile {
                        r0: 0,
                        rows: t,
                        ..q
                    };
                    scatter_heads(&dk, db, full, hd, 3 * c, c + q.h0 * hd);
                    scatter_heads(&dv, db, full, hd, 3 * c, 2 * c + q.h0 * hd);
                }
            }
            Ok(())
        })?;
    Ok((T::to_cpu_storage_owned(dqkv), l.shape().clone()))
}

impl CustomOp2 for CausalAttentionGrad {
    fn name(&self) -> &'static str {
        "ladder-causal-attention-grad"
    }

    fn cpu_fwd(
        &self,
        s: &CpuStorage,
        l: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), s, backward(self.n_head, s, l, sg, lg))
    }
}

/// Causal self-attention of `n_head` heads over `qkv` `(B, T, 3C)`, giving `(B, T, C)`:
/// fused on CPU, composed elsewhere.
pub fn causal_attention(qkv: &Tensor, n_head: usize) -> Result<Tensor> {
    if qkv.device().is_cpu() {
        return qkv.contiguous()?.apply_op1(CausalAttention { n_head });
    }
    let t = qkv.dim(1)?;
    causal_attention_composed(qkv, n_head, &causal_mask(t, qkv.dtype(), qkv.device())?)
}

/// `(T, T)` additive mask: 0 where key ≤ query, −∞ above the diagonal.
pub fn causal_mask(t: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j <= i { 0.0 } else { f32::NEG_INFINITY }))
        .collect();
    Tensor::from_vec(values, (t, t), device)?.to_dtype(dtype)
}

/// The composed form: split heads, `softmax(Q·Kᵀ/√hd + mask)·V`, merge heads. `mask`
/// is [`causal_mask`] of at least `T`.
pub fn causal_attention_composed(qkv: &Tensor, n_head: usize, mask: &Tensor) -> Result<Tensor> {
    let [q, k, v] = split_heads(qkv, n_head)?;
    merge_heads(&attend_composed(&q, &k, &v, mask)?)
}

/// `(B, T, 3C)` → queries, keys and values as contiguous `(B, H, T, hd)` heads.
pub fn split_heads(qkv: &Tensor, n_head: usize) -> Result<[Tensor; 3]> {
    let (b, t, c3) = qkv.dims3()?;
    let c = c3 / 3;
    let heads = |i: usize| -> Result<Tensor> {
        qkv.narrow(D::Minus1, i * c, c)?
            .reshape((b, t, n_head, c / n_head))?
            .transpose(1, 2)?
            .contiguous()
    };
    Ok([heads(0)?, heads(1)?, heads(2)?])
}

/// `(B, H, T, hd)` heads → `(B, T, H·hd)`.
pub fn merge_heads(y: &Tensor) -> Result<Tensor> {
    let (b, h, t, hd) = y.dims4()?;
    y.transpose(1, 2)?.reshape((b, t, h * hd))
}

/// `softmax(Q·Kᵀ/√hd + mask)·V` for `(B, H, T, hd)` heads.
pub fn attend_composed(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor) -> Result<Tensor> {
    attend_in(Precision::F32, q, k, v, mask)
}

/// [`attend_composed`] with both products in `precision` and the softmax in `q`'s dtype.
pub fn attend_in(
    precision: Precision,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Tensor,
) -> Result<Tensor> {
    let (_, _, t, hd) = q.dims4()?;
    let mask = mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
    let scores = (precision.matmul(q, &k.t()?)? / (hd as f64).sqrt())?; // (B, H, T, T)
    let att = candle_nn::ops::softmax(&scores.broadcast_add(&mask)?, D::Minus1)?;
    precision.matmul(&att, v)
}
