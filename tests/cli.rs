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
    for cmd in ["plan", "run", "fit", "check"] {
        assert!(stdout.contains(cmd), "{stdout}");
    }
}

#[test]
fn plan_prints_every_run_of_the_smoke_config() {
    let config = root().join("configs/smoke.toml");
    let out = ladder(&["plan", config.to_str().unwrap(), "--jobs", "2"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("9 runs"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with('d')).count(),
        10,
        "{stdout}"
    ); // 9 runs + data line
    assert!(stdout.contains("entropy rate"), "{stdout}");
    // Each shape is timed, and the runs' times add up to a schedule on the jobs.
    assert!(stderr.contains("timing d_model 64"), "{stderr}");
    assert!(
        stdout.contains("estimated wall time") && stdout.contains("on 2 parallel jobs"),
        "{stdout}"
    );
    let quick = ladder(&[
        "plan",
        config.to_str().unwrap(),
        "--no-timing",
        "--jobs",
        "2",
    ]);
    let (stdout, stderr) = text(&quick);
    assert!(quick.status.success(), "{stderr}");
    assert!(!stdout.contains("estimated wall time"), "{stdout}");
    assert!(!stderr.contains("timing"), "{stderr}");
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

/// Every way a corpus can be wrong is bad input (exit 2) that names the file or key.
#[test]
fn bad_corpora_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = |data: &str| {
        MICRO.replace(
            "kind = \"markov\"\nvocab = 16\norder = 1\nsuccessors = 3",
            &format!("kind = \"text\"\n{data}"),
        )
    };
    write(dir.path(), "ok.txt", &"abc def ".repeat(500));
    write(dir.path(), "empty.txt", "");
    std::fs::write(dir.path().join("latin1.txt"), b"caf\xe9 au lait").unwrap();
    write(dir.path(), "stories.jsonl", "{\"story\": \"once\"}\n");
    write(dir.path(), "tinyshakespeare.txt", "not the real thing");
    let cases: [(&str, &[&str]); 9] = [
        (
            "path = \"missing.txt\"\nsplit_fraction = 0.1",
            &["missing.txt"],
        ),
        (
            "path = \"empty.txt\"\nsplit_fraction = 0.1",
            &["empty.txt", "no text"],
        ),
        (
            "path = \"latin1.txt\"\nsplit_fraction = 0.1",
            &["latin1.txt", "UTF-8", "byte 3"],
        ),
        (
            "path = \"stories.jsonl\"\nsplit_fraction = 0.1",
            &["stories.jsonl", "line 1", "`text`", "story", "data.field"],
        ),
        (
            "path = \"tinyshakespeare.txt\"\ncorpus = \"tinyshakespeare\"",
            &["tinyshakespeare.txt", "size in bytes", "1115394"],
        ),
        (
            "path = \"ok.txt\"\ncorpus = \"nope\"",
            &["data.corpus", "gutenberg_en"],
        ),
        (
            "path = \"ok.txt\"\nsplit_documents = 2",
            &["data.split_documents"],
        ),
        (
            "path = \"ok.txt\"\nsplit_fraction = 0.1\ntokenizer = \"bpe\"",
            &["data.vocab"],
        ),
        (
            "path = \"ok.txt\"\nsplit_fraction = 0.1\ntokenizer = \"bpe\"\nvocab = 100",
            &["data.vocab", "257"],
        ),
    ];
    for (i, (data, needles)) in cases.iter().enumerate() {
        let cfg = write(dir.path(), &format!("c{i}.toml"), &text(data));
        assert_input_error(&ladder(&["plan", &cfg, "--no-timing"]), needles);
    }
    let e = ladder(&[
        "data",
        "verify",
        "tinyshakespeare",
        &dir.path().join("ok.txt").display().to_string(),
    ]);
    assert_input_error(&e, &["ok.txt", "size in bytes"]);
}

/// A run's row in `ladder plan`'s table: its id, `d<width>-…`.
fn is_run_row(line: &str) -> bool {
    line.starts_with('d') && line.chars().nth(1).is_some_and(|c| c.is_ascii_digit())
}

/// An IsoFLOP design trains each size at each budget with D = C/(6N), or only the sizes
/// nearest the expected optimum √(C/120) when `sizes_per_budget` is set.
#[test]
fn isoflop_budgets_set_d_from_c() {
    let dir = tempfile::tempdir().unwrap();
    let iso = MICRO.replace("counts = [2048, 4096, 8192]", "budgets = [2e8, 8e8]");
    let out = ladder(&["plan", &write(dir.path(), "iso.toml", &iso), "--no-timing"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let c: Vec<f64> = stdout
        .lines()
        .filter(|l| is_run_row(l))
        .map(|l| l.split_whitespace().nth(7).unwrap().parse().unwrap())
        .collect();
    assert_eq!(c.len(), 4, "2 sizes x 2 budgets: {stdout}");
    // D is rounded to whole steps of 128 tokens, so C is within a few percent.
    for (got, want) in c.iter().zip([2e8, 8e8, 2e8, 8e8]) {
        assert!((got / want - 1.0).abs() < 0.05, "{got} vs {want}");
    }
    let one = iso.replace(
        "budgets = [2e8, 8e8]",
        "budgets = [2e8, 8e8]\nsizes_per_budget = 1",
    );
    let out = ladder(&["plan", &write(dir.path(), "one.toml", &one), "--no-timing"]);
    let runs = text(&out).0.lines().filter(|l| is_run_row(l)).count();
    assert_eq!(runs, 2, "one size per budget: {}", text(&out).0);
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
        (
            MICRO.replace("lr = 1e-2", "lr = 1e-2\nprecision = \"fp8\""),
            "train.precision",
        ),
        (
            MICRO.replace("lr = 1e-2", "lr = 1e-2\nschedule = \"step\""),
            "train.schedule",
        ),
        (
            MICRO.replace("lr = 1e-2", "lr = 1e-2\nbranching = true"),
            "train.branching",
        ),
        (
            MICRO.replace("lr = 1e-2", "lr = 1e-2\nschedule = \"wsd\"\ncooldown = 1.5"),
            "train.cooldown",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "counts = [2048]\nbudgets = [1e9]",
            ),
            "tokens",
        ),
        (
            MICRO.replace("counts = [2048, 4096, 8192]", "budgets = [-1.0]"),
            "tokens.budgets[0]",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "counts = [2048]\nsizes_per_budget = 2",
            ),
            "tokens.sizes_per_budget",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "budgets = [1e9]\nsizes_per_budget = 2\nexpected_ratio = 0",
            ),
            "tokens.expected_ratio",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "budgets = [1e9]\nexpected_ratio = 40",
            ),
            "tokens.expected_ratio",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "budgets = [1e9]\nsizes_per_budget = 2\nexpected_exponent = 0.7",
            ),
            "tokens.expected_exponent",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "budgets = [1e9]\nsizes_per_budget = 2\nexpected_ratio = 20\nexpected_exponent = 1.5",
            ),
            "tokens.expected_exponent",
        ),
        (
            MICRO.replace(
                "counts = [2048, 4096, 8192]",
                "budgets = [1e9]\nflops = \"7nd\"",
            ),
            "tokens.flops",
        ),
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
    // The fitter's bad inputs: each names the file, line or budget.
    let good = "1e6,1e9,3.0\n2e6,1e9,2.9\n4e6,1e9,2.8\n8e6,1e9,2.7\n";
    let fit_cases = [
        (
            format!("N,D,loss\n{good}1e6,1e9,NaN\n"),
            vec!["line 6", "loss"],
        ),
        (
            format!("N,D,loss\n{good}1e6,inf,3\n"),
            vec!["line 6", "`D`"],
        ),
        (format!("N,D,loss\n{good}0,1e9,3\n"), vec!["line 6", "`N`"]),
        (
            format!("N,D,loss\n{good}1e6,1e9,-3\n"),
            vec!["line 6", "loss"],
        ),
        (String::new(), vec!["empty file"]),
        ("N,D,loss\n".to_string(), vec!["no data rows"]),
        (format!("N,D,loss\n{good}"), vec!["4 points", "at least 5"]),
    ];
    for (i, (body, needles)) in fit_cases.iter().enumerate() {
        let csv = write(dir.path(), &format!("f{i}.csv"), body);
        assert_input_error(&ladder(&["fit", &csv, "--bootstrap", "0"]), needles);
    }
    // Column maps and filters: a bad name is a usage error, a missing column is named.
    let csv = write(dir.path(), "m.csv", &format!("N,D,loss\n{good}"));
    assert_input_error(&ladder(&["fit", &csv, "--column", "X=N"]), &["X"]);
    assert_input_error(&ladder(&["fit", &csv, "--where", "keep=1"]), &["`keep`"]);
    assert_input_error(
        &ladder(&["fit", &h5, "--where", "keep=1"]),
        &["CSV input only"],
    );
    // A budget with a single model size cannot give an IsoFLOP parabola.
    let csv = write(
        dir.path(),
        "single.csv",
        &format!(
            "N,D,loss,C\n{}",
            (0..6)
                .map(|i| format!("1e6,{}e9,{},6e15\n", i + 1, 3.0 - 0.1 * i as f64))
                .collect::<String>()
        ),
    );
    assert_input_error(
        &ladder(&["fit", &csv, "--bootstrap", "0", "--approach2", "require"]),
        &["6.000e15", "1 distinct model size"],
    );
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
    let out = ladder(&[
        "fit",
        &csv,
        "--json",
        json.to_str().unwrap(),
        "--bootstrap",
        "50",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("verdict: D/N ≈ 20"), "{stdout}");
    assert!(stdout.contains("verdict: the power law"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
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
    for key in ["alpha", "beta", "E", "A", "B"] {
        assert!(v["approach3"]["se"][key].is_number(), "se.{key}");
        for ci in ["ci80", "ci95"] {
            let [lo, hi] = [0, 1].map(|i| v["approach3"][ci][key][i].as_f64().unwrap());
            assert!(lo <= hi, "{ci}.{key}");
        }
    }
    assert!(v["approach3"]["a"].is_number() && v["approach3"]["b"].is_number());
    let tpp = v["tokens_per_param"].as_array().unwrap();
    assert!(!tpp.is_empty() && tpp[0]["C"].is_number() && tpp[0]["ratio"].is_number());
    assert!(tpp[0]["ratio_spread"]["ci80"][0].is_number());
    assert_eq!(v["params"], "total");
    assert_eq!(v["flops"], "6nd");
    assert_eq!(v["diagnostics"]["residuals"].as_array().unwrap().len(), 25);

    // `ladder check`: 0 on pass, 1 on a regression, 2 on a bad baseline.
    let json = json.to_str().unwrap();
    let baseline = |name: &str, body: &str| write(dir.path(), name, body);
    let pass = baseline(
        "pass.toml",
        "[[check]]\nkey = \"approach3.alpha\"\nexpected = 0.34\nabs_tol = 0.01\n\n\
         [[check]]\nkey = \"approach3.objective\"\nat_most = 1e-6\n",
    );
    let out = ladder(&["check", json, "--baseline", &pass]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains("2 of 2 checks passed"));
    let fail = baseline(
        "fail.toml",
        "[[check]]\nkey = \"approach3.beta\"\nexpected = 0.5\nrel_tol = 0.01\n",
    );
    let out = ladder(&["check", json, "--baseline", &fail]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    assert!(text(&out).0.contains("FAIL"));
    let bad = baseline(
        "bad.toml",
        "[[check]]\nkey = \"approach3.gamma\"\nat_most = 1\n",
    );
    assert_input_error(
        &ladder(&["check", json, "--baseline", &bad]),
        &["bad.toml", "gamma"],
    );
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

/// A CSV with curves (`run`, `tokens`) and budget labels (`C`) from a known law: approach 1
/// reads the curves, approach 2 the IsoFLOP budgets, and both land near `a = β/(α+β)`.
#[test]
fn fit_on_curves_and_isoflop_budgets_runs_every_approach() {
    let (e, a, b, alpha, beta) = (1.69, 406.4, 410.7, 0.34, 0.28);
    let law = |n: f64, d: f64| e + a / n.powf(alpha) + b / d.powf(beta);
    let mut csv = String::from("run,N,D,C,tokens,loss\n");
    for k in 0..4 {
        let c = 1e18 * 10f64.powi(k);
        for j in -3..=3 {
            // Sizes around the optimum at this budget, N* ≈ 0.6·(C/6)^0.45.
            let n = 0.6 * (c / 6.0).powf(beta / (alpha + beta)) * 10f64.powf(0.3 * j as f64);
            let d = c / (6.0 * n);
            for t in 1..=8 {
                let tokens = d * t as f64 / 8.0;
                csv += &format!("c{k}n{j},{n},{d},{c},{tokens},{}\n", law(n, tokens));
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "curves.csv", &csv);
    let (stdout, v) = fit_with_json(dir.path(), &["fit", &csv, "--bootstrap", "20"]);
    assert!(stdout.contains("approach 2 (IsoFLOP"), "{stdout}");
    let truth = beta / (alpha + beta);
    let a2 = v["approach2"]["a"].as_f64().unwrap();
    assert!((a2 - truth).abs() < 0.02, "approach 2 a {a2} vs {truth}");
    assert!(v["approach2"]["ci95"]["a"][0].is_number());
    let a1 = v["approach1"]["a"].as_f64().unwrap();
    assert!((a1 - truth).abs() < 0.15, "approach 1 a {a1} vs {truth}");
    assert_eq!(v["points"], 28);
    assert!(v["kaplan"]["joint"]["alpha_n"].is_number());
    assert!(v["extrapolation"]["mean_abs_rel_error"].as_f64().unwrap() < 0.01);
}

#[test]
fn a_device_that_cannot_be_used_is_a_clear_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", MICRO);
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    assert_input_error(
        &ladder(&["run", &cfg, "--out", out, "--device", "gpu"]),
        &["--device", "use cpu, cuda or cuda:N"],
    );
    if !cfg!(feature = "cuda") {
        assert_input_error(
            &ladder(&["run", &cfg, "--out", out, "--device", "cuda:0"]),
            &["--device cuda:0", "--features cuda"],
        );
    }
    assert!(!std::path::Path::new(out).exists(), "nothing was written");
}

/// `--bootstrap-method wild-families` on a sweep: the runs of one model and seed form a
/// family (results/lab-cpu-knob: 4 seeds), whose residuals the bootstrap flips together; the
/// fit says so and its intervals differ from the plain residual bootstrap's.
#[test]
fn the_family_bootstrap_fits_a_sweep_by_model_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    let h5 = root().join("results/lab-cpu-knob/sweep.h5");
    let fit = |method: &str| {
        let json = dir.path().join(format!("{method}.json"));
        let out = ladder(&[
            "fit",
            h5.to_str().unwrap(),
            "--bootstrap",
            "20",
            "--bootstrap-method",
            method,
            "--json",
            json.to_str().unwrap(),
        ]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        (stdout, v["approach3"].clone())
    };
    let (stdout, wild) = fit("wild-families");
    assert!(stdout.contains("one sign per model and seed"), "{stdout}");
    assert_eq!(wild["bootstrap"]["method"], "wild-families", "{wild}");
    let (_, plain) = fit("residuals");
    for p in ["E", "A", "B", "alpha", "beta"] {
        assert!(wild[p].is_number(), "{wild}");
        assert_eq!(wild[p], plain[p], "the point estimate does not move");
    }
    assert!(wild["se"]["alpha"].is_number(), "{wild}");
    assert_ne!(wild["se"]["alpha"], plain["se"]["alpha"]);
}

/// Where the lack-of-fit test rejects the law and its misfit runs smoothly across sizes,
/// the fit says so (results/lab-cpu: length 0.75 in ln N, test of independence p ≈ 0.04);
/// where the law holds (results/lab-cpu-d2-wide, p 0.19), it says nothing of it.
#[test]
fn a_rejected_law_says_how_its_misfit_runs_across_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let fit = |lab: &str| {
        let h5 = root().join(format!("results/{lab}/sweep.h5"));
        fit_with_json(
            dir.path(),
            &["fit", h5.to_str().unwrap(), "--bootstrap", "20"],
        )
        .0
    };
    let rejected = fit("lab-cpu");
    let line = rejected
        .lines()
        .find(|l| l.starts_with("misfit by size:"))
        .unwrap_or_else(|| panic!("{rejected}"));
    assert!(line.contains("correlation length 0.75 in ln N"), "{line}");
    assert!(
        line.contains("test of an independent misfit p 0.0"),
        "{line}"
    );
    assert!(line.contains("--model-misfit-length auto"), "{line}");
    assert!(!fit("lab-cpu-d2-wide").contains("misfit by size"));
}

/// The columns of ladder's runs.csv that `ladder fit` reads as N, loss and C.
const RUNS_CSV: [&str; 6] = [
    "--column",
    "N=N_total",
    "--column",
    "loss=final_val_loss",
    "--column",
    "C=C_budget",
];

/// Runs `ladder fit` with `args` and `--json` into `dir`, asserts that it succeeded, and
/// returns what it printed and the JSON it wrote.
fn fit_with_json(dir: &std::path::Path, args: &[&str]) -> (String, serde_json::Value) {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let json = dir.join(format!("fit-{call}.json"));
    let mut all = args.to_vec();
    all.extend(["--json", json.to_str().unwrap()]);
    let out = ladder(&all);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let v = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (stdout, v)
}

/// The fit (no bootstrap) of `seed`'s runs alone, from the runs.csv of `lab`'s report.
fn fit_seed_alone(
    dir: &std::path::Path,
    lab: &std::path::Path,
    seed: &serde_json::Value,
) -> serde_json::Value {
    let csv = lab.join("report/runs.csv");
    let seed = format!("seed={seed}");
    let args = [
        &["fit", csv.to_str().unwrap()][..],
        &RUNS_CSV,
        &["--where", &seed, "--bootstrap", "0"],
    ]
    .concat();
    fit_with_json(dir, &args).1
}

/// `ladder fit --per-seed` fits each seed's runs alone, as `--where seed=K` on the
/// report's runs.csv does, and sets them beside the pooled fit.
#[test]
fn per_seed_fits_each_seed_as_a_filtered_csv_does() {
    let dir = tempfile::tempdir().unwrap();
    let lab = root().join("results/lab-cpu-lr");
    let h5 = lab.join("sweep.h5");
    let (stdout, v) = fit_with_json(
        dir.path(),
        &[
            "fit",
            h5.to_str().unwrap(),
            "--bootstrap",
            "20",
            "--per-seed",
        ],
    );
    assert!(stdout.contains("Each seed's runs fitted alone"), "{stdout}");
    assert!(stdout.contains("Cochran's Q"), "{stdout}");
    let s = &v["seed_fits"];
    let seeds = s["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 2, "{s}");
    let runs: u64 = seeds.iter().map(|f| f["runs"].as_u64().unwrap()).sum();
    assert_eq!(runs, v["points"].as_u64().unwrap());
    assert_eq!(s["consistency"]["dof"], 1, "{s}");
    let top = |v: &serde_json::Value| v["tokens_per_param"].as_array().unwrap().last().cloned();
    assert_eq!(s["C"], top(&v).unwrap()["C"]);
    // The first seed alone, from the CSV: the same point estimate.
    let c = fit_seed_alone(dir.path(), &lab, &seeds[0]["seed"]);
    let alone = top(&c).unwrap()["ratio"].as_f64().unwrap();
    let own = seeds[0]["ratio"].as_f64().unwrap();
    assert!((own / alone - 1.0).abs() < 1e-9, "{own} vs {alone}");
}

/// Sweeps pooled with different top budgets: `--per-seed` reads the seeds of the
/// lower-topped sweep at the pooled top budget, beyond their runs, and says so, instead
/// of leaving them out. Each is its own law's optimum there.
#[test]
fn per_seed_reads_a_lower_topped_sweeps_seeds_at_the_pooled_top() {
    let dir = tempfile::tempdir().unwrap();
    // lab-cpu-d2-wide stops at 7.08e12, lab-cpu at 7.94e12; three seeds each.
    let [wide, top] = ["results/lab-cpu-d2-wide", "results/lab-cpu"].map(|l| root().join(l));
    let h5 = [wide.join("sweep.h5"), top.join("sweep.h5")];
    let (stdout, v) = fit_with_json(
        dir.path(),
        &[
            "fit",
            h5[0].to_str().unwrap(),
            h5[1].to_str().unwrap(),
            "--bootstrap",
            "20",
            "--per-seed",
        ],
    );
    let s = &v["seed_fits"];
    assert!(s.get("left_out").is_none(), "{s}");
    let seeds = s["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 6, "{s}");
    let c = s["C"].as_f64().unwrap();
    assert!((c / 7.9433e12 - 1.0).abs() < 1e-4, "{c}");
    let beyond: Vec<&serde_json::Value> = seeds
        .iter()
        .filter(|f| f.get("beyond_runs").is_some())
        .collect();
    assert_eq!(beyond.len(), 3, "{s}");
    for f in &beyond {
        let stop = f["beyond_runs"].as_f64().unwrap();
        assert!((stop / 7.0795e12 - 1.0).abs() < 1e-4, "{f}");
        assert!(
            f["ratio_spread"]["ci80"].is_array(),
            "an interval there too: {f}"
        );
    }
    assert!(
        stdout.contains("read beyond the runs, which stop at C = 7.080e12: seeds"),
        "{stdout}"
    );
    // A lower-topped seed alone, from its sweep's runs.csv: its law's optimum at C.
    let alone = fit_seed_alone(dir.path(), &wide, &beyond[0]["seed"]);
    let law = &alone["approach3"];
    let p = |k: &str| law[k].as_f64().unwrap();
    let (alpha, beta) = (p("alpha"), p("beta"));
    let g = (alpha * p("A") / (beta * p("B"))).powf(1.0 / (alpha + beta));
    let n = g * (c / 6.0).powf(beta / (alpha + beta));
    let ratio = c / 6.0 / n / n;
    let own = beyond[0]["ratio"].as_f64().unwrap();
    assert!((own / ratio - 1.0).abs() < 1e-6, "{own} vs {ratio}");
}

/// `ladder fit --calibrate` simulates sweeps like the real one and widens each interval
/// by what they needed, never narrowing it; the JSON carries the noise model and factors.
#[test]
fn calibrate_widens_the_intervals_by_simulated_sweeps() {
    let dir = tempfile::tempdir().unwrap();
    let h5 = root().join("results/lab-cpu-lr/sweep.h5");
    let (stdout, v) = fit_with_json(
        dir.path(),
        &[
            "fit",
            h5.to_str().unwrap(),
            "--bootstrap",
            "20",
            "--calibrate",
            "4",
        ],
    );
    assert!(
        stdout.contains("Intervals calibrated by simulation"),
        "{stdout}"
    );
    let c = &v["calibration"];
    assert_eq!(
        (c["sweeps"].as_u64(), c["resamples"].as_u64()),
        (Some(4), Some(20))
    );
    assert_eq!(c["noise"]["from"], "seeds", "{c}");
    let ratio = c["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "tokens_per_param.-1.ratio")
        .unwrap();
    let top = v["tokens_per_param"].as_array().unwrap().last().unwrap();
    assert_eq!(ratio["estimate"], top["ratio"]);
    let pair = |x: &serde_json::Value| [x[0].as_f64().unwrap(), x[1].as_f64().unwrap()];
    let (nominal, calibrated) = (pair(&ratio["ci80"]), pair(&ratio["calibrated80"]));
    assert!(
        calibrated[0] <= nominal[0] && nominal[1] <= calibrated[1],
        "{ratio}"
    );
    // Without intervals there is nothing to calibrate: an input error before any fit.
    let out = ladder(&[
        "fit",
        h5.to_str().unwrap(),
        "--bootstrap",
        "0",
        "--calibrate",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("--calibrate"), "{}", text(&out).1);
}

/// Several sweep files are fitted as one: the same fit as their runs.csv files
/// concatenated, with each model and seed a family within its sweep.
#[test]
fn sweeps_fitted_together_pool_their_runs() {
    let dir = tempfile::tempdir().unwrap();
    let labs = ["results/lab-cpu-d2-wide", "results/lab-cpu-d2-confirm"].map(|l| root().join(l));
    let h5: Vec<String> = labs
        .iter()
        .map(|l| l.join("sweep.h5").to_str().unwrap().to_string())
        .collect();
    let (stdout, pooled) = fit_with_json(dir.path(), &["fit", &h5[0], &h5[1], "--bootstrap", "0"]);
    assert!(stdout.contains("270 points"), "{stdout}");
    // The two runs.csv files, one header.
    let mut csv = String::new();
    for (k, lab) in labs.iter().enumerate() {
        let text = std::fs::read_to_string(lab.join("report/runs.csv")).unwrap();
        let skip = usize::from(k > 0);
        for line in text.lines().skip(skip) {
            csv += line;
            csv.push('\n');
        }
    }
    let csv = write(dir.path(), "pooled.csv", &csv);
    let (_, joined) = fit_with_json(
        dir.path(),
        &[&["fit", &csv][..], &RUNS_CSV, &["--bootstrap", "0"]].concat(),
    );
    for p in ["E", "A", "B", "alpha", "beta"] {
        let (a, b) = (
            pooled["approach3"][p].as_f64().unwrap(),
            joined["approach3"][p].as_f64().unwrap(),
        );
        assert!((a / b - 1.0).abs() < 1e-9, "{p}: {a} vs {b}");
    }
    // A sweep given twice, a seed trained in two sweeps, a CSV among sweeps: input errors.
    assert_input_error(&ladder(&["fit", &h5[0], &h5[0]]), &["given twice"]);
    let lab_cpu = root().join("results/lab-cpu-knob/sweep.h5");
    let lab_cpu_lr = root().join("results/lab-cpu-lr/sweep.h5");
    assert_input_error(
        &ladder(&[
            "fit",
            lab_cpu.to_str().unwrap(),
            lab_cpu_lr.to_str().unwrap(),
        ]),
        &["seed 0", "different seeds"],
    );
    assert_input_error(
        &ladder(&["fit", &h5[0], &csv]),
        &["pooled.csv", "sweep files (.h5)"],
    );
}

/// A sweep whose design was built for a held-out factor (`[design] held_out = 8`) is
/// checked at that factor unless `--extrapolate-k` names another; a sweep whose config
/// names none, at 4.
#[test]
fn the_held_out_check_takes_the_factor_the_design_was_built_for() {
    let dir = tempfile::tempdir().unwrap();
    let wide = root().join("results/lab-cpu-d2-wide/sweep.h5");
    let knob = root().join("results/lab-cpu-knob/sweep.h5");
    let k_of = |input: &std::path::Path, extra: &[&str]| {
        let args = [
            &["fit", input.to_str().unwrap(), "--bootstrap", "0"][..],
            extra,
        ]
        .concat();
        let (stdout, v) = fit_with_json(dir.path(), &args);
        let k = v["extrapolation"]["k"].as_f64().unwrap();
        assert!(stdout.contains(&format!("C ≤ C_max/{k}")), "{stdout}");
        k
    };
    assert_eq!(k_of(&wide, &[]), 8.0);
    assert_eq!(k_of(&wide, &["--extrapolate-k", "4"]), 4.0);
    assert_eq!(k_of(&knob, &[]), 4.0);
}

/// ladder's own runs.csv (quoted cells with commas included) read back by `ladder fit`
/// gives the approach-3 fit of the sweep.h5 it was written from.
#[test]
fn fit_of_runs_csv_matches_fit_of_sweep_h5() {
    let dir = tempfile::tempdir().unwrap();
    let lab = root().join("results/lab-cpu-knob");
    let fit_json = |input: &std::path::Path, extra: &[&str], name: &str| {
        let json = dir.path().join(name);
        let mut args = vec![
            "fit",
            input.to_str().unwrap(),
            "--bootstrap",
            "20",
            // `auto` resamples a sweep's residuals and a CSV's points: ask for one.
            "--bootstrap-method",
            "residuals",
            "--json",
            json.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = ladder(&args);
        assert!(out.status.success(), "{}", text(&out).1);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        v["approach3"].clone()
    };
    let h5 = fit_json(&lab.join("sweep.h5"), &[], "h5.json");
    let csv = fit_json(&lab.join("report/runs.csv"), &RUNS_CSV, "csv.json");
    assert_eq!(csv, h5);
}

/// A prior with seeds is simulated with its own misfit about its law, and the output says
/// whose; told to draw none, a prior whose law its own runs reject (results/lab-cpu:
/// lack-of-fit p 8e-6) makes `ladder design` warn that its widths assume a law that
/// holds, and one whose law holds (results/lab-cpu-d2-wide: p 0.19) does not.
#[test]
fn design_draws_the_priors_misfit_and_warns_without_it() {
    let simulate = |fit: &str, extra: &[&str]| {
        let law = root().join(fit);
        let mut args = vec![
            "design",
            &fixture("micro.toml"),
            "--law",
            law.to_str().unwrap(),
            "--reps",
            "2",
            "--bootstrap",
            "10",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ladder(&args);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        stdout
    };
    let warning = "warning: the prior's law misses its own points";
    // lab-cpu's own misfit, as `ladder fit --calibrate` measures it on its runs.
    let own = simulate("results/lab-cpu/fit.json", &[]);
    for needle in [
        "and 0.24% per point shared by its seeds",
        "and 0.77% per model shared by all its runs",
        "the law's misfit simulated: 0.24% per point, 0.77% per model (the prior's, measured",
    ] {
        assert!(own.contains(needle), "no `{needle}` in:\n{own}");
    }
    assert!(!own.contains(warning), "{own}");
    let none = ["--misfit", "0", "--model-misfit", "0"];
    let without = simulate("results/lab-cpu/fit.json", &none);
    assert!(without.contains(warning), "{without}");
    assert!(!without.contains("the law's misfit"), "{without}");
    assert!(!simulate("results/lab-cpu-d2-wide/fit.json", &none).contains(warning));
}

/// Approach 2's bootstrap draws the profiles' misfit where their pooled lack-of-fit test
/// rejects (results/lab-cpu-knob: F 5.8) and says so, and not where it does not
/// (results/lab-cpu: F 0.99); `--approach2-misfit off` never draws it.
#[test]
fn approach2_draws_the_profiles_misfit_only_where_they_reject() {
    let fit = |lab: &str, extra: &[&str]| {
        let sweep = root().join(lab).join("sweep.h5");
        let mut args = vec!["fit", sweep.to_str().unwrap(), "--bootstrap", "40"];
        args.extend(extra);
        let out = ladder(&args);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        stdout
    };
    let said = "per model: the profiles miss their sizes by more than the seeds scatter";
    let knob = fit("results/lab-cpu-knob", &[]);
    assert!(knob.contains(said), "{knob}");
    assert!(knob.contains("pooled lack-of-fit F 5.84"), "{knob}");
    assert!(!fit("results/lab-cpu-knob", &["--approach2-misfit", "off"]).contains(said));
    assert!(!fit("results/lab-cpu", &[]).contains(said));
}

/// `ladder design` simulates a config's sweeps and prints what they can tell.
#[test]
fn design_prints_bias_width_and_coverage() {
    let out = ladder(&[
        "design",
        &fixture("micro.toml"),
        "--law",
        "chinchilla",
        "--noise",
        "0.005",
        "--reps",
        "3",
        "--bootstrap",
        "20",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    for needle in [
        "approach3.alpha",
        "cover 80",
        "widths 10-90%",
        "3 simulated sweeps",
        "verdict",
    ] {
        assert!(stdout.contains(needle), "no `{needle}` in:\n{stdout}");
    }
}

/// With a prior whose misfit runs smoothly across sizes (results/lab-cpu), `ladder design`
/// notes it when drawing the misfit independently, draws and reports it with
/// `--model-misfit-length auto`, and says nothing of it at a length given by hand.
#[test]
fn design_reports_the_priors_misfit_by_size() {
    let prior = root().join("results/lab-cpu/fit.json");
    let run = |length: &str| {
        ladder_ok(&[
            "design",
            &fixture("micro.toml"),
            "--law",
            prior.to_str().unwrap(),
            "--model-misfit-length",
            length,
            "--reps",
            "1",
            "--bootstrap",
            "0",
        ])
    };
    let (note, fitted) = (
        "note: the prior's misfit runs smoothly across sizes",
        "the prior's point means (restricted likelihood",
    );
    let independent = run("0");
    assert!(
        independent.contains(note) && !independent.contains(fitted),
        "{independent}"
    );
    let auto = run("auto");
    assert!(auto.contains(fitted) && !auto.contains(note), "{auto}");
    assert!(
        auto.contains("smooth in size, correlation length 0.75 in ln N"),
        "{auto}"
    );
    let given = run("0.5");
    assert!(!given.contains(note) && !given.contains(fitted), "{given}");
}

/// A config that trains each point with several seeds is simulated with the same seeds:
/// one design point per planned point, `[train] seeds` runs each, unless `--seeds` says.
#[test]
fn design_takes_the_configs_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("seeds.toml");
    let micro = std::fs::read_to_string(fixture("micro.toml")).unwrap();
    std::fs::write(&config, micro.replace("[train]\n", "[train]\nseeds = 3\n")).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "design",
            config.to_str().unwrap(),
            "--noise",
            "0.005",
            "--reps",
            "2",
            "--bootstrap",
            "10",
        ];
        args.extend_from_slice(extra);
        let out = ladder(&args);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        stdout
    };
    // 2 sizes × 3 token counts = 6 points.
    let stdout = run(&[]);
    assert!(
        stdout.contains("18 runs per sweep (3 seeds per point)"),
        "{stdout}"
    );
    let stdout = run(&["--seeds", "2"]);
    assert!(
        stdout.contains("12 runs per sweep (2 seeds per point)"),
        "{stdout}"
    );
    // Noise shared by each model's runs of one seed is said; a negative one is an input
    // error that names the option.
    let stdout = run(&["--family-noise", "0.004"]);
    assert!(
        stdout.contains("0.40% shared by the runs of each model and seed"),
        "{stdout}"
    );
    let bad = ladder(&[
        "design",
        config.to_str().unwrap(),
        "--family-noise=-0.1",
        "--reps",
        "1",
    ]);
    assert_input_error(&bad, &["--family-noise"]);
}

/// The quickstart's baseline can fail: on a fit.json shaped like the quickstart's, it
/// passes an identified fit that finds the entropy rate, and fails one whose E is off,
/// whose E interval is uninformative (reaching towards 0, as the bigram quickstart's
/// did), or whose size or data term is unidentified.
#[test]
fn the_quickstart_baseline_fails_an_uninformative_fit() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = root().join("configs/baselines/quickstart-entropy.toml");
    let baseline = baseline.to_str().unwrap();
    let fit = |e: f64, e95: [f64; 2], a95: [f64; 2], b95: [f64; 2]| {
        let json = serde_json::json!({"approach3": {
            "E": e, "A": 400.0, "B": 3500.0,
            "ci95": {"E": e95, "A": a95, "B": b95},
        }});
        write(dir.path(), "fit.json", &json.to_string())
    };
    let good = ([0.26, 0.35], [130.0, 1400.0], [1200.0, 13000.0]);
    let cases = [
        ("identified, near the rate", 0.31, good.0, good.1, good.2, 0),
        ("E 12% low", 0.285, [0.26, 0.33], good.1, good.2, 1),
        (
            "E's interval down to 0",
            0.31,
            [1e-6, 0.36],
            good.1,
            good.2,
            1,
        ),
        (
            "the rate outside E's interval",
            0.305,
            [0.28, 0.32],
            good.1,
            good.2,
            1,
        ),
        ("A unidentified", 0.31, good.0, [2.0, 4e5], good.2, 1),
        ("B unidentified", 0.31, good.0, good.1, [80.0, 3e5], 1),
    ];
    for (what, e, e95, a95, b95, code) in cases {
        let path = fit(e, e95, a95, b95);
        let out = ladder(&["check", &path, "--baseline", baseline]);
        assert_eq!(out.status.code(), Some(code), "{what}: {}", text(&out).0);
    }
}
