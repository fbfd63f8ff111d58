//! `ladder check FIT.json --baseline FILE.toml`: compare a fit with expected values.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use ladder_fit::{run_checks, Baseline};

use ladder_lab::text::check_text;

use crate::exit::{emit, Failure, ResultExt};

/// Arguments of `ladder check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A fit.json written by `ladder fit --json` or `ladder run`.
    pub fit: PathBuf,
    /// Expected values (TOML, a list of `[[check]]` entries; see configs/baselines/).
    #[arg(long)]
    pub baseline: PathBuf,
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .input()
}

pub(crate) fn check(args: &CheckArgs) -> Result<(), Failure> {
    let fit: serde_json::Value = serde_json::from_str(&read(&args.fit)?)
        .with_context(|| format!("{}: not a fit.json", args.fit.display()))
        .input()?;
    let baseline: Baseline = toml::from_str(&read(&args.baseline)?)
        .with_context(|| format!("{}: not a baseline", args.baseline.display()))
        .input()?;
    let outcomes = run_checks(&fit, &baseline)
        .with_context(|| format!("{}", args.baseline.display()))
        .input()?;
    emit(&check_text(&outcomes))?;
    let failed = outcomes.iter().filter(|o| !o.pass).count();
    if failed > 0 {
        return Err(Failure::Runtime(anyhow!(
            "{failed} of {} checks failed against {}: a regression",
            outcomes.len(),
            args.baseline.display()
        )));
    }
    Ok(())
}
