//! A tiny run on the synthetic source learns, and reports to its observer.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use candle_core::Device;
use ladder_data::{MarkovConfig, MarkovSource, TokenSource};
use ladder_model::{GptConfig, PositionEncoding, Precision};
use ladder_train::{
    train, train_branches, AdamWConfig, Cooldown, EvalPoint, Observer, ObserverError, Recorder,
    RunSpec, ScheduleKind,
};
use std::sync::{Arc, Mutex};

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
            parametrization: Default::default(),
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
        replicate: 0,
        precision: Precision::F32,
        schedule: ScheduleKind::Cosine,
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

/// Collects a branch's evaluations and the first step it saw trained, where the test can
/// read them.
struct Shared(Arc<Mutex<Vec<EvalPoint>>>, Arc<Mutex<Option<u64>>>);

impl Observer for Shared {
    fn on_step(&mut self, step: u64, _: u64, _: f64) -> Result<(), ObserverError> {
        self.1.lock().unwrap().get_or_insert(step);
        Ok(())
    }
    fn on_eval(&mut self, point: &EvalPoint) -> Result<(), ObserverError> {
        self.0.lock().unwrap().push(*point);
        Ok(())
    }
}

fn wsd(tokens: u64) -> RunSpec {
    let mut s = spec(tokens);
    s.schedule = ScheduleKind::Wsd {
        fraction: 0.2,
        shape: Cooldown::OneMinusSqrt,
    };
    s.lr_floor = 0.0;
    s
}

/// Branches of one stable phase reproduce separately trained WSD runs of the same
/// lengths (the issue asks for 1%; with deterministic kernels they agree to float
/// rounding), also when the group is interrupted and resumed from its saved state.
#[test]
fn wsd_branches_match_separate_runs_and_resume_from_saved_states() {
    let src = bigram_source();
    let val = src.validation_sequences(16, 1024).unwrap();
    let branches: Vec<RunSpec> = [40, 70, 100].iter().map(|&s| wsd(128 * s)).collect();
    let dir = tempfile::tempdir().unwrap();
    let curves: Vec<Arc<Mutex<Vec<EvalPoint>>>> =
        (0..3).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
    let first_step: Vec<Arc<Mutex<Option<u64>>>> = (0..3).map(|_| Arc::default()).collect();
    let killed = std::cell::Cell::new(true);
    let mut observer = |i: usize| -> Result<Box<dyn Observer + Send>, ladder_train::TrainError> {
        if i == 1 && killed.replace(false) {
            // The first attempt dies when branch 1 starts, after branch 0 is done.
            return Err(ladder_train::TrainError::SourceExhausted {
                delivered: 0,
                needed: 1,
            });
        }
        Ok(Box::new(Shared(
            Arc::clone(&curves[i]),
            Arc::clone(&first_step[i]),
        )))
    };
    let states = dir.path().join("g");
    let mut group = |pending: &[bool]| {
        train_branches(
            &branches,
            pending,
            &src,
            &val,
            &Device::Cpu,
            &states,
            &mut observer,
        )
    };
    assert!(group(&[true, true, true]).is_err());
    let s0 = branches[0].decay_start();
    let saved: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(saved.len(), 2, "the state at step {s0}, tensors and JSON");
    let rest = group(&[false, true, true]).unwrap();
    assert!(rest[0].is_none() && rest[1].is_some() && rest[2].is_some());
    assert_eq!(
        *first_step[1].lock().unwrap(),
        Some(s0 + 1),
        "resumed from the saved state, not from step 0"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "states removed at the end"
    );
    for (i, b) in branches.iter().enumerate() {
        let mut alone = Recorder::default();
        train(b, &src, &val, &Device::Cpu, &mut alone).unwrap();
        let branched = curves[i].lock().unwrap().clone();
        assert_eq!(
            branched.len(),
            alone.evals.len(),
            "branch {i}: same evaluations"
        );
        for (p, q) in branched.iter().zip(&alone.evals) {
            assert_eq!((p.step, p.tokens), (q.step, q.tokens));
            let rel = (p.val_loss - q.val_loss).abs() / q.val_loss;
            assert!(
                rel < 1e-6,
                "branch {i} step {}: {} vs {}",
                p.step,
                p.val_loss,
                q.val_loss
            );
            assert!((p.lr - q.lr).abs() < 1e-12 && (p.train_loss - q.train_loss).abs() < 1e-6);
        }
    }
}
