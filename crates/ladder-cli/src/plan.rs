//! `ladder plan CONFIG`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ladder_sweep::{Plan, SweepConfig, SweepError};

use crate::exit::{emit, line, Failure, ResultExt};

/// Arguments of `ladder plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Sweep config (TOML).
    pub config: PathBuf,
}

/// Reads and plans a config; every error is bad input except an unreadable data file.
pub(crate) fn load(path: &Path) -> Result<Plan, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))
        .input()?;
    let cfg = SweepConfig::parse(&text, path).input()?;
    Plan::new(&cfg, &text, path).map_err(|e: SweepError| {
        Failure::Input(anyhow::Error::new(e).context(format!("invalid config {}", path.display())))
    })
}

pub(crate) fn plan(args: &PlanArgs) -> Result<(), Failure> {
    let plan = load(&args.config)?;
    let mut out = String::new();
    line(
        &mut out,
        format!("sweep {}: {} runs", plan.name, plan.runs.len()),
    );
    line(&mut out, format!("data: {}", plan.source.describe()));
    if let Some(h) = plan.source.entropy_rate() {
        line(
            &mut out,
            format!("entropy rate: {h:.4} nats/token (the lowest loss any model can reach)"),
        );
    }
    out.push('\n');
    line(
        &mut out,
        format!(
            "{:<26} {:>5} {:>3} {:>3} {:>10} {:>10} {:>11} {:>10} {:>7}",
            "id", "d", "L", "H", "N_total", "N_nonemb", "D", "C=6ND", "D/N"
        ),
    );
    for r in &plan.runs {
        let m = &r.spec.model;
        line(
            &mut out,
            format!(
                "{:<26} {:>5} {:>3} {:>3} {:>10} {:>10} {:>11} {:>10.3e} {:>7.1}",
                r.id,
                m.d_model,
                m.n_layer,
                m.n_head,
                r.params.total,
                r.params.non_embedding,
                r.tokens(),
                r.c_6nd_total(),
                r.tokens() as f64 / r.params.total as f64
            ),
        );
    }
    out.push('\n');
    line(&mut out, "N_total counts every parameter (Chinchilla); N_nonemb leaves out embeddings and the LM head (Kaplan).");
    line(
        &mut out,
        "C = 6·N_total·D; runs also store Kaplan's and the exact FLOP counts.",
    );
    emit(&out)
}
