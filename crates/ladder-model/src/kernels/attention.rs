//! Causal multi-head self-attention from the fused `qkv` projection, with its backward.
//!
//! Input `qkv` is `(B, T, 3C)`: queries, keys and values side by side, as the QKV linear
//! layer writes them. Heads are read in place through strided layouts, so there is no
//! split, transpose or copy into `(B, H, T, hd)`, and the output `(B, T, C)` comes out with
//! heads already merged. For each batch row, a group of heads at a time:
//!
//! - forward: `S = Q·Kᵀ` (one batched matmul), `P = softmax(S/√hd)` under the causal mask
//!   (in place, in the same buffer), `Y = P·V`;
//! - backward: recompute `P`, then `dP = dY·Vᵀ`,
//!   `dS = P ⊙ (dP − rowsum(P ⊙ dP))/√hd`, `dV = Pᵀ·dY`, `dQ = dS·K`, `dK = dSᵀ·Q`.
//!
//! The `(T, T)` scores exist only for one group of heads at a time (≤ 1 MiB), never for
//! the whole `(B, H, T, T)` batch as in the composed form (67 MB per layer at d 256).
//! Recomputing `P` in the backward costs one extra `Q·Kᵀ`, as in FlashAttention (Dao et
//! al. 2022); the products themselves are candle's CPU matmul.

use candle_core::backend::BackendStorage;
use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, DType, Device, Layout, Result, Shape, Tensor, D,
};
use rayon::prelude::*;

use super::{by_dtype, Float};

/// Score elements per group of heads (1 MiB of f32).
const SCORES_PER_GROUP: usize = 1 << 18;

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

impl Geometry {
    fn of(layout: &Layout, n_head: usize) -> Result<(usize, Self)> {
        let (b, t, c3) = layout.shape().dims3()?;
        if !layout.is_contiguous() || c3 % 3 != 0 || (c3 / 3) % n_head != 0 {
            candle_core::bail!(
                "causal_attention: qkv must be a contiguous (B, T, 3C) tensor with C divisible by {n_head} heads"
            );
        }
        let c = c3 / 3;
        let group = (SCORES_PER_GROUP / (t * t).max(1)).clamp(1, n_head);
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

    /// `(g, T, hd)` view of part `part` (0 q, 1 k, 2 v) of heads `h0..h0+g` of batch row
    /// `bi`, starting at element `start` of the storage.
    fn heads(&self, start: usize, bi: usize, part: usize, h0: usize, g: usize) -> Layout {
        let c3 = 3 * self.c;
        let offset = start + bi * self.t * c3 + part * self.c + h0 * self.hd;
        Layout::new((g, self.t, self.hd).into(), vec![self.hd, c3, 1], offset)
    }

    /// The same heads transposed, `(g, hd, T)`.
    fn heads_t(&self, start: usize, bi: usize, part: usize, h0: usize, g: usize) -> Layout {
        let c3 = 3 * self.c;
        let offset = start + bi * self.t * c3 + part * self.c + h0 * self.hd;
        Layout::new((g, self.hd, self.t).into(), vec![self.hd, 1, c3], offset)
    }

    /// `(g, T, hd)` view of heads `h0..h0+g` of batch row `bi` in a `(B, T, C)` tensor.
    fn merged(&self, start: usize, bi: usize, h0: usize, g: usize) -> Layout {
        let offset = start + bi * self.t * self.c + h0 * self.hd;
        Layout::new(
            (g, self.t, self.hd).into(),
            vec![self.hd, self.c, 1],
            offset,
        )
    }

    fn scale<T: Float>(&self) -> T {
        T::from(self.hd).map_or_else(T::nan, |hd| hd.sqrt().recip())
    }

    /// Groups of heads: `(h0, g)`.
    fn groups(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.heads)
            .step_by(self.group)
            .map(|h0| (h0, self.group.min(self.heads - h0)))
    }
}

/// `(g, T, T)` scores → causal softmax probabilities of `scale·S`, in place.
fn causal_softmax<T: Float>(scores: &mut [T], t: usize, scale: T) {
    for (i, row) in scores.chunks_exact_mut(t).enumerate() {
        let (live, masked) = row.split_at_mut(i % t + 1);
        let max = live
            .iter()
            .copied()
            .fold(T::neg_infinity(), num_traits::Float::max)
            * scale;
        for s in live.iter_mut() {
            *s = *s * scale - max;
        }
        T::exp_in_place(live);
        let inv = live.iter().copied().sum::<T>().recip();
        for s in live.iter_mut() {
            *s *= inv;
        }
        masked.fill(T::zero());
    }
}

