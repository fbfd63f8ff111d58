//! Sweeps split across processes, as on a Slurm cluster: `run --only`, `status`, `merge`
//! and the `slurm` scripts.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use ladder_store::{finished_path, read_runs, tmp_path};

fn ok(args: &[&str]) -> String {
    let out = ladder(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{args:?}: {stderr}");
    stdout
}

fn sha(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

/// Final validation loss of every run of a sweep.h5, by id.
fn losses(sweep: &Path) -> Vec<(String, f64)> {
    read_runs(sweep)
        .unwrap()
        .iter()
        .map(|r| (r.id.clone(), r.final_val_loss().unwrap()))
        .collect()
}

/// Every unit trained by its own `--only` process, then merged, gives the sweep that
/// one `ladder run` gives; status and merge say what is missing along the way.
#[test]
fn units_trained_one_by_one_then_merged_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (split, whole) = (dir.path().join("split"), dir.path().join("whole"));
    let (split_s, micro) = (split.to_str().unwrap(), fixture("micro.toml"));

    // By index (a Slurm array task id) and by run id.
    let first = ok(&["run", &micro, "--out", split_s, "--only", "0"]);
    assert!(
        first.contains("trained 1 runs") && first.contains("ladder merge"),
        "{first}"
    );
    ok(&["run", &micro, "--out", split_s, "--only", "d16-l1-h2-D8192"]);
    assert!(
        !split.join("sweep.h5").exists(),
        "--only must leave sweep.h5 to merge"
    );
    let status = ok(&["status", split_s]);
    assert!(
        status.contains("6 runs: 2 done, 0 running, 0 failed, 0 interrupted, 4 missing"),
        "{status}"
    );
    assert!(status.contains("array tasks 1-4"), "{status}");

    // A run killed mid-way: its .h5.tmp, not written to since, reads as interrupted.
    let victim = "d8-l1-h2-D4096";
    ok(&["run", &micro, "--out", split_s, "--only", victim]);
    std::fs::rename(finished_path(&split, victim), tmp_path(&split, victim)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let status = ok(&["status", split_s, "--stale-minutes", "0.0001"]);
    assert!(
        status.contains(&format!("{victim:<28} interrupted")),
        "{status}"
    );
    let merged = ok(&["merge", split_s]);
    assert!(
        merged.contains("merged 2 runs")
            && merged.contains(&format!("in progress or interrupted: {victim}")),
        "{merged}"
    );

    for i in 0..6 {
        ok(&["run", &micro, "--out", split_s, "--only", &i.to_string()]);
    }
    let merged = ok(&["merge", split_s]);
    assert!(merged.contains("merged 6 runs"), "{merged}");
    assert!(ok(&["status", split_s]).contains("nothing to redo"));
    let first_hash = sha(&split.join("sweep.h5"));
    ok(&["merge", split_s]);
    assert_eq!(
        sha(&split.join("sweep.h5")),
        first_hash,
        "merge is not idempotent"
    );

    ok(&[
        "run",
        &micro,
        "--out",
        whole.to_str().unwrap(),
        "--jobs",
        "1",
    ]);
    let (a, b) = (
        losses(&split.join("sweep.h5")),
        losses(&whole.join("sweep.h5")),
    );
    assert_eq!(a.len(), 6);
    for ((id_a, la), (id_b, lb)) in a.iter().zip(&b) {
        assert_eq!(id_a, id_b);
        assert!((la - lb).abs() <= 1e-6 * lb.abs(), "{id_a}: {la} vs {lb}");
    }
}

/// A run file of another sweep in runs/ makes merge refuse, naming it, with exit 2 and
/// sweep.h5 untouched; so do unknown units and directories that are not sweeps.
#[test]
fn merge_and_only_refuse_what_does_not_belong() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let micro = fixture("micro.toml");
    ok(&["run", &micro, "--out", a.to_str().unwrap(), "--only", "0"]);
    ok(&["merge", a.to_str().unwrap()]);
    let before = sha(&a.join("sweep.h5"));

    let other = write(
        dir.path(),
        "other.toml",
        &std::fs::read_to_string(&micro)
            .unwrap()
            .replace("seed = 1", "seed = 2"),
    );
    ok(&["run", &other, "--out", b.to_str().unwrap(), "--only", "1"]);
    let stray = "d8-l1-h2-D4096.h5";
    std::fs::copy(b.join("runs").join(stray), a.join("runs").join(stray)).unwrap();
    assert_input_error(
        &ladder(&["merge", a.to_str().unwrap()]),
        &[stray, "another sweep", "left as it was"],
    );
    assert_eq!(sha(&a.join("sweep.h5")), before);

    assert_input_error(
        &ladder(&["run", &micro, "--out", a.to_str().unwrap(), "--only", "99"]),
        &["--only", "99", "ladder plan"],
    );
    assert_input_error(
        &ladder(&["run", &other, "--out", a.to_str().unwrap(), "--only", "0"]),
        &["different config"],
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for cmd in ["merge", "status"] {
        assert_input_error(
            &ladder(&[cmd, empty.to_str().unwrap()]),
            &["not a sweep directory"],
        );
    }
}

/// `ladder slurm` writes an array of one task per unit that runs `--only` on the task
/// id, and a merge job; bad values are input errors.
#[test]
fn slurm_writes_an_array_and_a_merge_job() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let said = ok(&[
        "slurm",
        &fixture("micro.toml"),
        "--out",
        out.to_str().unwrap(),
        "--partition",
        "debug",
        "--array-parallelism",
        "3",
        "--cpus-per-task",
        "2",
        "--time",
        "00:20:00",
    ]);
    assert!(said.contains("6 array tasks"), "{said}");
    let sweep = std::fs::read_to_string(out.join("sweep.sbatch")).unwrap();
    for want in [
        "#SBATCH --array=0-5%3",
        "#SBATCH --partition=debug",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --time=00:20:00",
        "--only \"$SLURM_ARRAY_TASK_ID\"",
        "RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
    ] {
        assert!(sweep.contains(want), "no `{want}` in:\n{sweep}");
    }
    assert!(!sweep.contains("--device cuda"), "{sweep}");
    let merge = std::fs::read_to_string(out.join("merge.sbatch")).unwrap();
    assert!(merge.contains(" merge '"), "{merge}");
    let submit = std::fs::read_to_string(out.join("submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterany:"), "{submit}");
    // The directory is claimed: status knows all six runs before any task starts.
    assert!(ok(&["status", out.to_str().unwrap()]).contains("6 missing"));

    let gpu = dir.path().join("gpu");
    ok(&[
        "slurm",
        &fixture("micro.toml"),
        "--out",
        gpu.to_str().unwrap(),
        "--gpus-per-task",
        "1",
    ]);
    let sweep = std::fs::read_to_string(gpu.join("sweep.sbatch")).unwrap();
    assert!(
        sweep.contains("--gpus-per-task=1") && sweep.contains("--device cuda"),
        "{sweep}"
    );
    assert_input_error(
        &ladder(&[
            "slurm",
            &fixture("micro.toml"),
            "--out",
            gpu.to_str().unwrap(),
            "--cpus-per-task",
            "0",
        ]),
        &["--cpus-per-task"],
    );
}

/// Two processes given the same unit (a requeued task while the first still runs): the
/// second leaves it to the first instead of writing into the same file.
#[test]
fn a_second_process_leaves_a_run_to_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let (config, unit) = (root().join("configs/smoke.toml"), "d64-l2-h4-D294912");
    let args = [
        "run",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--only",
        unit,
    ];
    let mut first = std::process::Command::new(bin())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let tmp = tmp_path(&out, unit);
    while !tmp.exists() {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended before the test"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = ladder(&args);
    let (stdout, stderr) = text(&second);
    assert!(second.status.success(), "{stderr}");
    assert!(stdout.contains("trained 0 runs"), "{stdout}");
    assert!(
        stderr.contains("being trained by another process"),
        "{stderr}"
    );
    assert!(first.wait().unwrap().success());
    let runs = read_runs(&finished_path(&out, unit)).unwrap();
    assert!(runs[0].is_finished());
}
