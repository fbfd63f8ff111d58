//! Run files grow one row per evaluation, finish by rename, and gather into sweep.h5.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use ladder_store::{finished_path, merge_sweep, read_runs, tmp_path, RunAttrs, RunWriter};
use ladder_train::{EvalPoint, Observer, RunStart, RunSummary};

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
    let mut attrs = RunAttrs::default();
    attrs
        .text("run_id", "r0")
        .int("N_total", 1234)
        .float("D", 1e5)
        .text("config", "a = 1\n");
    let mut w = RunWriter::new(dir.path(), "r0", attrs).unwrap();
    w.on_start(&RunStart {
        steps: 3,
        tokens: 300,
    })
    .unwrap();
    for s in 1..=3 {
        w.on_eval(&point(s)).unwrap();
        let mid = read_runs(&tmp_path(dir.path(), "r0")).unwrap();
        assert_eq!(mid[0].curves["val_loss"].len(), s as usize);
        assert_eq!(mid[0].text("status"), Some("running"));
    }
    w.on_finish(&RunSummary { last: point(3) }).unwrap();
    assert!(!tmp_path(dir.path(), "r0").exists());
    let done = read_runs(&finished_path(dir.path(), "r0")).unwrap();
    let r = &done[0];
    assert_eq!(r.id, "r0");
    assert_eq!(r.text("status"), Some("finished"));
    assert_eq!(r.number("N_total"), Some(1234.0));
    assert_eq!(r.curves["tokens"], vec![100.0, 200.0, 300.0]);
    assert_eq!(r.final_val_loss(), Some(5.0 / 3.0));

    assert_eq!(merge_sweep(dir.path(), "a = 1\n", false).unwrap().runs, 1);
    let sweep = read_runs(&dir.path().join("sweep.h5")).unwrap();
    assert_eq!(sweep.len(), 1);
    assert_eq!(sweep[0].curves, r.curves);
    assert_eq!(sweep[0].text("config"), Some("a = 1\n"));
}

#[test]
fn a_new_writer_discards_a_stale_tmp_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = RunWriter::new(dir.path(), "r1", RunAttrs::default()).unwrap();
    w.on_start(&RunStart {
        steps: 1,
        tokens: 1,
    })
    .unwrap();
    w.on_eval(&point(1)).unwrap();
    drop(w);
    assert!(tmp_path(dir.path(), "r1").exists());
    let _w = RunWriter::new(dir.path(), "r1", RunAttrs::default()).unwrap();
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

/// A finished run file `runs/<id>.h5` trained from `config`.
fn finished_run(dir: &std::path::Path, id: &str, config: &str) {
    let mut attrs = RunAttrs::default();
    attrs.text("run_id", id).text("config", config);
    let mut w = RunWriter::new(dir, id, attrs).unwrap();
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
    let mut w = RunWriter::new(d, "r2", {
        let mut a = RunAttrs::default();
        a.text("run_id", "r2").text("config", cfg);
        a
    })
    .unwrap();
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

    // Losing a run file would make sweep.h5 worse: refused unless forced.
    std::fs::remove_file(finished_path(d, "r1")).unwrap();
    let err = merge_sweep(d, cfg, false).unwrap_err().to_string();
    assert!(err.contains("r1") && err.contains("--force"), "{err}");
    assert_eq!(sha(&d.join("sweep.h5")), first);
    assert_eq!(merge_sweep(d, cfg, true).unwrap().runs, 1);
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