/// `P` for heads `h0..h0+g` of batch row `bi`.
fn probabilities<T: Float>(
    qkv: &CpuStorage,
    start: usize,
    geo: &Geometry,
    bi: usize,
    h0: usize,
    g: usize,
) -> Result<Vec<T>> {
    let (t, hd) = (geo.t, geo.hd);
    let q = geo.heads(start, bi, 0, h0, g);
    let kt = geo.heads_t(start, bi, 1, h0, g);
    let mut p = T::cpu_storage_data(qkv.matmul(qkv, (g, t, t, hd), &q, &kt)?)?;
    causal_softmax(&mut p, t, geo.scale());
    Ok(p)
}

/// Writes `(g, T, hd)` values into columns `col + h·hd` of a row-major `(T, width)` block.
fn scatter<T: Float>(src: &[T], dst: &mut [T], geo: &Geometry, width: usize, col: usize) {
    let (t, hd) = (geo.t, geo.hd);
    for (gi, head) in src.chunks_exact(t * hd).enumerate() {
        for (ti, row) in head.chunks_exact(hd).enumerate() {
            let at = ti * width + col + gi * hd;
            dst[at..at + hd].copy_from_slice(row);
        }
    }
}

struct CausalAttention {
    n_head: usize,
}

fn forward<T: Float>(n_head: usize, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
    let (b, geo) = Geometry::of(l, n_head)?;
    let (t, c, hd) = (geo.t, geo.c, geo.hd);
    let start = l.start_offset();
    let mut y = vec![T::zero(); b * t * c];
    y.par_chunks_mut(t * c)
        .enumerate()
        .try_for_each(|(bi, yb)| -> Result<()> {
            for (h0, g) in geo.groups() {
                let p = T::to_cpu_storage_owned(probabilities::<T>(s, start, &geo, bi, h0, g)?);
                let v = geo.heads(start, bi, 2, h0, g);
                let o = p.matmul(s, (g, t, hd, t), &Layout::contiguous((g, t, t)), &v)?;
                scatter(T::cpu_storage_as_slice(&o)?, yb, &geo, c, h0 * hd);
            }
            Ok(())
        })?;
    Ok((T::to_cpu_storage_owned(y), Shape::from((b, t, c))))
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

fn backward<T: Float>(
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
            for (h0, g) in geo.groups() {
                let p = probabilities::<T>(s, start, &geo, bi, h0, g)?;
                let dy = geo.merged(gstart, bi, h0, g);
                let vt = geo.heads_t(start, bi, 2, h0, g);
                let mut ds = T::cpu_storage_data(sg.matmul(s, (g, t, t, hd), &dy, &vt)?)?;
                for (i, (ds, p)) in ds.chunks_exact_mut(t).zip(p.chunks_exact(t)).enumerate() {
                    let live = i % t + 1;
                    let dot = ds[..live]
                        .iter()
                        .zip(&p[..live])
                        .map(|(&d, &p)| d * p)
                        .sum::<T>();
                    for (d, &p) in ds[..live].iter_mut().zip(&p[..live]) {
                        *d = p * (*d - dot) * scale;
                    }
                    ds[live..].fill(T::zero());
                }
                let square = Layout::contiguous((g, t, t));
                let square_t = Layout::new((g, t, t).into(), vec![t * t, 1, t], 0);
                let p = T::to_cpu_storage_owned(p);
                let ds = T::to_cpu_storage_owned(ds);
                let dv = p.matmul(sg, (g, t, hd, t), &square_t, &dy)?;
                let dq = ds.matmul(s, (g, t, hd, t), &square, &geo.heads(start, bi, 1, h0, g))?;
                let dk = ds.matmul(s, (g, t, hd, t), &square_t, &geo.heads(start, bi, 0, h0, g))?;
                for (part, d) in [(0, &dq), (1, &dk), (2, &dv)] {
                    scatter(
                        T::cpu_storage_as_slice(d)?,
                        db,
                        &geo,
                        3 * c,
                        part * c + h0 * hd,
                    );
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
    let (b, t, c3) = qkv.dims3()?;
    let c = c3 / 3;
    let hd = c / n_head;
    let heads = |i: usize| -> Result<Tensor> {
        qkv.narrow(D::Minus1, i * c, c)?
            .reshape((b, t, n_head, hd))?
            .transpose(1, 2)?
            .contiguous() // (B, H, T, hd)
    };
    let (q, k, v) = (heads(0)?, heads(1)?, heads(2)?);
    attend_composed(&q, &k, &v, mask)?
        .transpose(1, 2)?
        .reshape((b, t, c))
}

/// `softmax(Q·Kᵀ/√hd + mask)·V` for `(B, H, T, hd)` heads.
pub fn attend_composed(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let (_, _, t, hd) = q.dims4()?;
    let mask = mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
    let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?; // (B, H, T, T)
    let att = candle_nn::ops::softmax(&scores.broadcast_add(&mask)?, D::Minus1)?;
    att.matmul(v)
}
