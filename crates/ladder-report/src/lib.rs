//! A sweep's report, `DIR/report/`: the figures as SVG and PNG (plotters, pure Rust), one
//! self-contained `index.html`, and the exports `runs.csv`, `curves.csv` and `fit.json`.
//!
//! The crate draws and writes; it neither trains nor fits. The caller reads the sweep
//! (ladder-store) and fits it (ladder-fit), then hands both over in a [`Sweep`].

mod error;
mod exports;
pub mod figure;
mod figures;
mod html;

use std::path::{Path, PathBuf};

use ladder_fit::{approach2_budgets, Dataset, FitReport};
use ladder_store::RunRecord;

pub use error::ReportError;
pub use exports::{write_curves_csv, write_exports, write_runs_csv};
pub use figures::LossAgainst;
pub use html::{escape, tokens_at};

use figure::{render, Rendered};
use figures::{Contours, Frontier, IsoFlopProfiles, Residuals, Scaling, TrainingCurves};

/// What a report is made of.
pub struct Sweep<'a> {
    /// Title (the sweep's name).
    pub title: String,
    /// Every run as stored, finished or not.
    pub runs: &'a [RunRecord],
    /// The finished runs as fitted: N under the fit's convention, budgets, curves.
    pub data: &'a Dataset,
    /// The fit of `data`.
    pub fit: &'a FitReport,
    /// Budget labels within this relative difference form one IsoFLOP budget.
    pub budget_tolerance: f64,
    /// `(what, value)` rows shown at the top of the page: sweep file, data, versions….
    pub provenance: Vec<(String, String)>,
}

/// The files a report wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// `index.html`.
    pub index: PathBuf,
    /// Every file, index.html last.
    pub files: Vec<PathBuf>,
}

/// Writes the report of `sweep` into `dir` (created if needed; files there are replaced).
pub fn write_report(sweep: &Sweep, dir: &Path) -> Result<Written, ReportError> {
    if sweep.data.points.is_empty() {
        return Err(ReportError::Empty(
            "no finished run to report: train the sweep first".into(),
        ));
    }
    let mut files = write_exports(sweep.runs, dir)?;
    let fit_json = dir.join("fit.json");
    let text = serde_json::to_string_pretty(sweep.fit).map_err(|e| ReportError::Io {
        path: fit_json.clone(),
        source: e.into(),
    })?;
    std::fs::write(&fit_json, text + "\n").map_err(ReportError::io(&fit_json))?;
    files.push(fit_json);

    let figures = draw_figures(sweep, dir)?;
    for f in &figures {
        files.push(dir.join(format!("{}.svg", f.name)));
        files.push(dir.join(format!("{}.png", f.name)));
    }
    let budget = sweep
        .fit
        .tokens_per_param
        .last()
        .map(|t| t.c)
        .unwrap_or_else(|| sweep.data.budgets.iter().copied().fold(0.0, f64::max));
    let page = html::Page {
        title: &sweep.title,
        provenance: &sweep.provenance,
        fit: sweep.fit,
        runs: sweep.runs,
        figures: &figures,
        budget,
    };
    let index = dir.join("index.html");
    std::fs::write(&index, page.render()).map_err(ReportError::io(&index))?;
    files.push(index.clone());
    Ok(Written { index, files })
}

fn draw_figures(sweep: &Sweep, dir: &Path) -> Result<Vec<Rendered>, ReportError> {
    let fit = sweep.fit;
    let params = fit.params;
    let points = sweep.data.points.as_slice();
    let budgets = approach2_budgets(sweep.data, sweep.budget_tolerance);
    let scaling = |against, law| Scaling {
        points,
        law,
        against,
        params,
    };
    Ok(vec![
        render(
            &TrainingCurves {
                curves: &sweep.data.curves,
                params,
            },
            dir,
        )?,
        render(&scaling(LossAgainst::N, &fit.kaplan.l_n), dir)?,
        render(&scaling(LossAgainst::D, &fit.kaplan.l_d), dir)?,
        render(
            &IsoFlopProfiles {
                points,
                budgets: &budgets,
                approach2: fit.approach2.as_ref(),
                skipped: fit.approach2_skipped.as_deref(),
                params,
            },
            dir,
        )?,
        render(
            &Frontier {
                law: &fit.approach3.law,
                optima: &fit.tokens_per_param,
                approach2: fit.approach2.as_ref(),
                params,
            },
            dir,
        )?,
        render(
            &Contours {
                law: &fit.approach3.law,
                points,
                budgets: &budgets,
                params,
            },
            dir,
        )?,
        render(
            &Residuals {
                diagnostics: &fit.diagnostics,
                params,
            },
            dir,
        )?,
    ])
}
