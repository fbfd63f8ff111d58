//! `[design]`: `ladder plan` lays out, simulates and chooses an IsoFLOP design from the
//! clock, the corpus and a prior law, and `ladder run` trains it and, rerun, reuses it.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

/// A Markov micro sweep whose budgets, sizes and seeds come from `[design]`, at an assumed
/// speed (so the design does not depend on this machine's timing).
const CONFIG: &str = r#"
name = "designed"
seed = 0
[data]
kind = "markov"
vocab = 16
order = 1
successors = 3
[model]
context = 16
sizes = [0.5, 1, 1.25, 1.5, 2, 2.25, 2.5, 3, 3.5, 4]
parametrization = "mup"
base_width = 32
[tokens]
params = "total"
[train]
batch_size = 8
lr = 1e-2
warmup_fraction = 0.05
schedule = "wsd"
branching = true
[eval]
every_tokens = 4096
tokens = 1024
[design]
minutes = 3
jobs = 2
flops_per_second = 1e9
seeds = [1, 2]
decades = [1, 1.5]
law = "prior.json"
noise = 0.01
reps = 2
bootstrap = 20
"#;

/// E = 1, A = B = 10, α = β = 0.35: N* = √(C/6), inside the sizes from C ≈ 1e8 to 1e12.
const PRIOR: &str =
    r#"{"approach3": {"E": 1.0, "A": 10.0, "B": 10.0, "alpha": 0.35, "beta": 0.35}}"#;

/// Six seconds at the assumed speed, one size on each side, two budgets: 12 runs.
fn quick_config() -> String {
    CONFIG
        .replace("minutes = 3", "minutes = 0.1\nbracket = 1\nmargin = 0")
        .replace("decades = [1, 1.5]", "decades = [0.5]")
        .replace("seeds = [1, 2]", "seeds = [2]")
}

#[test]
fn plan_prints_the_search_and_the_chosen_design() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prior.json", PRIOR);
    let cfg = write(dir.path(), "designed.toml", CONFIG);
    let out = ladder(&["plan", &cfg, "--no-timing"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("[design]: 10 candidate sizes"), "{stdout}");
    assert_eq!(stdout.matches("<- chosen").count(), 1, "{stdout}");
    // A line per layout that fits: at most two decades × two seed counts.
    let rows = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("1.00 ") || l.trim_start().starts_with("1.50 "))
        .count();
    assert!((2..=4).contains(&rows), "{stdout}");
    // The plan: every budget has 7 sizes (2 on each side and a margin of 1).
    let budgets: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with('d') && l.contains("-D"))
        .collect();
    assert!(
        !budgets.is_empty() && budgets.len().is_multiple_of(7),
        "{stdout}"
    );
    // The same design twice: the search is deterministic at an assumed speed.
    let again = ladder(&["plan", &cfg, "--no-timing"]);
    assert_eq!(text(&again).0, stdout);
    // No held-out factor, no held-out check.
    assert!(!stdout.contains("held out"), "{stdout}");
}

