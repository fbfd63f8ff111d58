//! Exports for pandas users: `runs.csv` (one row per run) and `curves.csv` (one row per
//! evaluation of every run, long format).

use std::path::{Path, PathBuf};

use ladder_store::{RunRecord, CURVES};

use crate::ReportError;

/// The columns of `runs.csv` that come first, in this order, when a run has them; every
/// other attribute follows in alphabetical order.
const LEADING: [&str; 20] = [
    "run_id",
    "status",
    "d_model",
    "n_layer",
    "n_head",
    "N_total",
    "N_nonemb",
    "D",
    "C_6nd_total",
    "C_6nd_nonemb",
    "C_exact",
    "C_budget",
    "budget_convention",
    "lr",
    "batch_size",
    "context",
    "schedule",
    "tokenizer",
    "vocab",
    "precision",
];

/// Columns computed from a run's curves, after its attributes.
const FINAL: [&str; 4] = [
    "final_val_loss",
    "final_train_loss",
    "tokens_trained",
    "wall_s",
];

/// The attribute columns of `runs.csv`: [`LEADING`] then the rest, sorted; attributes
/// holding more than a line (the embedded config) are left out.
fn attribute_columns(runs: &[RunRecord]) -> Vec<&'static str> {
    let mut rest: Vec<&'static str> = runs
        .iter()
        .flat_map(RunRecord::attrs)
        .map(|(name, _)| name)
        .filter(|name| !LEADING.contains(name))
        .collect();
    rest.sort_unstable();
    rest.dedup();
    rest.retain(|name| {
        runs.iter().all(|r| {
            r.attrs()
                .iter()
                .all(|(n, v)| n != name || !v.to_string().contains('\n'))
        })
    });
    LEADING.iter().copied().chain(rest).collect()
}

fn last(curve: &[f64]) -> String {
    curve.last().map(|x| x.to_string()).unwrap_or_default()
}

/// Writes `runs.csv` and `curves.csv` of `runs` into `dir` (created if needed), which
/// need no fit; returns their paths.
pub fn write_exports(runs: &[RunRecord], dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::io(dir))?;
    let runs_csv = dir.join("runs.csv");
    write_runs_csv(runs, &runs_csv)?;
    let curves_csv = dir.join("curves.csv");
    write_curves_csv(runs, &curves_csv)?;
    Ok(vec![runs_csv, curves_csv])
}

/// Writes `runs.csv`: every attribute of every run, then its final metrics.
pub fn write_runs_csv(runs: &[RunRecord], path: &Path) -> Result<(), ReportError> {
    let csv_err = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let columns = attribute_columns(runs);
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record(columns.iter().copied().chain(FINAL))
        .map_err(csv_err)?;
    for run in runs {
        let attrs = run.attrs();
        let value = |c: &str| {
            attrs
                .iter()
                .find(|(n, _)| *n == c)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        };
        let mut row: Vec<String> = columns.iter().map(|c| value(c)).collect();
        row.push(last(&run.curves.val_loss));
        row.push(last(&run.curves.train_loss));
        row.push(last(&run.curves.tokens));
        row.push(last(&run.curves.wall_s));
        w.write_record(&row).map_err(csv_err)?;
    }
    w.flush().map_err(ReportError::io(path))
}

/// Writes `curves.csv`: `run_id` and every stored curve, one row per evaluation.
pub fn write_curves_csv(runs: &[RunRecord], path: &Path) -> Result<(), ReportError> {
    let csv_err = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record(std::iter::once("run_id").chain(CURVES))
        .map_err(csv_err)?;
    for run in runs {
        let curves = run.curves.named();
        let rows = curves.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
        for i in 0..rows {
            let mut row = vec![run.id.clone()];
            row.extend(
                curves
                    .iter()
                    .map(|(_, c)| c.get(i).map(|x| x.to_string()).unwrap_or_default()),
            );
            w.write_record(&row).map_err(csv_err)?;
        }
    }
    w.flush().map_err(ReportError::io(path))
}
