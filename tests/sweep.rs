//! `ladder run` end to end: HDF5 output, resume without retraining, and SIGKILL safety.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use common::*;
use ladder_store::{read_runs, Status};

fn finished_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir.join("runs"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "h5"))
                .map(|p| {
                    (
                        p.file_name().unwrap().to_string_lossy().into_owned(),
                        std::fs::read(&p).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `ladder run micro.toml --out DIR --jobs 2`.
fn run_micro(out_dir: &Path) -> std::process::Output {
    ladder(&[
        "run",
        &fixture("micro.toml"),
        "--out",
        out_dir.to_str().unwrap(),
        "--jobs",
        "2",
    ])
}

#[test]
fn run_writes_every_run_and_a_rerun_retrains_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = run_micro(&out_dir);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("trained 6 runs"), "{stdout}");
    assert!(
        stdout.contains("Chinchilla approach 3") && stdout.contains("verdict:"),
        "{stdout}"
    );
    let runs = read_runs(&out_dir.join("sweep.h5")).unwrap();
    assert_eq!(runs.len(), 6);
    for r in &runs {
        assert_eq!(r.status, Status::Finished);
        let m = &r.meta;
        assert!(m.n_total > m.n_nonemb && m.n_nonemb > 0, "{}", r.id);
        for (key, v) in [
            ("C_6nd_total", m.c_6nd_total),
            ("C_kaplan", m.c_kaplan),
            ("C_exact", m.c_exact),
        ] {
            assert!(v.is_finite() && v > 0.0, "{}: {key} {v}", r.id);
        }
        assert!(m.entropy_rate.is_some_and(f64::is_finite), "{}", r.id);
        assert!(m.threads >= 1, "{}", r.id);
        let evals = r.curves.val_loss.len();
        assert_eq!(
            evals as u64,
            m.d / 1024,
            "{}: one evaluation per 1024 tokens",
            r.id
        );
        assert!(m.config.contains("name = \"micro\""));
    }
    let before = finished_files(&out_dir);
    let again = ladder(&[
        "run",
        &fixture("micro.toml"),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert!(
        text(&again).0.contains("trained 0 runs, skipped 6"),
        "{}",
        text(&again).0
    );
    assert_eq!(
        before,
        finished_files(&out_dir),
        "finished runs are never rewritten"
    );
}

/// `--stop-after M` starts no unit after M minutes: here none, so the sweep is left for
/// the same command, which resumes it; the fit waits until every run has trained.
#[test]
fn a_sweep_stopped_early_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let args = [
        "run",
        &fixture("micro.toml"),
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let stopped = ladder(&[&args[..], &["--stop-after", "0"]].concat());
    let (stdout, stderr) = text(&stopped);
    assert!(stopped.status.success(), "{stderr}");
    assert!(
        stdout.contains("trained 0 runs, skipped 0 finished, 6 left"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("verdict:"),
        "no fit of a partial sweep: {stdout}"
    );
    let rest = ladder(&args);
    let (stdout, stderr) = text(&rest);
    assert!(rest.status.success(), "{stderr}");
    assert!(stdout.contains("trained 6 runs, skipped 0"), "{stdout}");
    assert!(stdout.contains("verdict:"), "{stdout}");
}

/// `--finish-within M` starts only units expected to end within M minutes: none within
/// 0, for the sweep or one unit, and every one within an hour, after which it fits.
#[test]
fn a_sweep_starts_only_units_that_end_within_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let args = [
        "run",
        &fixture("micro.toml"),
        "--out",
        out_dir.to_str().unwrap(),
        "--finish-within",
    ];
    let none = ladder(&[&args[..], &["0"]].concat());
    let (stdout, stderr) = text(&none);
    assert!(none.status.success(), "{stderr}");
    assert!(stderr.contains("timing the shapes left"), "{stderr}");
    assert!(
        stdout.contains("expected to end within 0 min: trained 0 runs, skipped 0 finished, 6 left"),
        "{stdout}"
    );
    let unit = ladder(&[&args[..], &["0", "--only", "0"]].concat());
    let (stdout, stderr) = text(&unit);
    assert!(unit.status.success(), "{stderr}");
    assert!(
        stdout.contains("did not start unit 0 (1 runs left): expected to take"),
        "{stdout}"
    );
    assert!(stdout.contains("not to end within 0 min"), "{stdout}");
    assert!(stderr.contains("shortest unit left: "), "{stderr}");
    let all = ladder(&[&args[..], &["60"]].concat());
    let (stdout, stderr) = text(&all);
    assert!(all.status.success(), "{stderr}");
    assert!(stdout.contains("trained 6 runs, skipped 0"), "{stdout}");
    assert!(stdout.contains("verdict:"), "{stdout}");
    // Each unit's estimate is set beside its time.
    let timed = stderr
        .lines()
        .filter(|l| l.contains(": estimated "))
        .count();
    assert_eq!(timed, 6, "{stderr}");
}

#[test]
fn another_config_in_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("config.toml"), "name = \"other\"\n").unwrap();
    let out = ladder(&[
        "run",
        &fixture("micro.toml"),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_input_error(&out, &["different config"]);
    assert_eq!(
        std::fs::read_to_string(out_dir.join("config.toml")).unwrap(),
        "name = \"other\"\n"
    );
}

#[test]
fn sigkill_at_a_random_moment_loses_no_finished_run() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let delay = Duration::from_millis(200 + u64::from(nanos) % 1500);
    eprintln!("killing after {delay:?}");
    let mut child = Command::new(bin())
        .args([
            "run",
            &fixture("micro.toml"),
            "--out",
            out_dir.to_str().unwrap(),
            "--jobs",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = finished_files(&out_dir);
    let out = run_micro(&out_dir);
    assert!(out.status.success(), "{}", text(&out).1);
    let after = finished_files(&out_dir);
    assert_eq!(after.len(), 6);
    for (name, bytes) in &before {
        assert_eq!(
            Some(bytes),
            after.get(name),
            "{name} changed after the rerun"
        );
    }
    assert_eq!(read_runs(&out_dir.join("sweep.h5")).unwrap().len(), 6);
}

/// WSD branches reproduce separately trained WSD runs of the same D (the issue asks for
/// 1%; with deterministic kernels they agree exactly), and `plan` states the saving.
#[test]
fn wsd_branches_match_separate_wsd_runs() {
    let dir = tempfile::tempdir().unwrap();
    let micro = std::fs::read_to_string(fixture("micro.toml")).unwrap();
    let wsd = micro.replace("[train]\n", "[train]\nschedule = \"wsd\"\nlr_floor = 0.0\n");
    assert_ne!(wsd, micro);
    let runs = |name: &str, body: &str| {
        let cfg = write(dir.path(), &format!("{name}.toml"), body);
        let out_dir = dir.path().join(name);
        let out = ladder(&[
            "run",
            &cfg,
            "--out",
            out_dir.to_str().unwrap(),
            "--jobs",
            "2",
        ]);
        assert!(out.status.success(), "{}", text(&out).1);
        let mut runs = read_runs(&out_dir.join("sweep.h5")).unwrap();
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        runs
    };
    let branched_cfg = wsd.replace("[train]\n", "[train]\nbranching = true\n");
    let plan = ladder(&[
        "plan",
        &write(dir.path(), "p.toml", &branched_cfg),
        "--no-timing",
    ]);
    assert!(text(&plan).0.contains("% saved"), "{}", text(&plan).0);
    let (branched, separate) = (runs("branched", &branched_cfg), runs("separate", &wsd));
    assert_eq!(branched.len(), separate.len());
    for (b, s) in branched.iter().zip(&separate) {
        assert_eq!(b.id, s.id);
        assert!(b.meta.schedule.contains("branched"));
        let (lb, ls) = (&b.curves.val_loss, &s.curves.val_loss);
        assert_eq!(lb.len(), ls.len(), "{}", b.id);
        for (x, y) in lb.iter().zip(ls) {
            assert!((x - y).abs() <= 0.01 * y, "{}: {x} vs {y}", b.id);
        }
    }
}

/// `ladder tune` trains each model at each factor of its learning rate (two seeds each,
/// averaged), extends the grid until every best rate has a worse one on each side, and
/// writes the best ones, which `[train] lr_table` then applies per model.
#[test]
fn tune_writes_a_table_that_the_config_then_uses() {
    let dir = tempfile::tempdir().unwrap();
    let micro = std::fs::read_to_string(fixture("micro.toml")).unwrap();
    let cfg = write(dir.path(), "micro.toml", &micro);
    let out_dir = dir.path().join("tune");
    let out = ladder(&[
        "tune",
        &cfg,
        "--out",
        out_dir.to_str().unwrap(),
        "--factors",
        "0.5,1,2",
        "--seeds",
        "2",
        "--jobs",
        "2",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("(mean of 2 seeds)"), "{stdout}");
    let marked = stdout
        .lines()
        .filter(|l| l.starts_with('d') && l.contains('*'));
    assert_eq!(marked.count(), 2, "a best rate for each model: {stdout}");
    let table = std::fs::read_to_string(out_dir.join("tuned.toml")).unwrap();
    assert_eq!(table.matches("[[model]]").count(), 2, "{table}");
    assert_eq!(table.matches("seeds = 2").count(), 2, "{table}");
    let tuned = micro.replace("lr = 1e-2", "lr = 1e-2\nlr_table = \"tune/tuned.toml\"");
    let plan = ladder(&[
        "plan",
        &write(dir.path(), "tuned.toml", &tuned),
        "--no-timing",
    ]);
    let (stdout, stderr) = text(&plan);
    assert!(plan.status.success(), "{stderr}");
    let rates: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("d8-") || l.starts_with("d16-"))
        .map(|l| l.split_whitespace().nth(9).unwrap())
        .collect();
    assert_eq!(rates.len(), 6);
    let grid: Vec<String> = (-4..=4)
        .map(|k| format!("{:.2e}", 1e-2 * 2f64.powi(k)))
        .collect();
    for lr in rates {
        assert!(grid.iter().any(|g| g == lr), "{lr} is on the ×2 grid");
    }
    let tune_text = text(&out).0;
    if !tune_text.contains("edge of the grid") {
        // Every best rate bracketed: each table entry has a trial on each side.
        for entry in table.split("[[model]]").skip(1) {
            let tried = entry.matches("], [").count() + 1;
            assert!(tried >= 3, "{entry}");
        }
    }
    assert!(
        tune_text.contains("slope of log(rate) on log(width)"),
        "{tune_text}"
    );
    let missing = micro.replace("lr = 1e-2", "lr = 1e-2\nlr_table = \"nope.toml\"");
    let bad = ladder(&[
        "plan",
        &write(dir.path(), "bad.toml", &missing),
        "--no-timing",
    ]);
    assert_input_error(&bad, &["nope.toml"]);
}

/// A run whose loss becomes non-finite stops at once, is kept as `status = diverged`
/// with its step, is not retrained by a rerun, and is left out of fits with a warning
/// naming it.
#[test]
fn a_diverging_run_is_marked_and_left_out_of_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    // The widest model gets an absurd learning rate from the table; the others are fine.
    write(
        dir.path(),
        "lr.toml",
        "[[model]]\nd_model = 8\nn_layer = 1\nn_head = 2\nlr = 1e-2\ntried = []\ntokens = 0\n\
         [[model]]\nd_model = 12\nn_layer = 1\nn_head = 2\nlr = 1e-2\ntried = []\ntokens = 0\n\
         [[model]]\nd_model = 16\nn_layer = 1\nn_head = 2\nlr = 1e6\ntried = []\ntokens = 0\n",
    );
    let config = std::fs::read_to_string(fixture("micro.toml"))
        .unwrap()
        .replace(
            "  { d_model = 16, n_layer = 1, n_head = 2 },",
            "  { d_model = 12, n_layer = 1, n_head = 2 },\n  { d_model = 16, n_layer = 1, n_head = 2 },",
        )
        .replace("lr = 1e-2", "lr = 1e-2\nlr_table = \"lr.toml\"");
    let config = write(dir.path(), "div.toml", &config);
    let out_dir = dir.path().join("out");
    let out = ladder(&["run", &config, "--out", out_dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("d16-l1-h2-D8192 diverged") && stderr.contains("left out of fits"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Chinchilla approach 3"),
        "the 6 good runs are fitted: {stdout}"
    );
    let runs = read_runs(&out_dir.join("sweep.h5")).unwrap();
    assert_eq!(runs.len(), 9);
    for r in &runs {
        let diverged = r.id.starts_with("d16");
        let status = if diverged { "diverged" } else { "finished" };
        assert_eq!(r.status.name(), status, "{}", r.id);
    }
    let before = finished_files(&out_dir);
    let again = ladder(&["run", &config, "--out", out_dir.to_str().unwrap()]);
    assert!(
        text(&again).0.contains("trained 0 runs"),
        "{}",
        text(&again).0
    );
    assert_eq!(
        finished_files(&out_dir),
        before,
        "a rerun retrained a diverged run"
    );
    let fit = ladder(&["fit", out_dir.join("sweep.h5").to_str().unwrap()]);
    let (_, fit_err) = text(&fit);
    assert!(fit.status.success(), "{fit_err}");
    for d in ["2048", "4096", "8192"] {
        assert!(
            fit_err.contains(&format!(
                "run d16-l1-h2-D{d} is left out of the fit: status diverged at step"
            )),
            "{fit_err}"
        );
    }
}

#[test]
fn a_lone_run_gets_every_core() {
    // One run and no --jobs: one job with all the cores, not one per core with one idle.
    let dir = tempfile::tempdir().unwrap();
    let micro = std::fs::read_to_string(fixture("micro.toml")).unwrap();
    let one = micro
        .replace("{ d_model = 8, n_layer = 1, n_head = 2 },\n", "")
        .replace("[2048, 4096, 8192]", "[2048]");
    assert_ne!(one, micro);
    let config = write(dir.path(), "one.toml", &one);
    let out_dir = dir.path().join("out");
    let out = ladder(&["run", &config, "--out", out_dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("trained 1 runs"), "{stdout}");
    let runs = read_runs(&out_dir.join("sweep.h5")).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(runs[0].meta.threads, cores as u64);
}

#[test]
fn a_resumed_sweep_trains_its_last_run_as_the_uninterrupted_sweep_did() {
    // The kernels' summation order follows the job's thread count, so a run retrained
    // alone after an interruption must get the thread count the whole plan gave it, not
    // every core: otherwise its losses differ from the uninterrupted sweep's (CI's kill
    // suite saw a fit differ this way).
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let config = fixture("micro.toml");
    let args = ["run", &config, "--out", out_dir.to_str().unwrap()];
    let first = ladder(&args);
    assert!(first.status.success(), "{}", text(&first).1);
    let before = read_runs(&out_dir.join("sweep.h5")).unwrap();
    let last = before.iter().find(|r| r.id == "d16-l1-h2-D8192").unwrap();
    std::fs::remove_file(out_dir.join("runs").join(format!("{}.h5", last.id))).unwrap();
    std::fs::remove_file(out_dir.join("sweep.h5")).unwrap();
    let again = ladder(&args);
    let (stdout, stderr) = text(&again);
    assert!(again.status.success(), "{stderr}");
    assert!(stdout.contains("trained 1 runs, skipped 5"), "{stdout}");
    let after = read_runs(&out_dir.join("sweep.h5")).unwrap();
    let retrained = after.iter().find(|r| r.id == last.id).unwrap();
    assert_eq!(retrained.meta.threads, last.meta.threads);
    assert_eq!(retrained.curves.val_loss, last.curves.val_loss);
    assert_eq!(retrained.curves.train_loss, last.curves.train_loss);
}

#[test]
fn a_unit_trained_alone_with_jobs_matches_the_sweep_with_as_many_jobs() {
    // `--only U --jobs J` is one of J processes sharing the cores: it must train its unit
    // on the threads `ladder run --jobs J` gives each job, and so to the same losses; it
    // once took every core whatever --jobs said.
    let dir = tempfile::tempdir().unwrap();
    let config = fixture("micro.toml");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = cores.to_string();
    let whole = dir.path().join("whole");
    let out = ladder(&[
        "run",
        &config,
        "--out",
        whole.to_str().unwrap(),
        "--jobs",
        &jobs,
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let alone = dir.path().join("alone");
    let id = "d16-l1-h2-D8192";
    let out = ladder(&[
        "run",
        &config,
        "--out",
        alone.to_str().unwrap(),
        "--only",
        id,
        "--jobs",
        &jobs,
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let out = ladder(&["merge", alone.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let find = |dir: &Path| {
        let runs = read_runs(&dir.join("sweep.h5")).unwrap();
        runs.into_iter().find(|r| r.id == id).unwrap()
    };
    let (whole, alone) = (find(&whole), find(&alone));
    assert_eq!(alone.meta.threads, 1);
    assert_eq!(alone.meta.threads, whole.meta.threads);
    assert_eq!(alone.curves.val_loss, whole.curves.val_loss);
    assert_eq!(alone.curves.train_loss, whole.curves.train_loss);
}

/// The quanta source end to end: its runs record it and its exact entropy rate, a longer
/// run learns more facts, and no run beats the floor.
#[test]
fn the_quanta_source_trains_towards_its_entropy_rate() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "quanta.toml",
        "name = \"q\"\nseed = 2\n[data]\nkind = \"quanta\"\nkeys = 16\nalphabet = 4\n\
         key_len = 2\nvalue_len = 2\n[model]\ncontext = 20\n\
         shapes = [{ d_model = 16, n_layer = 1, n_head = 2 }]\n[tokens]\n\
         counts = [2000, 16000]\n[train]\nbatch_size = 8\nlr = 1e-2\nwarmup_steps = 2\n\
         [eval]\nevery_tokens = 2000\ntokens = 2000\n",
    );
    let out_dir = dir.path().join("out");
    let out = ladder(&["run", &config, "--out", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let weights: Vec<f64> = (1..=16).map(|r| f64::from(r).powf(-1.5)).collect();
    let total: f64 = weights.iter().sum();
    let h: f64 = weights
        .iter()
        .map(|w| -(w / total) * (w / total).ln())
        .sum();
    let rate = h / 5.0;
    let mut runs = read_runs(&out_dir.join("sweep.h5")).unwrap();
    runs.sort_by_key(|r| r.meta.steps);
    let losses: Vec<f64> = runs.iter().map(|r| r.final_val_loss().unwrap()).collect();
    for r in &runs {
        assert!(r.meta.data.starts_with("quanta(keys=16"), "{}", r.meta.data);
        assert!((r.meta.entropy_rate.unwrap() - rate).abs() < 1e-12);
    }
    assert!(losses[1] < losses[0] - 0.1, "{losses:?}");
    assert!(losses.iter().all(|&l| l > rate), "{losses:?} vs {rate}");
    assert!(losses[1] < (5f64).ln(), "{losses:?}");
}