/// `[design] held_out = k`: the plan shows the chosen layout's expected widths of the
/// held-out check's errors (the law's, and its margin over the baseline), in points.
#[test]
fn plan_prints_the_held_out_checks_expected_width() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prior.json", PRIOR);
    let held = CONFIG.replace("bootstrap = 20", "bootstrap = 20\nheld_out = 4");
    let cfg = write(dir.path(), "held.toml", &held);
    let out = ladder(&["plan", &cfg, "--no-timing"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("held out, the chosen layout fitted on C ≤ C_max/4"))
        .unwrap_or_else(|| panic!("{stdout}"));
    // "expected 80% width W points" for the law's error, then "| W points" for the margin.
    let widths: Vec<f64> = line
        .split(" points")
        .filter_map(|s| s.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(widths.len(), 2, "{line}");
    assert!(widths.iter().all(|w| w.is_finite() && *w > 0.0), "{line}");
}

/// `[design] shared`: the noise a model's runs of one seed have in common is simulated
/// under WSD branching and said in the search's header; without branching it is not.
#[test]
fn the_shared_noise_is_simulated_only_where_runs_branch() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prior.json", PRIOR);
    let shared = quick_config().replace("noise = 0.01", "noise = 0.01\nshared = 0.5");
    let cfg = write(dir.path(), "shared.toml", &shared);
    let out = ladder(&["plan", &cfg, "--no-timing"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("noise 1.00% per run, 50% of its variance shared by a model's runs"),
        "{stdout}"
    );
    let unbranched = shared.replace("branching = true", "branching = false");
    let cfg = write(dir.path(), "unbranched.toml", &unbranched);
    let out = ladder(&["plan", &cfg, "--no-timing"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("noise 1.00%;") || stdout.contains("noise 1.00%\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("shared by"), "{stdout}");
}

#[test]
fn run_trains_the_design_and_a_rerun_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prior.json", PRIOR);
    let quick = quick_config();
    let cfg = write(dir.path(), "designed.toml", &quick);
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.to_str().unwrap();
    let first = ladder(&["run", &cfg, "--out", out_arg, "--jobs", "2"]);
    let (_, stderr) = text(&first);
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("<- chosen"),
        "the first run prints the search: {stderr}"
    );
    let stored = std::fs::read_to_string(out_dir.join("config.toml")).unwrap();
    assert!(stored.contains("# [design] resolved (config "), "{stored}");
    assert!(stored.contains("\nseeds = 2\n"), "{stored}");
    // The rerun finds the resolution in its directory: no search, nothing retrained.
    let second = ladder(&["run", &cfg, "--out", out_arg, "--jobs", "2"]);
    let (stdout, stderr) = text(&second);
    assert!(second.status.success(), "{stderr}");
    assert!(!stderr.contains("<- chosen"), "{stderr}");
    assert!(stdout.contains("trained 0 runs"), "{stdout}");
}

/// `ladder plan --out DIR` stores the design it chose where `ladder run` and `ladder
/// slurm` find it: neither searches again, so the runs trained are the runs planned even
/// when the search follows the clock.
#[test]
fn plan_out_stores_the_design_that_run_and_slurm_train() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prior.json", PRIOR);
    let quick = quick_config();
    let cfg = write(dir.path(), "designed.toml", &quick);
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.to_str().unwrap();
    let plan = ladder(&["plan", &cfg, "--no-timing", "--out", out_arg]);
    let (stdout, stderr) = text(&plan);
    assert!(plan.status.success(), "{stderr}");
    assert!(stdout.contains("<- chosen"), "{stdout}");
    assert!(stderr.contains("claimed"), "{stderr}");
    let stored = std::fs::read_to_string(out_dir.join("config.toml")).unwrap();
    assert!(stored.contains("# [design] resolved (config "), "{stored}");
    // A second plan into the same directory reads the stored design back.
    let again = ladder(&["plan", &cfg, "--no-timing", "--out", out_arg]);
    assert!(again.status.success(), "{}", text(&again).1);
    assert!(!text(&again).0.contains("<- chosen"), "{}", text(&again).0);
    // So does one from the config with a comment added and a value spelled differently:
    // the stored design is found by the config's content, not its text.
    let edited = format!(
        "# edited after the plan\n{}",
        quick.replace("lr = 1e-2", "lr = 0.01")
    );
    let edited_cfg = write(dir.path(), "designed.toml", &edited);
    let again = ladder(&["plan", &edited_cfg, "--no-timing", "--out", out_arg]);
    assert!(again.status.success(), "{}", text(&again).1);
    assert!(!text(&again).0.contains("<- chosen"), "{}", text(&again).0);
    let slurm = ladder(&["slurm", &cfg, "--out", out_arg]);
    let (stdout, stderr) = text(&slurm);
    assert!(slurm.status.success(), "{stderr}");
    assert!(!stderr.contains("<- chosen"), "{stderr}");
    assert!(stdout.contains("sweep.sbatch"), "{stdout}");
    let run = ladder(&["run", &cfg, "--out", out_arg, "--only", "0"]);
    let (_, stderr) = text(&run);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("<- chosen"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("config.toml")).unwrap(),
        stored
    );
}

