//! Run files grow one row per evaluation, finish by rename, and gather into sweep.h5.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use ladder_store::{finished_path, read_runs, tmp_path, write_sweep, RunAttrs, RunWriter};
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

    assert_eq!(write_sweep(dir.path(), "cfg").unwrap(), 1);
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
