//! Every fused kernel against finite differences (f64) and against its composed candle
//! form (f32, forward and gradients within 1e-5).
#![allow(clippy::unwrap_used)]

use candle_core::{DType, Device, Tensor, Var};
use ladder_model::kernels;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Op<'a> = dyn Fn(&[Tensor]) -> candle_core::Result<Tensor> + 'a;

fn random(rng: &mut ChaCha8Rng, shape: &[usize], scale: f64, dtype: DType) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| rng.random_range(-1.0..1.0) * scale)
        .collect();
    Tensor::from_vec(v, shape, &Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .unwrap()
}

/// `Σ op(inputs) ⊙ R` for a fixed random `R`: a scalar whose gradient reaches every
/// output element with a different weight.
fn project(out: &Tensor, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let r = random(&mut rng, out.dims(), 1.0, out.dtype());
    (out * r).unwrap().sum_all().unwrap()
}

/// `f` on a pool of `threads` threads.
fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// `v`'s gradient in `grads`, flat, in f32.
fn flat_gradient(grads: &candle_core::backprop::GradStore, v: &Var) -> Vec<f32> {
    let g = grads
        .get(v)
        .unwrap_or_else(|| panic!("an input got no gradient"));
    g.flatten_all().unwrap().to_vec1().unwrap()
}

fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

/// Central differences on a sample of coordinates of every input, in f64.
fn check_finite_differences(name: &str, op: &Op<'_>, inputs: &[Tensor]) {
    let vars: Vec<Var> = inputs
        .iter()
        .map(|t| Var::from_tensor(t).unwrap())
        .collect();
    let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let loss = project(&op(&tensors).unwrap(), 7);
    let grads = loss.backward().unwrap();
    let h = 1e-6;
    for (i, var) in vars.iter().enumerate() {
        let g = grads
            .get(var)
            .unwrap_or_else(|| panic!("{name}: input {i} got no gradient"));
        let g = g.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let base = var.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let step = (base.len() / 23).max(1);
        for j in (0..base.len()).step_by(step) {
            let eval = |delta: f64| {
                let mut v = base.clone();
                v[j] += delta;
                let t = Tensor::from_vec(v, var.dims(), &Device::Cpu).unwrap();
                let mut ts = tensors.clone();
                ts[i] = t;
                scalar(&project(&op(&ts).unwrap(), 7))
            };
            let fd = (eval(h) - eval(-h)) / (2.0 * h);
            let tol = 1e-6 * (1.0 + fd.abs());
            assert!(
                (fd - g[j]).abs() < tol,
                "{name}: d/d input {i}[{j}]: finite difference {fd}, backward {}",
                g[j]
            );
        }
    }
}

/// Fused and composed ops agree in f32: outputs and every input's gradient.
fn check_against_composed(name: &str, fused: &Op<'_>, composed: &Op<'_>, inputs: &[Tensor]) {
    let run = |op: &Op<'_>| {
        let vars: Vec<Var> = inputs
            .iter()
            .map(|t| Var::from_tensor(&t.to_dtype(DType::F32).unwrap()).unwrap())
            .collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let out = op(&ts).unwrap();
        let grads = project(&out, 11).backward().unwrap();
        let gs: Vec<Vec<f32>> = vars
            .iter()
            .map(|v| {
                grads
                    .get(v)
                    .unwrap_or_else(|| panic!("{name}: an input got no gradient"))
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap()
            })
            .collect();
        (out.flatten_all().unwrap().to_vec1::<f32>().unwrap(), gs)
    };
    let (out_f, grads_f) = run(fused);
    let (out_c, grads_c) = run(composed);
    let close = |what: &str, a: &[f32], b: &[f32]| {
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{name}: {what} differs by {worst:e}");
    };
    close("output", &out_f, &out_c);
    for (i, (gf, gc)) in grads_f.iter().zip(&grads_c).enumerate() {
        close(&format!("gradient of input {i}"), gf, gc);
    }
}

fn both(name: &str, fused: &Op<'_>, composed: &Op<'_>, shapes: &[&[usize]], scale: f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let inputs: Vec<Tensor> = shapes
        .iter()
        .map(|s| random(&mut rng, s, scale, DType::F64))
        .collect();
    check_finite_differences(name, fused, &inputs);
    check_against_composed(name, fused, composed, &inputs);
}

