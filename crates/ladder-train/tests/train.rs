//! A tiny run on the synthetic source learns, and reports to its observer.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use candle_core::Device;
use ladder_data::{MarkovConfig, MarkovSource, TokenSource};
use ladder_model::{GptConfig, PositionEncoding, Precision};
use ladder_train::{train, AdamWConfig, Recorder, RunSpec};

fn spec(tokens: u64) -> RunSpec {
    RunSpec {
        model: GptConfig::new(GptConfig {
            vocab: 16,
            context: 16,
            d_model: 32,
            n_layer: 1,
            n_head: 2,
            d_ff: 64,
            positions: PositionEncoding::Learned,
            tied_head: true,
        })
        .expect("a valid shape"),
        batch_size: 8,
        tokens,
        lr: 3e-3,
        warmup_steps: 5,
        lr_floor: 0.1,
        adamw: AdamWConfig {
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.1,
            grad_clip: Some(1.0),
        },
        eval_every_steps: 10,
        seed: 0,
        precision: Precision::F32,
    }
}

/// A bigram chain over 16 tokens: learnable within a hundred steps.
fn bigram_source() -> MarkovSource {
    MarkovSource::new(MarkovConfig {
        vocab: 16,
        order: 1,
        successors: 2,
        zipf: 1.0,
        smoothing: 0.05,
        seed: 1,
    })
    .unwrap()
}

#[test]
fn loss_falls_towards_the_entropy_rate_and_observer_sees_everything() {
    let src = bigram_source();
    let val = src.validation_sequences(16, 2048).unwrap();
    let mut rec = Recorder::default();
    let s = spec(128 * 100);
    let summary = train(&s, &src, &val, &Device::Cpu, &mut rec).unwrap();
    assert!(rec.finished);
    assert_eq!(rec.step_losses.len(), 100);
    assert_eq!(rec.evals.len(), 10);
    assert_eq!(rec.evals.last().unwrap().tokens, 12_800);
    let first = rec.evals[0].val_loss;
    let h = src.entropy_rate().unwrap();
    assert!(
        summary.last.val_loss < first,
        "{first} -> {}",
        summary.last.val_loss
    );
    assert!(
        summary.last.val_loss < 0.5 * (h + (16f64).ln()),
        "closer to H={h} than to uniform"
    );
    assert!(
        summary.last.val_loss > h - 0.05,
        "cannot beat the entropy rate by much"
    );
}

#[test]
fn same_seed_same_curve() {
    let src = bigram_source();
    let val = src.validation_sequences(16, 512).unwrap();
    let run = || {
        let mut rec = Recorder::default();
        train(&spec(128 * 20), &src, &val, &Device::Cpu, &mut rec).unwrap();
        rec.evals.iter().map(|e| e.val_loss).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
