//! Run files grow one row per evaluation, finish by rename, and gather into sweep.h5.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use ladder_core::{BudgetRule, EvalPoint, Observer, ParamCount, RunStart, RunSummary};
use ladder_store::{finished_path, merge_sweep, read_runs, tmp_path, RunMeta, RunWriter, Status};

/// The metadata of run `id` of a sweep of `config`, every field set.
fn meta(id: &str, config: &str) -> RunMeta {
    RunMeta {
        run_id: id.into(),
        sweep: "s".into(),
        config: config.into(),
        n_total: 1234,
        n_nonemb: 1000,
        d: 100_000,
        c_6nd_total: 6.0 * 1234.0 * 1e5,
        c_6nd_nonemb: 6.0 * 1000.0 * 1e5,
        c_kaplan: 7e8,
        c_exact: 9e8,
        c_budget: Some(7.4e8),
        budget_rule: Some(BudgetRule::SixNd(ParamCount::Total)),
        flops_per_token_kaplan: 7e3,
        flops_per_token_exact: 9e3,
        seed: 3,
        vocab: 64,
        context: 32,
        d_model: 32,
        n_layer: 2,
        n_head: 2,
        d_ff: 128,
        positions: "learned".into(),
        tied_head: true,
        batch_size: 8,
        precision: "f32".into(),
        schedule: "cosine".into(),
        decay_start_step: 25,
        steps: 390,
        lr: 3e-3,
        warmup_steps: 25,
        lr_floor: 0.1,
        beta1: 0.9,
        beta2: 0.95,
        weight_decay: 0.1,
        grad_clip: 1.0,
        data: "markov(vocab=64)".into(),
        tokenizer: "synthetic".into(),
        eval_tokens: 4096,
        git_commit: "unknown".into(),
        versions: "ladder".into(),
        device: "cpu".into(),
        threads: 1,
        entropy_rate: None,
    }
}

fn point(step: u64) -> EvalPoint {
    EvalPoint {
        step,
        tokens: step * 100,
        flops: step as f64 * 1e6,
        train_loss: 4.0 / step as f64,
        val_loss: 5.0 / step as f64,
        lr: 1e-3,
        wall_s: step as f64 * 0.5,
    }
}

#[test]
fn run_file_lifecycle_and_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = RunWriter::new(dir.path(), meta("r0", "a = 1\n")).unwrap();
    w.on_start(&RunStart {
        steps: 3,
        tokens: 300,
    })
    .unwrap();
    for s in 1..=3 {
        w.on_eval(&point(s)).unwrap();
        let mid = read_runs(&tmp_path(dir.path(), "r0")).unwrap();
        assert_eq!(mid[0].curves.val_loss.len(), s as usize);
        assert_eq!(mid[0].status, Status::Running);
    }
    w.on_finish(&RunSummary { last: point(3) }).unwrap();
    assert!(!tmp_path(dir.path(), "r0").exists());
    let done = read_runs(&finished_path(dir.path(), "r0")).unwrap();
    let r = &done[0];
    assert_eq!(r.id, "r0");
    assert_eq!(r.status, Status::Finished);
    assert_eq!(
        r.meta,
        meta("r0", "a = 1\n"),
        "every field reads back as written"
    );
    assert_eq!(r.curves.tokens, vec![100.0, 200.0, 300.0]);
    assert_eq!(r.final_val_loss(), Some(5.0 / 3.0));

    assert_eq!(merge_sweep(dir.path(), "a = 1\n", false).unwrap().runs, 1);
    let sweep = read_runs(&dir.path().join("sweep.h5")).unwrap();
    assert_eq!(sweep.len(), 1);
    assert_eq!(sweep[0].curves, r.curves);
    assert_eq!(sweep[0].meta, r.meta);
    // Debug text, since NaN (no entropy rate) is not equal to itself.
    assert_eq!(
        format!("{:?}", sweep[0].attrs()),
        format!("{:?}", r.attrs())
    );
}

#[test]
fn a_new_writer_discards_a_stale_tmp_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = RunWriter::new(dir.path(), meta("r1", "")).unwrap();
    w.on_start(&RunStart {
        steps: 1,
        tokens: 1,
    })
    .unwrap();
    w.on_eval(&point(1)).unwrap();
    drop(w);
    assert!(tmp_path(dir.path(), "r1").exists());
    let _w = RunWriter::new(dir.path(), meta("r1", "")).unwrap();
    assert!(!tmp_path(dir.path(), "r1").exists());
}

#[test]
fn not_a_ladder_file_is_a_schema_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.h5");
    hdf5_pure::FileBuilder::new().write(&path).unwrap();
    let err = read_runs(&path).unwrap_err().to_string();
    assert!(err.contains("not a ladder run or sweep file"), "{err}");
}

#[test]
fn a_run_without_a_field_is_a_schema_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.h5");
    let mut b = hdf5_pure::FileBuilder::new();
    b.set_attr("schema", hdf5_pure::AttrValue::I64(1));
    b.set_attr("kind", hdf5_pure::AttrValue::VarLenString("run".into()));
    b.set_attr("run_id", hdf5_pure::AttrValue::VarLenString("r".into()));
    b.write(&path).unwrap();
    let err = read_runs(&path).unwrap_err().to_string();
    assert!(err.contains("attribute `sweep` is missing"), "{err}");
}