#[test]
fn layer_norm() {
    let fused: &Op<'_> = &|t| kernels::layer_norm(&t[0], &t[1], &t[2], 1e-5);
    let composed: &Op<'_> = &|t| kernels::layer_norm_composed(&t[0], &t[1], &t[2], 1e-5);
    both(
        "layer_norm",
        fused,
        composed,
        &[&[3, 5, 16], &[16], &[16]],
        1.0,
    );
}

#[test]
fn gelu() {
    let fused: &Op<'_> = &|t| kernels::gelu(&t[0]);
    let composed: &Op<'_> = &|t| kernels::gelu_composed(&t[0]);
    both("gelu", fused, composed, &[&[4, 7, 9]], 3.0);
}

#[test]
fn linear() {
    let fused: &Op<'_> = &|t| kernels::linear(&t[0], &t[1], &t[2]);
    let composed: &Op<'_> = &|t| kernels::linear_composed(&t[0], &t[1], &t[2]);
    both(
        "linear",
        fused,
        composed,
        &[&[2, 6, 8], &[12, 8], &[12]],
        1.0,
    );
}

#[test]
fn causal_attention() {
    // (B, T, 3C) with C = 12: 3 heads of 4, and more heads than fit one group at T = 9.
    let mask = kernels::causal_mask(9, DType::F64, &Device::Cpu).unwrap();
    let fused: &Op<'_> = &|t| kernels::causal_attention(&t[0], 3);
    let composed: &Op<'_> = &move |t| {
        let mask = mask.to_dtype(t[0].dtype())?;
        kernels::causal_attention_composed(&t[0], 3, &mask)
    };
    both("causal_attention", fused, composed, &[&[2, 9, 36]], 2.0);
}

#[test]
fn causal_attention_over_several_query_blocks() {
    // T = 150: query blocks of 64, 64 and 22 rows, each against the keys it can see.
    let mask = kernels::causal_mask(150, DType::F64, &Device::Cpu).unwrap();
    let fused: &Op<'_> = &|t| kernels::causal_attention(&t[0], 2);
    let composed: &Op<'_> = &move |t| {
        let mask = mask.to_dtype(t[0].dtype())?;
        kernels::causal_attention_composed(&t[0], 2, &mask)
    };
    both(
        "causal_attention, T=150",
        fused,
        composed,
        &[&[2, 150, 12]],
        2.0,
    );
}

#[test]
fn causal_attention_over_many_head_groups() {
    // T = 600: one head's scores fill most of a group, so heads go one matmul each.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let qkv = random(&mut rng, &[1, 600, 3 * 8], 1.0, DType::F64);
    let mask = kernels::causal_mask(600, DType::F32, &Device::Cpu).unwrap();
    let fused: &Op<'_> = &|t| kernels::causal_attention(&t[0], 2);
    let composed: &Op<'_> = &|t| kernels::causal_attention_composed(&t[0], 2, &mask);
    check_against_composed("causal_attention, T=600", fused, composed, &[qkv]);
}

#[test]
fn cross_entropy() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let targets: Vec<u32> = (0..10).map(|_| rng.random_range(0..13)).collect();
    let targets = Tensor::new(targets.as_slice(), &Device::Cpu).unwrap();
    let fused: &Op<'_> = &|t| kernels::cross_entropy(&t[0], &targets);
    let composed: &Op<'_> = &|t| kernels::cross_entropy_composed(&t[0], &targets);
    both("cross_entropy", fused, composed, &[&[10, 13]], 4.0);
}

#[test]
fn head_cross_entropy() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let targets: Vec<u32> = (0..12).map(|_| rng.random_range(0..13)).collect();
    let targets = Tensor::new(targets.as_slice(), &Device::Cpu).unwrap();
    let fused: &Op<'_> = &|t| kernels::head_cross_entropy(&t[0], &t[1], &targets);
    let composed: &Op<'_> =
        &|t| kernels::cross_entropy_composed(&t[0].matmul(&t[1].t()?)?, &targets);
    both(
        "head_cross_entropy",
        fused,
        composed,
        &[&[12, 8], &[13, 8]],
        1.5,
    );
}

