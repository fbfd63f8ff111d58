//! The kernels' matrix products: candle's CPU matmul without its zero-filled output.
//!
//! candle's `MatMul` allocates its output as `vec![0; b·m·n]` and then has `gemm`
//! overwrite every element (`read_dst = false`): at d 256 the zeroing was ~6% of a
//! training step (`memset` plus the page clearing behind it; docs/LOG.md, 2026-12-01).
//! This makes the same `gemm` call, with the same arguments, batch folding and thread
//! count (candle's batch folding aside, which the kernels never trigger), so it gives
//! the same bits, into an output that is never zeroed. Only the
//! layouts the kernels use are accepted (rank 2 or 3, each matrix with a unit stride on
//! one axis), and every element the call can touch is checked to lie inside its
//! buffer first.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, Layout, Result};

use super::Float;

/// One operand: its elements, and the strides `gemm` walks them by.
#[derive(Clone, Copy)]
struct Operand<'a, T> {
    data: &'a [T],
    /// Elements between batches.
    skip: usize,
    /// Row and column strides.
    rs: usize,
    cs: usize,
}

impl<'a, T> Operand<'a, T> {
    /// Reads `layout` over `data` as `b` matrices of `rows × cols`.
    fn of(
        name: &str,
        data: &'a [T],
        layout: &Layout,
        (b, rows, cols): (usize, usize, usize),
    ) -> Result<Self> {
        let (dims, stride) = (layout.dims(), layout.stride());
        let (skip, rs, cs) = match (dims, stride) {
            ([r, c], [rs, cs]) if (*r, *c) == (rows, cols) && b == 1 => (rows * cols, *rs, *cs),
            ([bb, r, c], [s, rs, cs]) if (*bb, *r, *c) == (b, rows, cols) => (*s, *rs, *cs),
            _ => candle_core::bail!(
                "matmul: {name} has dims {dims:?} and strides {stride:?}, expected {b} × ({rows}, {cols})"
            ),
        };
        if rs != 1 && cs != 1 {
            candle_core::bail!("matmul: {name} needs a unit stride on one axis, not {stride:?}");
        }
        // The farthest element the product reads.
        let last = layout.start_offset()
            + (b - 1) * skip
            + (rows.max(1) - 1) * rs
            + (cols.max(1) - 1) * cs;
        if b * rows * cols > 0 && last >= data.len() {
            candle_core::bail!("matmul: {name} reaches element {last} of {}", data.len());
        }
        Ok(Self {
            data: data.get(layout.start_offset()..).unwrap_or_default(),
            skip,
            rs,
            cs,
        })
    }
}

/// Which threads a product runs on.
#[derive(Clone, Copy)]
pub(crate) enum Threads {
    /// candle's thread count (`get_num_threads`), as candle's own matmul.
    Candle,
    /// The calling thread only: for products inside a kernel's own parallel loop, where
    /// `gemm` splitting them again would only add synchronisation. `gemm` splits work by
    /// output tiles, never along `k`, so the bits are the same either way.
    Caller,
    /// This many of the pool's threads (one: the calling thread), for products that run
    /// side by side ([`side_by_side`]).
    Count(usize),
}

impl Threads {
    /// How many threads this stands for.
    pub(crate) fn count(self) -> usize {
        match self {
            Threads::Candle => candle_core::utils::get_num_threads(),
            Threads::Caller => 1,
            Threads::Count(n) => n,
        }
    }
}

/// Two independent computations side by side, each given half of `threads` for its
/// products: the two gradient products of a linear layer, say. At the ladder's widths
/// one product split over two threads by `gemm` gains ~1.55×, two products on one thread
/// each ~1.9×. The bits do not change, as for [`Threads::Caller`]. With one thread they
/// run one after the other.
pub(crate) fn side_by_side<A: Send, B: Send>(
    threads: Threads,
    a: impl FnOnce(Threads) -> A + Send,
    b: impl FnOnce(Threads) -> B + Send,
) -> (A, B) {
    match threads.count() {
        0 | 1 => (a(Threads::Caller), b(Threads::Caller)),
        n => rayon::join(|| a(Threads::Count(n / 2)), || b(Threads::Count(n - n / 2))),
    }
}

