//! The rules of `[model]` and `[train]` that set each run: μP, the warmup, the batch
//! rule and seed replicates, as planned and as trained.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use ladder_model::Parametrization;
use ladder_sweep::{Plan, SweepConfig};

const BASE: &str = r#"
name = "t"
[data]
kind = "markov"
vocab = 16
order = 1
successors = 3
[model]
context = 16
shapes = [{ d_model = 8, n_layer = 1, n_head = 2 }, { d_model = 16, n_layer = 1, n_head = 2 }]
[tokens]
counts = [2048, 8192]
[train]
batch_size = 8
lr = 1e-2
[eval]
every_tokens = 1024
tokens = 512
"#;

/// The base config with `extra` lines appended to the section `section`.
fn with(section: &str, extra: &str) -> String {
    BASE.replace(
        &format!("[{section}]\n"),
        &format!("[{section}]\n{extra}\n"),
    )
}

fn plan(text: &str) -> Result<Plan, String> {
    let cfg = SweepConfig::parse(text, Path::new("t.toml")).map_err(|e| e.to_string())?;
    Plan::new(&cfg, text, Path::new("t.toml")).map_err(|e| e.to_string())
}

#[test]
fn seeds_add_replicates_after_the_first_seed() {
    let one = plan(BASE).unwrap();
    let three = plan(&with("train", "seeds = 3")).unwrap();
    assert_eq!(three.runs.len(), 3 * one.runs.len());
    let n = one.runs.len();
    for (r, chunk) in three.runs.chunks(n).enumerate() {
        for (run, first) in chunk.iter().zip(&one.runs) {
            let suffix = if r == 0 {
                String::new()
            } else {
                format!("-s{r}")
            };
            assert_eq!(run.id, format!("{}{suffix}", first.id));
            assert_eq!(run.spec.seed, first.spec.seed + r as u64);
            assert_eq!(run.spec.replicate, r as u64);
            let mut same = run.spec.clone();
            (same.seed, same.replicate) = (first.spec.seed, 0);
            assert_eq!(same, first.spec, "replicates differ by seed only");
        }
    }
    assert!(plan(&with("train", "seeds = 0"))
        .err()
        .unwrap()
        .contains("train.seeds"));
}

#[test]
fn mup_sets_the_parametrization_and_keeps_the_base_rate() {
    let p = plan(&with("model", "parametrization = \"mup\"\nbase_width = 8")).unwrap();
    for run in &p.runs {
        assert_eq!(
            run.spec.model.parametrization,
            Parametrization::Mup { base_width: 8 }
        );
        assert_eq!(run.spec.lr, 1e-2, "the multipliers live in the optimiser");
    }
    for (extra, field) in [
        ("parametrization = \"mup\"", "model.base_width"),
        ("base_width = 8", "model.base_width"),
        ("parametrization = \"np\"", "model.parametrization"),
    ] {
        let err = plan(&with("model", extra)).err().unwrap();
        assert!(err.contains(field), "{extra}: {err}");
    }
    let both = with("model", "parametrization = \"mup\"\nbase_width = 8");
    let err = plan(&both.replace("lr = 1e-2", "lr = 1e-2\nlr_width = 8"))
        .err()
        .unwrap();
    assert!(err.contains("train.lr_width"), "{err}");
}

#[test]
fn warmup_follows_the_fraction_rule() {
    let p = plan(&with(
        "train",
        "warmup_fraction = 0.25\nwarmup_min_steps = 3",
    ))
    .unwrap();
    // 2048 and 8192 tokens at 128 per step: 16 and 64 steps.
    let warmups: Vec<u64> = p.runs.iter().map(|r| r.spec.warmup_steps).collect();
    assert_eq!(warmups, vec![4, 16, 4, 16]);
    let err = plan(&with("train", "warmup_fraction = 0.1\nwarmup_steps = 5"))
        .err()
        .unwrap();
    assert!(err.contains("train.warmup_steps"), "{err}");
    let err = plan(&with("train", "warmup_max_steps = 5")).err().unwrap();
    assert!(err.contains("warmup_fraction"), "{err}");
}

