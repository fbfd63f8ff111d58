//! `ladder tune`: the tuning sweep's best learning rate per model, written as a table
//! that `[train] lr_table` reads, and its text.

use std::path::Path;

use ladder_store::read_runs;
use ladder_sweep::{best_rates, LrTable};

use crate::text::line;
use crate::LabError;

/// The best rates of the finished tuning sweep in `out`, written to `out/tuned.toml`
/// (headed by how `config` was tuned); returns the table and the text to print.
pub fn write_tuned(out: &Path, config: &Path) -> Result<(LrTable, String), LabError> {
    let runs = read_runs(&out.join("sweep.h5")).map_err(|e| LabError::Runtime(e.to_string()))?;
    let (table, warnings) = best_rates(&runs);
    let path = out.join("tuned.toml");
    let body = toml::to_string(&table)
        .map_err(|e| LabError::Runtime(format!("writing the table: {e}")))?;
    let text = format!(
        "# Learning rates tuned by `ladder tune {}`: per model, the rate with the lowest final\n\
         # validation loss among `tried` (rate, loss). Use it with [train] lr_table = \"<this file>\".\n{body}",
        config.display(),
    );
    std::fs::write(&path, text).map_err(|source| LabError::Write {
        path: path.clone(),
        source,
    })?;
    let mut report = String::new();
    for t in &table.model {
        let tried: Vec<String> = t
            .tried
            .iter()
            .map(|(lr, loss)| {
                let mark = if *lr == t.lr { "*" } else { "" };
                format!("{lr:.2e}: {loss:.4}{mark}")
            })
            .collect();
        line(
            &mut report,
            format!(
                "d{}-l{}-h{} on {} tokens: {}",
                t.d_model,
                t.n_layer,
                t.n_head,
                t.tokens,
                tried.join("  ")
            ),
        );
    }
    for w in &warnings {
        line(&mut report, format!("warning: {w}"));
    }
    line(
        &mut report,
        format!(
            "best rates (*) written to {}: add lr_table = \"<its path relative to the config>\" \
             to [train]",
            path.display()
        ),
    );
    Ok((table, report))
}