/// A prior whose optimum moves as C^0.71 (α = 0.2, β = 0.5): the stored design carries
/// that exponent, so every budget's planned sizes bracket the prior's own optimum there,
/// not the constant-ratio path through the top budget's.
#[test]
fn the_planned_sizes_follow_the_priors_optimum_down_the_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a, b, alpha, beta): (f64, f64, f64, f64, f64) = (1.0, 10.0, 10.0, 0.2, 0.5);
    let prior = format!(
        r#"{{"approach3": {{"E": {e}, "A": {a}, "B": {b}, "alpha": {alpha}, "beta": {beta}}}}}"#
    );
    write(dir.path(), "prior.json", &prior);
    let config = CONFIG
        .replace("minutes = 3", "minutes = 0.5\nbracket = 1\nmargin = 0")
        .replace("decades = [1, 1.5]", "decades = [1]")
        .replace("seeds = [1, 2]", "seeds = [1]");
    let cfg = write(dir.path(), "designed.toml", &config);
    let out_dir = dir.path().join("out");
    let plan = ladder(&[
        "plan",
        &cfg,
        "--no-timing",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&plan);
    assert!(plan.status.success(), "{stderr}");
    let stored = std::fs::read_to_string(out_dir.join("config.toml")).unwrap();
    assert!(
        stored.contains("\nexpected_exponent = 0.7143\n"),
        "{stored}"
    );
    // Each planned run's N_total from the plan's table, under the stored budget nearest
    // (in log) its C = 6·N·D (D is rounded to whole batches, so C is near, not at, it).
    let line = stored
        .lines()
        .find(|l| l.starts_with("budgets = ["))
        .unwrap();
    let budgets: Vec<f64> = line["budgets = [".len()..line.len() - 1]
        .split(", ")
        .map(|c| c.parse().unwrap())
        .collect();
    let g = (alpha * a / (beta * b)).powf(1.0 / (alpha + beta));
    let mut by_budget = vec![Vec::new(); budgets.len()];
    for line in stdout
        .lines()
        .filter(|l| l.starts_with('d') && l.contains("-D"))
    {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let c: f64 = cols[7].parse().unwrap();
        let nearest = (0..budgets.len())
            .min_by(|&i, &j| {
                let far = |k: usize| (budgets[k] / c).ln().abs();
                far(i).total_cmp(&far(j))
            })
            .unwrap();
        by_budget[nearest].push(cols[4].parse::<f64>().unwrap());
    }
    assert!(budgets.len() >= 3, "{stored}");
    for (c, sizes) in budgets.iter().zip(&by_budget) {
        let optimum = g * (c / 6.0).powf(beta / (alpha + beta));
        assert!(
            sizes.iter().any(|&n| n < optimum) && sizes.iter().any(|&n| n > optimum),
            "budget {c:e}: {sizes:?} around the prior's {optimum:e}\n{stdout}"
        );
    }
}

/// `ladder plan --device cuda` and `ladder run --device cuda` time a `[design]`'s sizes on
/// the GPU the runs will train on, not on this machine's CPU; a design that assumes a
/// speed (`flops_per_second`, `jobs`) opens no GPU at all. Without one (this build has no
/// `cuda` feature) the timing is a bad-input error that says where to plan instead.
#[cfg(not(feature = "cuda"))]
#[test]
fn a_design_for_a_gpu_is_timed_on_the_gpu() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prior.json", PRIOR);
    let assumed = write(dir.path(), "assumed.toml", &quick_config());
    let out = ladder(&["plan", &assumed, "--device", "cuda", "--no-timing"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("<- chosen"), "{stdout}");
    let timed = write(
        dir.path(),
        "timed.toml",
        &quick_config().replace("flops_per_second = 1e9\n", ""),
    );
    for args in [
        vec!["plan", &timed, "--device", "cuda", "--no-timing"],
        vec!["plan", &assumed, "--device", "cuda:0"],
        vec!["run", &timed, "--device", "cuda"],
    ] {
        let out = ladder(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        for part in [
            "cannot time the sizes on cuda",
            "--features cuda",
            "flops_per_second",
        ] {
            assert!(stderr.contains(part), "{args:?}: {part}: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