/// Under WSD branching a model's runs share one warmup. Sized by the fraction rule it is
/// the shortest run's, so adding a lower budget to the design changes the warmup of the
/// runs already there; sized per parameter it is the model's own.
#[test]
fn a_per_parameter_warmup_does_not_depend_on_the_design() {
    let wsd = "schedule = \"wsd\"\nbranching = true\nwarmup_min_steps = 1";
    let warmup_of = |rule: &str, counts: &str| {
        let text = with("train", &format!("{wsd}\n{rule}"))
            .replace("counts = [2048, 8192]", &format!("counts = {counts}"));
        let p = plan(&text).unwrap();
        let long = p.runs.iter().find(|r| r.tokens() == 8192).unwrap();
        (long.spec.warmup_steps, long.params.total, p.warnings)
    };
    let fraction = "warmup_fraction = 0.25";
    let (alone, _, _) = warmup_of(fraction, "[8192]");
    let (beside, _, _) = warmup_of(fraction, "[4096, 8192]");
    assert_eq!(
        (alone, beside),
        (16, 8),
        "the design sets the fraction rule's warmup"
    );
    let per_param = "warmup_tokens_per_param = 0.5";
    let (alone, n, warnings) = warmup_of(per_param, "[8192]");
    assert!(warnings.is_empty(), "{warnings:?}");
    // N tokens per parameter at 128 tokens per step.
    assert_eq!(alone, (0.5 * n as f64 / 128.0).round() as u64);
    assert_eq!(warmup_of(per_param, "[4096, 8192]").0, alone);
    // Past half its shortest run the warmup is cut to it, in all the model's runs, and
    // the plan says so, naming the model and the field.
    let (cut, _, warnings) = warmup_of("warmup_tokens_per_param = 8", "[2048, 8192]");
    assert_eq!(cut, 8, "half of the 16-step run");
    assert_eq!(warnings.len(), 2, "one per model: {warnings:?}");
    for part in ["train.warmup_tokens_per_param", "d8-l1-h2", "16 steps"] {
        assert!(warnings[0].contains(part), "{part}: {}", warnings[0]);
    }
    // So is a model whose every run is cut, a single run included: the warning is about
    // what the rule asked (8·N tokens), not about runs that differ.
    let (cut, n, warnings) = warmup_of("warmup_tokens_per_param = 8", "[8192]");
    assert_eq!(cut, 32, "half of the 64-step run");
    assert_eq!(warnings.len(), 2, "one per model: {warnings:?}");
    let asked = (8.0 * n as f64 / 128.0).round() as u64;
    assert!(
        warnings[0].contains(&format!("not {asked}")),
        "{asked}: {}",
        warnings[0]
    );
}

#[test]
fn a_warmup_capped_at_a_tenth_of_a_run_is_said() {
    // 16 and 64 steps: 5 warmup steps fit only the 64-step runs; the 16-step ones get 1.
    let p = plan(&with("train", "warmup_steps = 5")).unwrap();
    let warmups: Vec<u64> = p.runs.iter().map(|r| r.spec.warmup_steps).collect();
    assert_eq!(warmups, vec![1, 5, 1, 5]);
    let [warning] = p.warnings.as_slice() else {
        panic!("one warning expected: {:?}", p.warnings)
    };
    for part in [
        "train.warmup_steps = 5",
        "2 of 4 runs",
        "16 steps",
        "warmup_fraction",
    ] {
        assert!(warning.contains(part), "{part}: {warning}");
    }
    // Within a tenth of every run, or the default: nothing to say.
    assert!(plan(&with("train", "warmup_steps = 1"))
        .unwrap()
        .warnings
        .is_empty());
    assert!(plan(BASE).unwrap().warnings.is_empty());
}

/// `ladder tune` says it of its own trials, whose lengths `--tokens` sets, not of the
/// plan's runs.
#[test]
fn tuning_trials_say_a_capped_warmup_of_their_own_lengths() {
    use ladder_sweep::tune_plan;
    let p = plan(&with("train", "warmup_steps = 5")).unwrap();
    // Each model's smallest D, 16 steps: capped, as in the plan.
    let short = tune_plan(&p, &[0.5, 1.0], None, 1).unwrap();
    let [warning] = short.warnings.as_slice() else {
        panic!("one warning expected: {:?}", short.warnings)
    };
    assert!(warning.contains("4 of 4 runs"), "{warning}");
    // 64 steps each: 5 warmup steps fit, whatever the plan's short runs had.
    let long = tune_plan(&p, &[0.5, 1.0], Some(8192), 1).unwrap();
    assert!(long.runs.iter().all(|r| r.spec.warmup_steps == 5));
    assert!(long.warnings.is_empty(), "{:?}", long.warnings);
    // And the other way: a plan within its warmups, tuned on 16-step trials.
    let p = plan(
        &with("train", "warmup_steps = 5").replace("counts = [2048, 8192]", "counts = [8192]"),
    )
    .unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let short = tune_plan(&p, &[1.0], Some(2048), 1).unwrap();
    assert_eq!(short.warnings.len(), 1, "{:?}", short.warnings);
}

