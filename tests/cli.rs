//! The command line: help, plan, and a clear exit-2 error for every kind of bad input.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn help_lists_the_commands() {
    let out = ladder(&["--help"]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    for cmd in ["plan", "run", "fit"] {
        assert!(stdout.contains(cmd), "{stdout}");
    }
}

#[test]
fn plan_prints_every_run_of_the_smoke_config() {
    let config = root().join("configs/smoke.toml");
    let out = ladder(&["plan", config.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("9 runs"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with('d')).count(),
        10,
        "{stdout}"
    ); // 9 runs + data line
    assert!(stdout.contains("entropy rate"), "{stdout}");
}

const MICRO: &str = include_str!("fixtures/micro.toml");

#[test]
fn unknown_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        &MICRO.replace("lr = 1e-2", "lr = 1e-2\nlearning_rate = 3"),
    );
    assert_input_error(&ladder(&["plan", &cfg]), &["learning_rate", "c.toml"]);
}

#[test]
fn head_count_not_dividing_width_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        &MICRO.replace(
            "d_model = 16, n_layer = 1, n_head = 2",
            "d_model = 16, n_layer = 1, n_head = 3",
        ),
    );
    assert_input_error(
        &ladder(&["plan", &cfg]),
        &["model.shapes[1].n_head", "must divide d_model (16)"],
    );
    assert_input_error(
        &ladder(&["run", &cfg, "--out", dir.path().join("o").to_str().unwrap()]),
        &["n_head"],
    );
}

#[test]
fn budget_above_the_corpus_is_refused_with_both_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let corpus: String = (0..3000)
        .map(|i| if i % 7 == 0 { ' ' } else { 'a' })
        .collect();
    write(dir.path(), "corpus.txt", &corpus);
    let cfg = MICRO.replace(
        "kind = \"markov\"\nvocab = 16\norder = 1\nsuccessors = 3",
        "kind = \"text\"\npath = \"corpus.txt\"\nsplit_fraction = 0.1",
    );
    let cfg = write(dir.path(), "c.toml", &cfg);
    // 2,700 training bytes hold 2,688 targets in windows of 16: 4,096 is too many.
    assert_input_error(
        &ladder(&["plan", &cfg]),
        &["tokens.counts[1]", "4096", "2688"],
    );
}

#[test]
fn bad_values_and_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (MICRO.replace("lr = 1e-2", "lr = -1"), "train.lr"),
        (
            MICRO.replace("context = 16", "context = 0"),
            "model.context",
        ),
        (
            MICRO.replace("successors = 3", "successors = 99"),
            "data.successors",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "per_param = [1]\ncounts = [1]",
            ),
            "tokens",
        ),
        (MICRO.replace("lr = 1e-2", "lr = \"fast\""), "lr"),
    ];
    for (i, (body, needle)) in cases.iter().enumerate() {
        let cfg = write(dir.path(), &format!("c{i}.toml"), body);
        assert_input_error(&ladder(&["plan", &cfg]), &[needle]);
    }
    assert_input_error(
        &ladder(&["plan", "/nonexistent/x.toml"]),
        &["/nonexistent/x.toml"],
    );
    let csv = write(dir.path(), "p.csv", "N,D,loss\n1e6,1e9,3.0\n1e6,oops,2.9\n");
    assert_input_error(&ladder(&["fit", &csv]), &["p.csv", "line 3", "oops"]);
    let csv = write(dir.path(), "q.csv", "N,loss\n1e6,3.0\n");
    assert_input_error(&ladder(&["fit", &csv]), &["`D`"]);
    let h5 = write(dir.path(), "broken.h5", "not hdf5 at all");
    assert_input_error(&ladder(&["fit", &h5]), &["broken.h5"]);
    assert_input_error(&ladder(&["fit", "whatever.txt"]), &["whatever.txt", ".csv"]);
    assert_input_error(&ladder(&["run"]), &["CONFIG"]);
}

#[test]
fn fit_on_csv_prints_verdicts_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("N,D,loss\n");
    for i in 0..5 {
        for j in 0..5 {
            let n = 1e6 * 4f64.powi(i);
            let d = 2e7 * 4f64.powi(j);
            csv += &format!(
                "{n},{d},{}\n",
                1.7 + 400.0 / n.powf(0.34) + 400.0 / d.powf(0.28)
            );
        }
    }
    let csv = write(dir.path(), "pts.csv", &csv);
    let json = dir.path().join("fit.json");
    let out = ladder(&["fit", &csv, "--json", json.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("verdict: D/N at C="), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert!(
        (v["approach3"]["alpha"].as_f64().unwrap() - 0.34).abs() < 1e-3,
        "{v}"
    );
    assert!(
        (v["approach3"]["E"].as_f64().unwrap() - 1.7).abs() < 1e-3,
        "{v}"
    );
    for key in ["B", "A", "beta", "objective"] {
        assert!(v["approach3"][key].is_number(), "{key}");
    }
    assert!(v["optimal"]["a"].is_number() && v["optimal"]["b"].is_number());
    let tpp = v["optimal"]["tokens_per_param"].as_array().unwrap();
    assert!(!tpp.is_empty() && tpp[0]["C"].is_number() && tpp[0]["ratio"].is_number());
    assert_eq!(v["params"], "total");
}

#[test]
fn plan_into_a_closed_pipe_does_not_panic() {
    let config = root().join("configs/smoke.toml");
    let mut child = std::process::Command::new(bin())
        .args(["plan", config.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `ladder plan | head -0`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
