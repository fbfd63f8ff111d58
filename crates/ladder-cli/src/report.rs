//! `ladder report DIR`: figures, index.html and exports in DIR/report/.

use std::path::PathBuf;

use ladder_lab::Results;

use crate::exit::{emit, line, Failure};
use crate::fit::{warn_left_out, FitOptions};

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
    let results = Results::open(&args.dir)?;
    let out_dir = match &args.out {
        Some(out) => out.clone(),
        None => results
            .sweep_h5
            .parent()
            .map_or_else(|| PathBuf::from("report"), |p| p.join("report")),
    };
    let input = results.fit_input(&args.fit.options(true))?;
    let options = args.fit.for_input(true, &input);
    warn_left_out(&input);
    let fit = match ladder_lab::fit(&input.data, &options, &results.sweep_h5) {
        Ok(fit) => fit,
        Err(e) => {
            // The runs are still worth a table (a probe of a few runs, say): write the
            // exports, which need no fit, and say so beside the fit's error.
            let failure = Failure::from(e);
            let written = results.write_exports(&out_dir)?;
            let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "no fit, so no figures or index.html; the runs are exported: {}",
                names.join(", ")
            );
            return Err(failure);
        }
    };
    let written = results.write_report(&input, &fit, &options, &out_dir)?;
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