#[test]
fn the_batch_rule_gives_short_runs_their_steps() {
    let rule = "min_steps = 40\nmin_batch_size = 2";
    let p = plan(&with("train", rule)).unwrap();
    for run in &p.runs {
        // Each run its own batch: 2048 tokens need a batch of 2 (64 steps of 32 tokens),
        // 8192 keep batch_size 8 (64 steps of 128), each at lr × √(batch/8).
        let batch = if run.tokens() <= 2048 { 2 } else { 8 };
        assert_eq!(run.spec.batch_size, batch, "{}", run.id);
        let lr = 1e-2 * (batch as f64 / 8.0).sqrt();
        assert!(
            (run.spec.lr - lr).abs() < 1e-15,
            "{}: lr {}",
            run.id,
            run.spec.lr
        );
        assert_eq!(run.tokens() % (batch as u64 * 16), 0);
    }
    // Under WSD branching a model's runs share one stable phase, so one batch: its
    // shortest run's.
    let branching = format!("{rule}\nschedule = \"wsd\"\nbranching = true");
    let p = plan(&with("train", &branching)).unwrap();
    for run in &p.runs {
        assert_eq!(run.spec.batch_size, 2, "{}", run.id);
    }
    let err = plan(&with("train", "min_batch_size = 2")).err().unwrap();
    assert!(err.contains("min_steps"), "{err}");
}

#[test]
fn tune_trials_keep_the_plans_schedule_and_its_shortest_run() {
    use ladder_sweep::tune_plan;
    let text = with(
        "train",
        "schedule = \"wsd\"\ncooldown = 0.2\ncooldown_shape = \"1-sqrt\"\nbranching = true",
    );
    let lab = plan(&text).unwrap();
    let trials = tune_plan(&lab, &[0.5, 1.0, 2.0], None, 1).unwrap();
    assert!(!trials.branching);
    assert_eq!(trials.runs.len(), 2 * 3);
    for trial in &trials.runs {
        // The model's shortest planned run, as the lab trains it but for the rate.
        let same_model = lab.runs.iter().filter(|r| r.spec.model == trial.spec.model);
        let shortest = same_model.min_by_key(|r| r.tokens()).unwrap();
        assert_eq!(trial.spec.schedule, shortest.spec.schedule);
        assert_eq!(trial.spec.warmup_steps, shortest.spec.warmup_steps);
        assert_eq!(trial.spec.decay_start(), shortest.spec.decay_start());
        assert_eq!(trial.tokens(), shortest.tokens());
    }
}

#[test]
fn tune_seeds_replicate_every_trial_and_its_extensions() {
    use ladder_sweep::{bracket, tune_plan, LrTable, TunedLr};
    let lab = plan(&with("train", "schedule = \"wsd\"\ncooldown = 0.2")).unwrap();
    let mut trials = tune_plan(&lab, &[0.5, 1.0], None, 3).unwrap();
    assert_eq!(trials.runs.len(), 2 * 2 * 3);
    let first = trials.runs[0].clone();
    for (r, run) in trials.runs[..3].iter().enumerate() {
        assert_eq!(run.spec.replicate, r as u64);
        assert_eq!(run.spec.seed, first.spec.seed + r as u64);
        assert_eq!(run.spec.lr, first.spec.lr);
        assert_eq!(run.tokens(), first.tokens());
    }
    assert!(trials.runs[1].id.ends_with("-s1"), "{}", trials.runs[1].id);
    let err = tune_plan(&lab, &[1.0], None, 0).err().unwrap().to_string();
    assert!(err.contains("--seeds"), "{err}");
    // A model whose best rate is the largest tried gets the next rate, with 3 seeds.
    let m = &first.spec.model;
    let (lo, hi) = (first.spec.lr, 2.0 * first.spec.lr);
    let table = LrTable {
        model: vec![TunedLr {
            d_model: m.d_model,
            n_layer: m.n_layer,
            n_head: m.n_head,
            lr: hi,
            tried: vec![(lo, 2.5), (hi, 2.4)],
            tokens: first.tokens(),
            seeds: 3,
        }],
    };
    let before = trials.runs.len();
    assert_eq!(bracket(&mut trials, &table), 3);
    let added = &trials.runs[before..];
    assert!(added
        .iter()
        .all(|r| (r.spec.lr / (2.0 * hi) - 1.0).abs() < 1e-12));
    let replicates: Vec<u64> = added.iter().map(|r| r.spec.replicate).collect();
    assert_eq!(replicates, [0, 1, 2]);
}

/// A model an IsoFLOP design gives no run is not another model's second warning: each
/// model whose warmup was cut is named once.
#[test]
fn a_cut_warmup_is_said_once_per_model() {
    let text = with(
        "train",
        "schedule = \"wsd\"\nbranching = true\nwarmup_min_steps = 1\nwarmup_tokens_per_param = 8",
    )
    .replace(
        "shapes = [{ d_model = 8, n_layer = 1, n_head = 2 }, { d_model = 16, n_layer = 1, n_head = 2 }]",
        "shapes = [{ d_model = 8, n_layer = 1, n_head = 2 }, { d_model = 16, n_layer = 1, n_head = 2 }, \
         { d_model = 32, n_layer = 1, n_head = 2 }, { d_model = 64, n_layer = 1, n_head = 2 }]",
    )
    .replace(
        "counts = [2048, 8192]",
        "budgets = [1e8]\nsizes_per_budget = 1\nexpected_ratio = 20",
    );
    let p = plan(&text).unwrap();
    let ids: Vec<&str> = p.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 1, "one size at one budget: {ids:?}");
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
}
