//! The pipeline against the repository's committed results: fit.json reads back as a
//! `FitReport` (and writes out the same bytes), every sweep.h5 reads as typed runs, and ladder's own runs.csv fits as its
//! sweep.h5 does.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use ladder_fit::CsvOptions;
use ladder_lab::{fit, read_fit, read_input, write_json, FitOptions, Results};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` whose name satisfies `keep`.
fn files(dir: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path, keep));
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn every_committed_fit_json_reads_back() {
    let fits = files(&repo().join("results"), &|n| {
        n.starts_with("fit") && n.ends_with(".json")
    });
    assert!(fits.len() >= 20, "{} fit files", fits.len());
    for path in fits {
        let report = read_fit(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(report.points >= 5, "{}", path.display());
    }
}

#[test]
fn a_fit_json_reads_back_and_writes_the_same_bytes() {
    let lab = repo().join("results/lab-cpu-knob");
    let options = FitOptions {
        bootstrap: 40,
        ..FitOptions::default()
    };
    let input = Results::open(&lab).unwrap().fit_input(&options).unwrap();
    let report = fit(&input.data, &options, &lab).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fit.json");
    write_json(&path, &report).unwrap();
    let again = read_fit(&path).unwrap();
    let text = serde_json::to_string_pretty(&again).unwrap() + "\n";
    assert!(text == std::fs::read_to_string(&path).unwrap());
}

#[test]
fn every_committed_sweep_file_reads_as_typed_runs() {
    let sweeps = files(&repo().join("results"), &|n| n == "sweep.h5");
    assert!(sweeps.len() >= 6, "{} sweep files", sweeps.len());
    for path in sweeps {
        let results = Results::open(&path).unwrap();
        assert!(!results.runs.is_empty(), "{}", path.display());
        for run in &results.runs {
            assert!(run.is_finished(), "{}: {}", path.display(), run.id);
            assert_eq!(run.meta.run_id, run.id);
            assert_eq!(run.curves.tokens.last().copied(), Some(run.meta.d as f64));
        }
    }
}

#[test]
fn ladders_own_runs_csv_fits_as_its_sweep_file_does() {
    let lab = repo().join("results/lab-cpu-knob");
    let options = FitOptions {
        bootstrap: 50,
        ..FitOptions::default()
    };
    let h5 = Results::open(&lab).unwrap().fit_input(&options).unwrap();
    let csv_path = lab.join("report/runs.csv");
    let columns = [
        ("N", "N_total"),
        ("loss", "final_val_loss"),
        ("C", "C_budget"),
        ("run", "run_id"),
    ];
    let csv = CsvOptions {
        columns: columns
            .iter()
            .map(|(n, h)| (n.to_string(), h.to_string()))
            .collect(),
        filters: Vec::new(),
        unit: None,
    };
    let from_csv = read_input(&csv_path, &options, &csv).unwrap();
    assert_eq!(from_csv.data.points, h5.data.points);
    assert_eq!(from_csv.data.budgets, h5.data.budgets);
    assert_eq!(from_csv.data.runs, h5.data.runs);
    // runs.csv's seed column gives the families a sweep file's N and seed give.
    assert_eq!(from_csv.data.family_groups(), h5.data.family_groups());
    let a = fit(&from_csv.data, &options, &csv_path).unwrap().approach3;
    let b = fit(&h5.data, &options, &lab).unwrap().approach3;
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn a_fit_that_cannot_place_the_optimum_prints_none() {
    let mut report = read_fit(&repo().join("results/lab-cpu-warmup/fit.json")).unwrap();
    assert!(report.diagnostics.degenerate.is_empty());
    let header = "80% interval    loss*";
    assert!(ladder_lab::fit_text(&report).contains(header));
    // A weakly identified coefficient leaves the optimum to its interval: still shown.
    report.diagnostics.degenerate = vec!["B's bootstrap 95% interval spans …".into()];
    assert!(ladder_lab::fit_text(&report).contains(header));
    // E at its floor: the law ran to an edge.
    let mut edge = report.clone();
    edge.approach3.law.e = 0.0;
    assert!(!ladder_lab::fit_text(&edge).contains(header));
    // One model size: the law's N term has nothing to be fitted from.
    for r in &mut report.diagnostics.residuals {
        r.n = 1e5;
    }
    let text = ladder_lab::fit_text(&report);
    assert!(!text.contains(header), "{text}");
    assert!(text.contains("compute optima: not shown: these points do not determine"));
}
