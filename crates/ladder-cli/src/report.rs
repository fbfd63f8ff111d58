//! `ladder report DIR`: figures, index.html and exports in DIR/report/.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use ladder_fit::{analyse, Dataset, FitReport};
use ladder_report::{write_report, ReportError, Sweep, Written};
use ladder_store::{read_runs, RunRecord};

use crate::exit::{emit, line, Failure, ResultExt};
use crate::fit::{dataset_from_runs, FitOptions};

/// Arguments of `ladder report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A sweep directory written by `ladder run` (holding sweep.h5), or a sweep.h5.
    pub dir: PathBuf,
    /// Where to write the report (default: DIR/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// How the sweep is fitted for the report.
    #[command(flatten)]
    pub fit: FitOptions,
}

pub(crate) fn report(args: &ReportArgs) -> Result<(), Failure> {
    let sweep_h5 = if args.dir.extension().is_some_and(|e| e == "h5") {
        args.dir.clone()
    } else {
        args.dir.join("sweep.h5")
    };
    if !sweep_h5.is_file() {
        return Err(Failure::Input(anyhow!(
            "{}: no such sweep file: give a directory written by `ladder run` (it holds \
             sweep.h5) or the path of a sweep.h5",
            sweep_h5.display()
        )));
    }
    let out_dir = match &args.out {
        Some(out) => out.clone(),
        None => sweep_h5
            .parent()
            .map_or_else(|| PathBuf::from("report"), |p| p.join("report")),
    };
    let runs = read_runs(&sweep_h5).input()?;
    let data = dataset_from_runs(&runs, &sweep_h5, &args.fit)?;
    let fit = analyse(&data, &args.fit.analysis()).input()?;
    let written = write_sweep_report(&sweep_h5, &runs, &data, &fit, &args.fit, &out_dir)?;
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "report: {} files in {}",
            written.files.len(),
            out_dir.display()
        ),
    );
    line(&mut out, format!("open {}", written.index.display()));
    emit(&out)
}

/// Writes the report of the sweep file `sweep_h5` (its `runs`, their `data` and its
/// `fit` with `options`) into `out_dir`; shared by `report` and `lab run`.
pub(crate) fn write_sweep_report(
    sweep_h5: &Path,
    runs: &[RunRecord],
    data: &Dataset,
    fit: &FitReport,
    options: &FitOptions,
    out_dir: &Path,
) -> Result<Written, Failure> {
    let first = runs.first();
    let mut provenance = vec![("sweep file".to_string(), sweep_h5.display().to_string())];
    if let Some(m) = first.map(|r| &r.meta) {
        for (label, value) in [
            ("sweep", &m.sweep),
            ("data", &m.data),
            ("tokenizer", &m.tokenizer),
            ("schedule", &m.schedule),
            ("precision", &m.precision),
            ("device", &m.device),
            ("versions", &m.versions),
        ] {
            provenance.push((label.to_string(), value.clone()));
        }
    }
    let finished = runs.iter().filter(|r| r.is_finished()).count();
    provenance.push((
        "runs".into(),
        format!("{} ({finished} finished, fitted)", runs.len()),
    ));
    provenance.push((
        "fit".into(),
        format!(
            "N = {} parameters, C by {}, {} bootstrap resamples (seed {}), extrapolation from C ≤ C_max/{}",
            options.params_label(),
            options.flops_label(),
            options.bootstrap,
            options.seed,
            options.extrapolate_k
        ),
    ));
    provenance.push((
        "written by".into(),
        format!("ladder {} (`ladder report`)", env!("CARGO_PKG_VERSION")),
    ));
    let title = first
        .map(|r| r.meta.sweep.clone())
        .unwrap_or_else(|| sweep_h5.display().to_string());
    let sweep = Sweep {
        title,
        runs,
        data,
        fit,
        budget_tolerance: options.budget_tolerance,
        provenance,
    };
    write_report(&sweep, out_dir).map_err(|e| match e {
        ReportError::Empty(_) => Failure::Input(anyhow!("{}: {e}", sweep_h5.display())),
        other => Failure::Runtime(anyhow!(other)),
    })
}
