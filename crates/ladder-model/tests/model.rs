//! The model's counts match its variables, and autograd reaches every parameter with
//! the gradient that central finite differences give.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use candle_core::{DType, Device, Tensor};
use ladder_model::{
    FlopCounts, Gpt, GptConfig, ParamCounts, ParamStore, Parametrization, PositionEncoding,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

fn shape(positions: PositionEncoding, tied_head: bool) -> GptConfig {
    GptConfig::new(GptConfig {
        vocab: 11,
        context: 6,
        d_model: 8,
        n_layer: 2,
        n_head: 2,
        d_ff: 12,
        positions,
        tied_head,
        parametrization: Default::default(),
    })
    .unwrap()
}

fn build(cfg: GptConfig, dtype: DType, seed: u64) -> (Gpt, ParamStore) {
    let store = ParamStore::new(seed);
    let gpt = Gpt::new(cfg, store.var_builder(dtype, &Device::Cpu)).unwrap();
    (gpt, store)
}

#[test]
fn parameter_counts_match_the_variables() {
    for positions in [PositionEncoding::Learned, PositionEncoding::Rope] {
        for tied in [true, false] {
            let cfg = shape(positions, tied);
            let (_, store) = build(cfg, DType::F32, 0);
            let counts = ParamCounts::of(&cfg);
            assert_eq!(
                counts.total as usize,
                store.num_params(),
                "{positions:?} tied={tied}"
            );
            let embedding: usize = store
                .named_vars()
                .iter()
                .filter(|(n, _)| {
                    n.starts_with("wte") || n.starts_with("wpe") || n.starts_with("lm_head")
                })
                .map(|(_, v)| v.elem_count())
                .sum();
            assert_eq!(
                counts.non_embedding as usize,
                store.num_params() - embedding
            );
        }
    }
}

#[test]
fn kaplan_flops_follow_table_one() {
    let cfg = shape(PositionEncoding::Learned, true);
    let n = ParamCounts::of(&cfg).non_embedding as f64;
    let f = FlopCounts::of(&cfg);
    assert_eq!(f.kaplan, 6.0 * n + 6.0 * 2.0 * 6.0 * 8.0);
    // Matmul weights: 2 blocks x (4d^2 + 2d*d_ff) plus the (tied) head 11*8; attention
    // over the causal window: 6 * n_layer * d * (context + 1).
    let matmul = 2.0 * (4.0 * 64.0 + 2.0 * 8.0 * 12.0) + 11.0 * 8.0;
    assert_eq!(f.exact, 6.0 * matmul + 6.0 * 2.0 * 8.0 * 7.0);
}

#[test]
fn same_seed_same_model() {
    let cfg = shape(PositionEncoding::Learned, true);
    let (_, a) = build(cfg, DType::F32, 7);
    let (_, b) = build(cfg, DType::F32, 7);
    let (_, c) = build(cfg, DType::F32, 8);
    let flat = |s: &ParamStore| -> Vec<f32> {
        s.vars()
            .iter()
            .flat_map(|v| v.flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .collect()
    };
    assert_eq!(flat(&a), flat(&b));
    assert_ne!(flat(&a), flat(&c));
}

#[test]
fn first_loss_is_near_uniform() {
    let cfg = shape(PositionEncoding::Learned, true);
    let (gpt, _) = build(cfg, DType::F32, 0);
    let idx = Tensor::new(&[[1u32, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]], &Device::Cpu).unwrap();
    let tgt = Tensor::new(&[[2u32, 3, 4, 5, 6, 7], [5, 4, 3, 2, 1, 0]], &Device::Cpu).unwrap();
    let loss = gpt.loss(&idx, &tgt).unwrap().to_scalar::<f32>().unwrap();
    assert!((loss - (11f32).ln()).abs() < 0.05, "loss {loss}");
}

/// Gradients of every parameter against central finite differences in f64.
fn check_gradients(cfg: GptConfig) {
    let (gpt, store) = build(cfg, DType::F64, 3);
    // Larger weights than the init so that every path carries signal; seeded, so that the
    // test checks the same point every time.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let normal = Normal::new(0.0, 0.3).unwrap();
    for v in store.vars() {
        let noise: Vec<f64> = (0..v.elem_count())
            .map(|_| normal.sample(&mut rng))
            .collect();
        let noise = Tensor::from_vec(noise, v.shape(), &Device::Cpu).unwrap();
        v.set(&(v.as_tensor() + noise).unwrap()).unwrap();
    }
    let idx = Tensor::new(&[[1u32, 4, 2, 9, 0, 3], [7, 7, 1, 10, 5, 2]], &Device::Cpu).unwrap();
    let tgt = Tensor::new(&[[4u32, 2, 9, 0, 3, 8], [7, 1, 10, 5, 2, 6]], &Device::Cpu).unwrap();
    let loss = gpt.loss(&idx, &tgt).unwrap();
    let grads = loss.backward().unwrap();
    let eval = || gpt.loss(&idx, &tgt).unwrap().to_scalar::<f64>().unwrap();
    for (name, var) in store.named_vars() {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name} received no gradient"))
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let base = var.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        // Up to 4 entries per variable keep the test fast while touching every tensor.
        for i in (0..base.len()).step_by((base.len() / 4).max(1)) {
            let at = |delta: f64| {
                let mut x = base.clone();
                x[i] += delta;
                var.set(&Tensor::from_vec(x, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                eval()
            };
            // Central differences with Richardson extrapolation: error O(h^4), so that
            // truncation stays far below 1e-4 relative even for gradients near 1e-6.
            let central = |h: f64| (at(h) - at(-h)) / (2.0 * h);
            let h = 1e-4;
            let fd = (4.0 * central(h / 2.0) - central(h)) / 3.0;
            at(0.0);
            // The floor of 1e-6 accepts absolute differences below 1e-10 for gradients
            // that are zero in theory (the key bias: softmax ignores a constant shift),
            // where the difference quotient is pure f64 round-off (~1e-11).
            let err = (fd - g[i]).abs() / fd.abs().max(g[i].abs()).max(1e-6);
            assert!(
                err < 1e-4,
                "{name}[{i}]: autograd {} vs finite difference {fd}",
                g[i]
            );
        }
    }
}

#[test]
fn gradients_match_finite_differences_learned_tied() {
    check_gradients(shape(PositionEncoding::Learned, true));
}

#[test]
fn gradients_match_finite_differences_rope_untied() {
    check_gradients(shape(PositionEncoding::Rope, false));
}

/// μP away from its base width: the readout multiplier is in the graph of both the fused
/// head-and-loss node and the composed path.
#[test]
fn gradients_match_finite_differences_mup() {
    for (positions, tied) in [
        (PositionEncoding::Learned, true),
        (PositionEncoding::Rope, false),
    ] {
        check_gradients(GptConfig {
            parametrization: Parametrization::Mup { base_width: 32 },
            ..shape(positions, tied)
        });
    }
}

/// μP at its base width is the standard model bit for bit; away from it, the hidden
/// matrices start smaller by √m and the logits are divided by m.
#[test]
fn mup_at_its_base_width_is_the_standard_model() {
    let idx = Tensor::new(&[[1u32, 4, 2, 9, 0, 3]], &Device::Cpu).unwrap();
    let tgt = Tensor::new(&[[4u32, 2, 9, 0, 3, 8]], &Device::Cpu).unwrap();
    let loss = |p: Parametrization| {
        let cfg = GptConfig {
            parametrization: p,
            ..shape(PositionEncoding::Learned, true)
        };
        let (gpt, store) = build(cfg, DType::F32, 5);
        let loss = gpt.loss(&idx, &tgt).unwrap().to_scalar::<f32>().unwrap();
        let qkv = store
            .named_vars()
            .into_iter()
            .find(|(n, _)| n == "h.0.attn.qkv.weight")
            .unwrap()
            .1;
        let sd = qkv
            .flatten_all()
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        (loss, sd.to_scalar::<f32>().unwrap().sqrt())
    };
    let standard = loss(Parametrization::Standard);
    assert_eq!(loss(Parametrization::Mup { base_width: 8 }), standard);
    let (wide_loss, wide_sd) = loss(Parametrization::Mup { base_width: 2 });
    assert!((wide_sd / standard.1 - 0.5).abs() < 1e-6, "std 0.02/√4");
    // Logits divided by 4 sit nearer the uniform loss ln 11.
    let uniform = 11f32.ln();
    assert!((wide_loss - uniform).abs() < (standard.0 - uniform).abs());
}

/// Under bf16 autocast the loss and every gradient stay f32 and close to the f32 ones
/// (bf16 keeps 8 significant bits), for both position encodings and both kernel sets,
/// and the rounding really happens (the bf16 loss is not the f32 loss bit for bit).
#[test]
fn bf16_autocast_keeps_f32_weights_and_close_gradients() {
    use ladder_model::{Kernels, Precision};
    for positions in [PositionEncoding::Learned, PositionEncoding::Rope] {
        for kernels in [Kernels::Fused, Kernels::Composed] {
            let cfg = shape(positions, false);
            let store = ParamStore::new(3);
            let vb = store.var_builder(DType::F32, &Device::Cpu);
            let f32_model = Gpt::with_kernels(cfg, kernels, vb.clone()).unwrap();
            let bf16_model = Gpt::with_kernels(cfg, kernels, vb)
                .unwrap()
                .with_precision(Precision::Bf16);
            let ids: Vec<u32> = (0..12).map(|i| (i * 7 + 3) % 11).collect();
            let x = Tensor::from_vec(ids[..10].to_vec(), (2, 5), &Device::Cpu).unwrap();
            let y = Tensor::from_vec(ids[2..].to_vec(), (2, 5), &Device::Cpu).unwrap();
            let (l32, l16) = (
                f32_model.loss(&x, &y).unwrap(),
                bf16_model.loss(&x, &y).unwrap(),
            );
            assert_eq!(l16.dtype(), DType::F32);
            let (a, b) = (
                l32.to_scalar::<f32>().unwrap(),
                l16.to_scalar::<f32>().unwrap(),
            );
            assert!(
                (a - b).abs() < 1e-2 * a,
                "{positions:?} {kernels:?}: {a} vs {b}"
            );
            assert_ne!(a, b, "{positions:?} {kernels:?}: no rounding happened");
            let (g32, g16) = (l32.backward().unwrap(), l16.backward().unwrap());
            for (name, var) in store.named_vars() {
                let (u, v) = (
                    g32.get(var.as_tensor()).unwrap(),
                    g16.get(var.as_tensor()).unwrap(),
                );
                assert_eq!(v.dtype(), DType::F32, "{name}");
                let (u, v) = (
                    u.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                    v.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                );
                let dot: f32 = u.iter().zip(&v).map(|(p, q)| p * q).sum();
                let norm = |w: &[f32]| w.iter().map(|p| p * p).sum::<f32>().sqrt();
                let cosine = dot / (norm(&u) * norm(&v)).max(f32::MIN_POSITIVE);
                // Exactly-zero gradients (none expected) would give cosine 0 and fail.
                assert!(
                    cosine > 0.99,
                    "{positions:?} {kernels:?} {name}: cosine {cosine}"
                );
            }
        }
    }
}

/// On one thread the whole-block nodes and the fused head loss give the per-op graph's
/// loss and gradients bit for bit, tied head or not: the same kernels and products, and
/// no sum of more than two terms whose order could differ. A second backward over the
/// same graph gives the same gradients again. (On more threads a block runs its batch in
/// groups and sums their parameter gradients, so the low bits differ: `tests/kernels.rs`
/// checks that case within 1e-5.)
#[test]
fn whole_block_nodes_match_the_per_op_graph_bit_for_bit() {
    for tied in [false, true] {
        whole_block_nodes_match_per_op(tied);
    }
}

fn whole_block_nodes_match_per_op(tied: bool) {
    use ladder_model::Kernels;
    let cfg = shape(PositionEncoding::Learned, tied);
    let store = ParamStore::new(5);
    let vb = store.var_builder(DType::F32, &Device::Cpu);
    let ids: Vec<u32> = (0..14).map(|i| (i * 5 + 2) % 11).collect();
    let x = Tensor::from_vec(ids[..12].to_vec(), (2, 6), &Device::Cpu).unwrap();
    let y = Tensor::from_vec(ids[2..].to_vec(), (2, 6), &Device::Cpu).unwrap();
    let run = |kernels: Kernels| {
        let model = Gpt::with_kernels(cfg, kernels, vb.clone()).unwrap();
        let loss = model.loss(&x, &y).unwrap();
        let mut out = vec![loss.to_scalar::<f32>().unwrap()];
        let grads = loss.backward().unwrap();
        for (_, var) in store.named_vars() {
            let g = grads.get(var.as_tensor()).unwrap();
            out.extend(g.flatten_all().unwrap().to_vec1::<f32>().unwrap());
        }
        let again = loss.backward().unwrap();
        for (name, var) in store.named_vars() {
            let (a, b) = (grads.get(var.as_tensor()), again.get(var.as_tensor()));
            let flat = |t: Option<&Tensor>| t.unwrap().flatten_all().unwrap().to_vec1::<f32>();
            assert_eq!(
                flat(a).unwrap(),
                flat(b).unwrap(),
                "{kernels:?} {name} tied={tied}"
            );
        }
        out
    };
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (fused, per_op) = one_thread.install(|| (run(Kernels::Fused), run(Kernels::PerOp)));
    assert_eq!(fused, per_op, "tied={tied}");
}