/// `lhs · rhs` for `b` batches of `(m, k) · (k, n)`, as candle's
/// `BackendStorage::matmul(rhs, (b, m, n, k), lhs_l, rhs_l)` computes it.
pub(crate) fn matmul<T: Float>(
    threads: Threads,
    lhs: &CpuStorage,
    rhs: &CpuStorage,
    (b, m, n, k): (usize, usize, usize, usize),
    lhs_l: &Layout,
    rhs_l: &Layout,
) -> Result<CpuStorage> {
    let parallelism = match threads.count() {
        n if n > 1 => gemm::Parallelism::Rayon(n),
        _ => gemm::Parallelism::None,
    };
    let a = Operand::of("lhs", T::cpu_storage_as_slice(lhs)?, lhs_l, (b, m, k))?;
    let r = Operand::of("rhs", T::cpu_storage_as_slice(rhs)?, rhs_l, (b, k, n))?;
    let len = b * m * n;
    if k == 0 {
        // An empty sum; no operand element exists to point `gemm` at.
        return Ok(T::to_cpu_storage_owned(vec![T::zero(); len]));
    }
    let mut dst: Vec<T> = Vec::with_capacity(len);
    // candle folds a batch-invariant rhs into one product; the kernels never pass one,
    // and the loop below computes it correctly either way.
    let out: &mut [MaybeUninit<T>] = &mut dst.spare_capacity_mut()[..len];
    for (step, block) in out.chunks_exact_mut((m * n).max(1)).enumerate() {
        product(&a, &r, (step, m, n, k), block, parallelism);
    }
    // SAFETY: `product` wrote all `len` elements: every batch's `m × n` block, each by a
    // `gemm` call with `read_dst = false`, which writes every element of its block.
    #[allow(unsafe_code)]
    unsafe {
        dst.set_len(len)
    };
    Ok(T::to_cpu_storage_owned(dst))
}

/// `lhs · rhs` for one `(m, k) · (k, n)` product, computed `rows` output rows at a
/// time in parallel on the calling pool, each block of rows handed to
/// `then(first_row, block)` as soon as it is written, while it is still in cache.
/// Returns the product as `then` left it and `then`'s results in row order. The blocks
/// are fixed by `rows`, so the bits do not depend on the thread count. Each block is its
/// own `gemm` call, which gives the whole product's bits when the blocks keep the
/// operand's alignment (`rows` a multiple of 16) and `k ≤ 512`; otherwise `gemm` may take
/// another path for a block (a single row is a matrix-vector product, `k` above its
/// cache block is split by `m`) and round differently.
pub(crate) fn matmul_by_rows<T: Float, R: Send>(
    lhs: &CpuStorage,
    rhs: &CpuStorage,
    (m, n, k): (usize, usize, usize),
    (lhs_l, rhs_l): (&Layout, &Layout),
    rows: usize,
    then: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Result<(Vec<T>, Vec<R>)> {
    use rayon::prelude::*;
    let a = Operand::of("lhs", T::cpu_storage_as_slice(lhs)?, lhs_l, (1, m, k))?;
    let r = Operand::of("rhs", T::cpu_storage_as_slice(rhs)?, rhs_l, (1, k, n))?;
    let rows = rows.max(1);
    let block = rows * n;
    if k == 0 || block == 0 {
        let mut dst = vec![T::zero(); m * n];
        let results = dst
            .chunks_mut(block.max(1))
            .enumerate()
            .map(|(i, out)| then(i * rows, out))
            .collect();
        return Ok((dst, results));
    }
    let mut dst: Vec<T> = Vec::with_capacity(m * n);
    let results = dst.spare_capacity_mut()[..m * n]
        .par_chunks_mut(block)
        .enumerate()
        .map(|(i, out)| {
            let first = i * rows;
            let a = Operand {
                data: &a.data[first * a.rs..],
                ..a
            };
            product(
                &a,
                &r,
                (0, out.len() / n, n, k),
                out,
                gemm::Parallelism::None,
            );
            // SAFETY: `product` wrote every element of `out` (`read_dst = false`), so
            // it is initialised; `MaybeUninit<T>` has `T`'s layout.
            #[allow(unsafe_code)]
            let out =
                unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<T>(), out.len()) };
            then(first, out)
        })
        .collect();
    // SAFETY: the blocks above cover all `m × n` elements and each was written.
    #[allow(unsafe_code)]
    unsafe {
        dst.set_len(m * n)
    };
    Ok((dst, results))
}

