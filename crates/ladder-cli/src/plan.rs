//! `ladder plan CONFIG`.

use std::path::PathBuf;

use ladder_lab::{duration, jobs_or_cores, load_plan, share_threads, Timing};
use ladder_sweep::{units, Plan};

use crate::exit::{emit, line, Failure};

/// Arguments of `ladder plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Sweep config (TOML).
    pub config: PathBuf,
    /// Parallel jobs the wall-time estimate assumes (default: one per core, as `run`).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Skip timing each shape, and so the wall-time estimate.
    #[arg(long)]
    pub no_timing: bool,
}

/// The table of runs: shape, counts, D, C, D/N, learning rate and estimated time.
fn runs_table(out: &mut String, plan: &Plan, timing: Option<&Timing>) {
    line(
        out,
        format!(
            "{:<26} {:>5} {:>3} {:>3} {:>10} {:>10} {:>11} {:>10} {:>7} {:>9} {:>12}",
            "id", "d", "L", "H", "N_total", "N_nonemb", "D", "C=6ND", "D/N", "lr", "est. time"
        ),
    );
    for (i, r) in plan.runs.iter().enumerate() {
        let m = &r.spec.model;
        line(
            out,
            format!(
                "{:<26} {:>5} {:>3} {:>3} {:>10} {:>10} {:>11} {:>10.3e} {:>7.1} {:>9.2e} {:>12}",
                r.id,
                m.d_model,
                m.n_layer,
                m.n_head,
                r.params.total,
                r.params.non_embedding,
                r.tokens(),
                r.c_6nd_total(),
                r.tokens() as f64 / r.params.total as f64,
                r.spec.lr,
                timing.map_or("-".into(), |t| duration(t.seconds[i]))
            ),
        );
    }
}

/// The notes under the table: conventions, warnings, branching and the wall time.
fn notes(out: &mut String, plan: &Plan, timing: Option<&Timing>, jobs: usize) {
    line(out, "N_total counts every parameter (Chinchilla); N_nonemb leaves out embeddings and the LM head (Kaplan).");
    line(
        out,
        "C = 6·N_total·D; runs also store Kaplan's and the exact FLOP counts.",
    );
    for w in &plan.warnings {
        line(out, format!("warning: {w}"));
    }
    let saving = plan.branching_cost();
    if let Some((branched, separate)) = saving {
        line(
            out,
            format!(
                "WSD branching: each model trains one stable phase and branches a cooldown at \
                 each D: {branched:.3e} FLOPs instead of {separate:.3e} for separate runs \
                 ({:.0}% saved).",
                100.0 * (1.0 - branched / separate)
            ),
        );
    }
    if let Some(timing) = timing {
        let (total, wall) = timing.totals(plan, jobs);
        line(
            out,
            format!(
                "estimated wall time: {} on {jobs} parallel jobs (run times from 3 timed \
                 steps of each shape on this machine, scheduled largest first as `ladder run` \
                 does; {} of training in all{})",
                duration(wall),
                duration(total),
                if saving.is_some() {
                    "; scaled by the branching saving, so approximate"
                } else {
                    ""
                }
            ),
        );
    }
}

pub(crate) fn plan(args: &PlanArgs) -> Result<(), Failure> {
    let plan = load_plan(&args.config)?;
    // As `run` from an empty directory: no more jobs than units.
    let jobs = jobs_or_cores(args.jobs)?.min(units(&plan).len().max(1));
    share_threads(jobs);
    let timing = if args.no_timing {
        None
    } else {
        Some(Timing::measure(&plan, &mut |run, measured| {
            let m = &run.spec.model;
            match measured {
                None => eprint!(
                    "timing d_model {} n_layer {} (batch {})... ",
                    m.d_model, m.n_layer, run.spec.batch_size
                ),
                Some(tokens_per_second) => eprintln!("{tokens_per_second:.0} tokens/s"),
            }
        })?)
    };
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
    runs_table(&mut out, &plan, timing.as_ref());
    out.push('\n');
    notes(&mut out, &plan, timing.as_ref(), jobs);
    emit(&out)
}
