//! Exports for pandas users: `runs.csv` (one row per run) and `curves.csv` (one row per
//! evaluation of every run, long format).

use std::path::Path;

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
fn attribute_columns(runs: &[RunRecord]) -> Vec<String> {
    let mut rest: Vec<String> = runs
        .iter()
        .flat_map(|r| r.attr_names())
        .filter(|name| !LEADING.contains(name))
        .filter(|name| {
            runs.iter()
                .all(|r| r.display(name).is_none_or(|v| !v.contains('\n')))
        })
        .map(str::to_string)
        .collect();
    rest.sort();
    rest.dedup();
    LEADING
        .iter()
        .filter(|name| runs.iter().any(|r| r.attrs.contains_key(**name)))
        .map(|s| s.to_string())
        .chain(rest)
        .collect()
}

fn last(run: &RunRecord, curve: &str) -> String {
    run.curves
        .get(curve)
        .and_then(|c| c.last())
        .map(|x| x.to_string())
        .unwrap_or_default()
}

/// Writes `runs.csv`: every attribute of every run, then its final metrics.
pub fn write_runs_csv(runs: &[RunRecord], path: &Path) -> Result<(), ReportError> {
    let csv_err = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let columns = attribute_columns(runs);
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record(columns.iter().map(String::as_str).chain(FINAL))
        .map_err(csv_err)?;
    for run in runs {
        let mut row: Vec<String> = columns
            .iter()
            .map(|c| match c.as_str() {
                "run_id" => run.display(c).unwrap_or_else(|| run.id.clone()),
                _ => run.display(c).unwrap_or_default(),
            })
            .collect();
        row.push(last(run, "val_loss"));
        row.push(last(run, "train_loss"));
        row.push(last(run, "tokens"));
        row.push(last(run, "wall_s"));
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
        let rows = CURVES
            .iter()
            .map(|c| run.curves.get(*c).map_or(0, Vec::len))
            .max()
            .unwrap_or(0);
        for i in 0..rows {
            let mut row = vec![run.id.clone()];
            row.extend(CURVES.iter().map(|c| {
                run.curves
                    .get(*c)
                    .and_then(|v| v.get(i))
                    .map(|x| x.to_string())
                    .unwrap_or_default()
            }));
            w.write_record(&row).map_err(csv_err)?;
        }
    }
    w.flush().map_err(ReportError::io(path))
}