/// One batch's `(m, k) · (k, n)` into `out`, row-major `(m, n)`.
fn product<T: Float>(
    a: &Operand<'_, T>,
    r: &Operand<'_, T>,
    (step, m, n, k): (usize, usize, usize, usize),
    out: &mut [MaybeUninit<T>],
    parallelism: gemm::Parallelism,
) {
    let signed = |s: usize| s as isize;
    // SAFETY: `Operand::of` checked that every element of each operand's batches lies in
    // its slice; `out` holds exactly `m × n` elements at row stride `n`, column stride 1.
    // With `read_dst = false` and `alpha = 0`, `gemm` writes `dst` without reading it, so
    // its uninitialised contents are never observed.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr().cast::<T>(),
            1,
            signed(n),
            false,
            a.data.as_ptr().add(step * a.skip),
            signed(a.cs),
            signed(a.rs),
            r.data.as_ptr().add(step * r.skip),
            signed(r.cs),
            signed(r.rs),
            T::zero(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use candle_core::backend::BackendStorage;
    use candle_core::WithDType;

    fn storage(len: usize, seed: u32) -> CpuStorage {
        // Values with full mantissas, so that any change of summation order shows.
        let v: Vec<f32> = (0..len)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
            .collect();
        CpuStorage::F32(v)
    }

    fn same_as_candle(
        lhs: &CpuStorage,
        rhs: &CpuStorage,
        bmnk: (usize, usize, usize, usize),
        ll: &Layout,
        rl: &Layout,
    ) {
        let theirs = lhs.matmul(rhs, bmnk, ll, rl).unwrap();
        for threads in [
            Threads::Candle,
            Threads::Caller,
            Threads::Count(1),
            Threads::Count(3),
        ] {
            let ours = matmul::<f32>(threads, lhs, rhs, bmnk, ll, rl).unwrap();
            bitwise_equal(&ours, &theirs, bmnk);
        }
        // Two products side by side, as a linear layer's backward runs them.
        let (a, b) = side_by_side(
            Threads::Candle,
            |t| matmul::<f32>(t, lhs, rhs, bmnk, ll, rl),
            |t| matmul::<f32>(t, lhs, rhs, bmnk, ll, rl),
        );
        bitwise_equal(&a.unwrap(), &theirs, bmnk);
        bitwise_equal(&b.unwrap(), &theirs, bmnk);
    }

    fn bitwise_equal(ours: &CpuStorage, theirs: &CpuStorage, bmnk: (usize, usize, usize, usize)) {
        let (a, b) = (
            f32::cpu_storage_as_slice(ours).unwrap(),
            f32::cpu_storage_as_slice(theirs).unwrap(),
        );
        assert_eq!(a.len(), b.len());
        assert!(
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{bmnk:?}"
        );
    }

    /// Both entry points against candle's matmul, which runs on every core (two here, so
    /// `Threads::Caller` on one thread is compared with a threaded product).
    #[test]
    fn gives_candles_bits_for_the_kernels_layouts() {
        let (m, n, k) = (70, 45, 300);
        let lhs = storage(5 + m * k, 1);
        let rhs = storage(3 + k * n, 2);
        // Row-major operands at an offset, as the packed block parameters.
        let ll = Layout::contiguous_with_offset((m, k), 5);
        let rl = Layout::contiguous_with_offset((k, n), 3);
        same_as_candle(&lhs, &rhs, (1, m, n, k), &ll, &rl);
        // A transposed rhs (x·Wᵀ) and a transposed lhs (dyᵀ·x).
        let rt = Layout::contiguous_with_offset((n, k), 3)
            .transpose(0, 1)
            .unwrap();
        same_as_candle(&lhs, &rhs, (1, m, n, k), &ll, &rt);
        let lt = Layout::contiguous_with_offset((k, m), 5)
            .transpose(0, 1)
            .unwrap();
        same_as_candle(&lhs, &rhs, (1, m, n, k), &lt, &rl);
        // Batched strided views, as attention reads heads out of qkv.
        let (g, hd, width) = (3, 8, 3 * 3 * 8);
        let qkv = storage(40 * width, 3);
        let q = Layout::new((g, 40, hd).into(), vec![hd, width, 1], 0);
        let kt = Layout::new((g, hd, 40).into(), vec![hd, 1, width], g * hd);
        same_as_candle(&qkv, &qkv, (g, 40, 40, hd), &q, &kt);
    }

    /// Blocks of whole, aligned groups of rows give candle's bits (the head loss's case);
    /// blocks of any height give its values within rounding; each block reaches `then`
    /// with its first row, in row order.
    #[test]
    fn row_blocks_give_candles_bits_or_values() {
        for (k, offset) in [(24, 0), (300, 0), (300, 5)] {
            let (m, n) = (70, 45);
            let lhs = storage(offset + m * k, 1);
            let rhs = storage(k * n, 2);
            let ll = Layout::contiguous_with_offset((m, k), offset);
            let rt = Layout::contiguous((n, k)).transpose(0, 1).unwrap();
            let theirs = lhs.matmul(&rhs, (1, m, n, k), &ll, &rt).unwrap();
            let theirs = f32::cpu_storage_as_slice(&theirs).unwrap();
            for rows in [0, 1, 7, 32, 64, 1000] {
                let (ours, firsts) = matmul_by_rows::<f32, _>(
                    &lhs,
                    &rhs,
                    (m, n, k),
                    (&ll, &rt),
                    rows,
                    |first, block: &mut [f32]| (first, block.len() / n),
                )
                .unwrap();
                let case = format!("k {k}, offset {offset}, rows {rows}");
                if offset == 0 && rows > 0 && rows % 32 == 0 {
                    assert!(
                        ours.iter()
                            .zip(theirs)
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{case}"
                    );
                }
                for (x, y) in ours.iter().zip(theirs) {
                    assert!(
                        (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                        "{case}: {x} vs {y}"
                    );
                }
                let mut next = 0;
                for (first, height) in firsts {
                    assert_eq!(first, next, "{case}");
                    next += height;
                }
                assert_eq!(next, m, "{case}");
            }
        }
    }

    #[test]
    fn refuses_a_layout_that_reaches_past_its_buffer() {
        let (lhs, rhs) = (storage(20, 1), storage(20, 2));
        let ll = Layout::contiguous_with_offset((4, 5), 1);
        let rl = Layout::contiguous((5, 4));
        let err = matmul::<f32>(Threads::Candle, &lhs, &rhs, (1, 4, 4, 5), &ll, &rl).unwrap_err();
        assert!(
            err.to_string().contains("lhs reaches element 20 of 20"),
            "{err}"
        );
        let strided = Layout::new((4, 5).into(), vec![10, 2], 0);
        let err =
            matmul::<f32>(Threads::Candle, &lhs, &rhs, (1, 4, 4, 5), &strided, &rl).unwrap_err();
        assert!(err.to_string().contains("unit stride"), "{err}");
    }
}