/// The head loss computes its logits in blocks of rows (32 at this vocabulary, so 10
/// blocks here, the last one short) and its gradient in the forward; the loss and both
/// gradients are still the bits of the separate product and cross-entropy, on any
/// number of threads.
#[test]
fn head_cross_entropy_in_row_blocks_gives_the_separate_ops_bits() {
    let (rows, width, vocab) = (300, 24, 4096);
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let x = random(&mut rng, &[rows, width], 1.0, DType::F32);
    let w = random(&mut rng, &[vocab, width], 0.5, DType::F32);
    let targets: Vec<u32> = (0..rows)
        .map(|_| rng.random_range(0..vocab as u32))
        .collect();
    let targets = Tensor::new(targets.as_slice(), &Device::Cpu).unwrap();
    let run = |fused: bool, threads: usize| {
        on_threads(threads, || {
            let (xv, wv) = (Var::from_tensor(&x).unwrap(), Var::from_tensor(&w).unwrap());
            let loss = if fused {
                kernels::head_cross_entropy(&xv, &wv, &targets)
            } else {
                kernels::cross_entropy(&xv.matmul(&wv.t().unwrap()).unwrap(), &targets)
            }
            .unwrap();
            let grads = loss.backward().unwrap();
            let mut out = vec![loss.to_scalar::<f32>().unwrap()];
            for v in [&xv, &wv] {
                let g = grads.get(v).unwrap().flatten_all().unwrap();
                out.extend(g.to_vec1::<f32>().unwrap());
            }
            out
        })
    };
    let reference = run(false, 1);
    for threads in [1, 2, 3] {
        assert_eq!(run(true, threads), reference, "{threads} threads");
    }
    // Without a gradient to compute, the same loss.
    let plain = kernels::head_cross_entropy(&x, &w, &targets).unwrap();
    assert_eq!(plain.to_scalar::<f32>().unwrap(), reference[0]);
}