/// A finished run file `runs/<id>.h5` trained from `config`.
fn finished_run(dir: &std::path::Path, id: &str, config: &str) {
    let mut w = RunWriter::new(dir, meta(id, config)).unwrap();
    w.on_start(&RunStart {
        steps: 2,
        tokens: 200,
    })
    .unwrap();
    for s in 1..=2 {
        w.on_eval(&point(s)).unwrap();
    }
    w.on_finish(&RunSummary { last: point(2) }).unwrap();
}

fn sha(path: &std::path::Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

#[test]
fn merge_is_idempotent_and_refuses_foreign_or_unfinished_files() {
    let dir = tempfile::tempdir().unwrap();
    let (d, cfg) = (dir.path(), "name = \"a\"\n");
    finished_run(d, "r0", cfg);
    finished_run(d, "r1", cfg);
    let merged = merge_sweep(d, cfg, false).unwrap();
    assert_eq!(merged.runs, 2);
    let first = sha(&d.join("sweep.h5"));
    assert_eq!(merge_sweep(d, cfg, false).unwrap().runs, 2);
    assert_eq!(
        sha(&d.join("sweep.h5")),
        first,
        "a second merge changed sweep.h5"
    );

    // A run of another sweep, copied in by mistake: the merge names it and the hashes,
    // and leaves sweep.h5 alone.
    finished_run(d, "x9", "name = \"b\"\n");
    let err = merge_sweep(d, cfg, false).unwrap_err().to_string();
    assert!(
        err.contains("x9.h5") && err.contains("another sweep"),
        "{err}"
    );
    assert_eq!(sha(&d.join("sweep.h5")), first);
    std::fs::remove_file(finished_path(d, "x9")).unwrap();

    // A run file renamed to another id, and a half-written run renamed as finished.
    std::fs::copy(finished_path(d, "r0"), finished_path(d, "r7")).unwrap();
    let err = merge_sweep(d, cfg, false).unwrap_err().to_string();
    assert!(err.contains("holds run `r0`, not `r7`"), "{err}");
    std::fs::remove_file(finished_path(d, "r7")).unwrap();
    let mut w = RunWriter::new(d, meta("r2", cfg)).unwrap();
    w.on_start(&RunStart {
        steps: 2,
        tokens: 200,
    })
    .unwrap();
    let merged = merge_sweep(d, cfg, false).unwrap();
    assert_eq!(
        (merged.runs, merged.unfinished.clone()),
        (2, vec!["r2".into()])
    );
    std::fs::copy(tmp_path(d, "r2"), finished_path(d, "r2")).unwrap();
    let err = merge_sweep(d, cfg, false).unwrap_err().to_string();
    assert!(err.contains("\"running\""), "{err}");
    std::fs::remove_file(finished_path(d, "r2")).unwrap();

    // A run whose file is gone (a results directory kept without runs/) is kept from
    // sweep.h5, byte for byte as its file gave it; --force drops it.
    std::fs::remove_file(finished_path(d, "r1")).unwrap();
    let merged = merge_sweep(d, cfg, false).unwrap();
    assert_eq!((merged.runs, merged.kept), (2, 1));
    assert_eq!(sha(&d.join("sweep.h5")), first, "a kept run changed");
    let forced = merge_sweep(d, cfg, true).unwrap();
    assert_eq!((forced.runs, forced.kept), (1, 0));
}

/// A sweep.h5 holding a run of another config that runs/ does not have (the directory's
/// config changed under it) is not rewritten without it, unless forced.
#[test]
fn merge_refuses_to_keep_or_drop_a_foreign_run_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let (d, other) = (dir.path(), "name = \"b\"\n");
    finished_run(d, "x9", other);
    assert_eq!(merge_sweep(d, other, false).unwrap().runs, 1);
    let before = sha(&d.join("sweep.h5"));
    std::fs::remove_file(finished_path(d, "x9")).unwrap();
    let cfg = "name = \"a\"\n";
    finished_run(d, "r0", cfg);
    let err = merge_sweep(d, cfg, false).unwrap_err().to_string();
    assert!(
        err.contains("x9") && err.contains("another sweep") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(sha(&d.join("sweep.h5")), before, "sweep.h5 was rewritten");
    let forced = merge_sweep(d, cfg, true).unwrap();
    assert_eq!((forced.runs, forced.kept), (1, 0));
}

/// A run's lock is exclusive (across processes, and across open files in one process)
/// and released on drop.
#[test]
fn a_run_lock_is_exclusive_until_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let first = ladder_store::RunLock::acquire(dir.path(), "r0").unwrap();
    let err = ladder_store::RunLock::acquire(dir.path(), "r0").unwrap_err();
    assert!(
        err.to_string().contains("being trained by another process"),
        "{err}"
    );
    assert!(ladder_store::RunLock::acquire(dir.path(), "r1").is_ok());
    drop(first);
    assert!(ladder_store::RunLock::acquire(dir.path(), "r0").is_ok());
}
