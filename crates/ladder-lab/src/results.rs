//! A sweep's results, opened: the sweep file and its runs, turned into the fit's input
//! and, with a fit, into the report.

use std::path::{Path, PathBuf};

use ladder_fit::FitReport;
use ladder_report::{write_exports, write_report, Sweep, Written};
use ladder_store::{read_runs, RunRecord};

use crate::{fit_input, FitInput, FitOptions, LabError};

/// The runs of one sweep file.
#[derive(Debug, Clone)]
pub struct Results {
    /// The sweep file.
    pub sweep_h5: PathBuf,
    /// Every run it holds, finished or not.
    pub runs: Vec<RunRecord>,
}

impl Results {
    /// Opens `dir/sweep.h5`, or `dir` itself when it is a `.h5` file.
    pub fn open(dir: &Path) -> Result<Self, LabError> {
        let sweep_h5 = if dir.extension().is_some_and(|e| e == "h5") {
            dir.to_path_buf()
        } else {
            dir.join("sweep.h5")
        };
        if !sweep_h5.is_file() {
            return Err(LabError::Input(format!(
                "{}: no such sweep file: give a directory written by `ladder run` (it holds \
                 sweep.h5) or the path of a sweep.h5",
                sweep_h5.display()
            )));
        }
        let runs = read_runs(&sweep_h5)?;
        Ok(Self { sweep_h5, runs })
    }

    /// The fit's input under the conventions of `options`.
    pub fn fit_input(&self, options: &FitOptions) -> Result<FitInput, LabError> {
        fit_input(&self.runs, &self.sweep_h5, options.params, options.flops)
    }

    /// Writes only the exports, `runs.csv` and `curves.csv`, into `out_dir`: what a
    /// report can still give when its runs are too few to fit. Returns their paths.
    pub fn write_exports(&self, out_dir: &Path) -> Result<Vec<PathBuf>, LabError> {
        write_exports(&self.runs, out_dir).map_err(|source| LabError::Report {
            dir: self.sweep_h5.clone(),
            source,
        })
    }

    /// Writes the report of these results (`input` fitted as `fit` with `options`) into
    /// `out_dir`.
    pub fn write_report(
        &self,
        input: &FitInput,
        fit: &FitReport,
        options: &FitOptions,
        out_dir: &Path,
    ) -> Result<Written, LabError> {
        let sweep = Sweep {
            title: self
                .runs
                .first()
                .map(|r| r.meta.sweep.clone())
                .unwrap_or_else(|| self.sweep_h5.display().to_string()),
            runs: &self.runs,
            data: &input.data,
            fit,
            budget_tolerance: options.budget_tolerance,
            provenance: self.provenance(options),
        };
        write_report(&sweep, out_dir).map_err(|source| LabError::Report {
            dir: self.sweep_h5.clone(),
            source,
        })
    }

    /// The `(what, value)` rows at the top of the report.
    fn provenance(&self, options: &FitOptions) -> Vec<(String, String)> {
        let mut rows = vec![(
            "sweep file".to_string(),
            self.sweep_h5.display().to_string(),
        )];
        if let Some(m) = self.runs.first().map(|r| &r.meta) {
            for (label, value) in [
                ("sweep", &m.sweep),
                ("data", &m.data),
                ("tokenizer", &m.tokenizer),
                ("schedule", &m.schedule),
                ("precision", &m.precision),
                ("device", &m.device),
                ("versions", &m.versions),
            ] {
                rows.push((label.to_string(), value.clone()));
            }
        }
        let finished = self.runs.iter().filter(|r| r.is_finished()).count();
        rows.push((
            "runs".into(),
            format!("{} ({finished} finished, fitted)", self.runs.len()),
        ));
        rows.push((
            "fit".into(),
            format!(
                "N = {} parameters, C by {}, {} bootstrap resamples (seed {}), extrapolation \
                 from C ≤ C_max/{}",
                options.params,
                options.flops,
                options.bootstrap,
                options.seed,
                options.extrapolate_k
            ),
        ));
        rows.push((
            "written by".into(),
            format!("ladder {} (`ladder report`)", env!("CARGO_PKG_VERSION")),
        ));
        rows
    }
}