#[test]
fn cross_entropy_rejects_targets_outside_the_vocabulary() {
    let logits = Tensor::zeros((2, 4), DType::F32, &Device::Cpu).unwrap();
    let targets = Tensor::new(&[1u32, 4], &Device::Cpu).unwrap();
    let err = kernels::cross_entropy(&logits, &targets).unwrap_err();
    assert!(
        err.to_string()
            .contains("target 4 outside the vocabulary of 4"),
        "{err}"
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Row blocks are summed in a fixed order, so a run is reproducible at any thread
    // count (rayon's adaptive reductions would not be).
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let x = random(&mut rng, &[300, 48], 1.0, DType::F32);
    let w = random(&mut rng, &[48], 1.0, DType::F32);
    let b = random(&mut rng, &[48], 1.0, DType::F32);
    let lw = random(&mut rng, &[40, 48], 0.3, DType::F32);
    let lb = random(&mut rng, &[40], 0.3, DType::F32);
    let targets: Vec<u32> = (0..300).map(|_| rng.random_range(0..40)).collect();
    let targets = Tensor::new(targets.as_slice(), &Device::Cpu).unwrap();
    let run = |threads: usize| {
        on_threads(threads, || {
            let vars: Vec<Var> = [&x, &w, &b, &lw, &lb]
                .iter()
                .map(|t| Var::from_tensor(t).unwrap())
                .collect();
            let h = kernels::layer_norm(&vars[0], &vars[1], &vars[2], 1e-5).unwrap();
            let h = kernels::gelu(&h).unwrap();
            let logits = kernels::linear(&h, &vars[3], &vars[4]).unwrap();
            let loss = kernels::cross_entropy(&logits, &targets).unwrap();
            let grads = loss.backward().unwrap();
            let mut out = vec![loss.to_scalar::<f32>().unwrap()];
            for v in &vars {
                out.extend(flat_gradient(&grads, v));
            }
            out
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

/// A pre-norm block composed from the composed kernels, with `t` as
/// [`kernels::transformer_block`] takes them after `x`.
fn block_composed(t: &[Tensor], n_head: usize) -> candle_core::Result<Tensor> {
    let mask = kernels::causal_mask(t[0].dim(1)?, t[0].dtype(), &Device::Cpu)?;
    let ln1 = kernels::layer_norm_composed(&t[0], &t[1], &t[2], 1e-5)?;
    let qkv = kernels::linear_composed(&ln1, &t[3], &t[4])?;
    let att = kernels::causal_attention_composed(&qkv, n_head, &mask)?;
    let x2 = (&t[0] + kernels::linear_composed(&att, &t[5], &t[6])?)?;
    let ln2 = kernels::layer_norm_composed(&x2, &t[7], &t[8], 1e-5)?;
    let h = kernels::gelu_composed(&kernels::linear_composed(&ln2, &t[9], &t[10])?)?;
    &x2 + kernels::linear_composed(&h, &t[11], &t[12])?
}

fn block_fused(t: &[Tensor], n_head: usize) -> candle_core::Result<Tensor> {
    let p: [&Tensor; 12] = std::array::from_fn(|i| &t[i + 1]);
    kernels::transformer_block(&t[0], p, n_head, 1e-5)
}

/// `x` `(B, T, C)` and the block's parameters for width `c` and MLP width `f`.
fn block_shapes(b: usize, t: usize, c: usize, f: usize) -> Vec<Vec<usize>> {
    vec![
        vec![b, t, c],
        vec![c],
        vec![c],
        vec![3 * c, c],
        vec![3 * c],
        vec![c, c],
        vec![c],
        vec![c],
        vec![c],
        vec![f, c],
        vec![f],
        vec![c, f],
        vec![c],
    ]
}

#[test]
fn transformer_block() {
    // C = 12 in 3 heads of 4, MLP width 20, T = 9.
    let fused: &Op<'_> = &|t| block_fused(t, 3);
    let composed: &Op<'_> = &|t| block_composed(t, 3);
    let shapes = block_shapes(2, 9, 12, 20);
    let shapes: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
    both("transformer_block", fused, composed, &shapes, 1.0);
}

#[test]
fn transformer_block_over_several_query_blocks() {
    // T = 130: attention's query blocks of 64, 64 and 2 rows inside the block.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let inputs: Vec<Tensor> = block_shapes(1, 130, 8, 16)
        .iter()
        .map(|s| random(&mut rng, s, 1.0, DType::F64))
        .collect();
    let fused: &Op<'_> = &|t| block_fused(t, 2);
    let composed: &Op<'_> = &|t| block_composed(t, 2);
    check_against_composed("transformer_block, T=130", fused, composed, &inputs);
}

/// On a pool of several threads a block runs its batch in groups, one task each, and
/// sums the groups' parameter gradients: still the composed block's values within 1e-5
/// and the finite differences' in f64, for even and uneven groups (5 sequences on 2 and
/// 3 threads), and the same bits again at the same thread count.
#[test]
fn transformer_block_in_batch_groups() {
    let shapes = block_shapes(5, 7, 12, 20);
    let shapes: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let inputs: Vec<Tensor> = shapes
        .iter()
        .map(|s| random(&mut rng, s, 1.0, DType::F32))
        .collect();
    for threads in [2, 3] {
        on_threads(threads, || {
            let fused: &Op<'_> = &|t| block_fused(t, 3);
            let composed: &Op<'_> = &|t| block_composed(t, 3);
            both("transformer_block in groups", fused, composed, &shapes, 1.0);
            let gradients = || {
                let vars: Vec<Var> = inputs
                    .iter()
                    .map(|t| Var::from_tensor(t).unwrap())
                    .collect();
                let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
                let grads = project(&fused(&ts).unwrap(), 11).backward().unwrap();
                vars.iter()
                    .flat_map(|v| flat_gradient(&grads, v))
                    .collect::<Vec<f32>>()
            };
            assert_eq!(gradients(), gradients(), "{threads} threads");
        });
    }
}

#[test]
fn transformer_block_names_a_misshapen_parameter() {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let mut inputs: Vec<Tensor> = block_shapes(1, 4, 8, 16)
        .iter()
        .map(|s| random(&mut rng, s, 1.0, DType::F32))
        .collect();
    inputs[5] = random(&mut rng, &[8, 4], 1.0, DType::F32);
    let err = block_fused(&inputs, 2).unwrap_err().to_string();
    assert!(err.contains("attn.proj.weight has shape [8, 4]"), "{err}");
}
