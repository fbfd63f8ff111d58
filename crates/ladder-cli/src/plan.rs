//! `ladder plan CONFIG`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::Device;
use ladder_model::{GptConfig, Kernels};
use ladder_sweep::{makespan, run_seconds, Plan, SweepConfig, SweepError};
use ladder_train::{time_steps, StepTimes, TimingSpec};

use crate::exit::{emit, line, Failure, ResultExt};

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

/// Times a few training steps of every distinct shape of the plan, single-threaded per
/// job as `ladder run` trains, and returns each run's estimated seconds.
fn time_runs(plan: &Plan) -> Result<Vec<f64>, Failure> {
    let mut measured: Vec<(GptConfig, usize, StepTimes)> = Vec::new();
    let mut seconds = Vec::with_capacity(plan.runs.len());
    for run in &plan.runs {
        let (model, batch) = (run.spec.model, run.spec.batch_size);
        let known = measured.iter().find(|(m, b, _)| *m == model && *b == batch);
        let times = match known {
            Some((_, _, t)) => *t,
            None => {
                eprint!(
                    "timing d_model {} n_layer {} (batch {batch})... ",
                    model.d_model, model.n_layer
                );
                let spec = TimingSpec {
                    model,
                    batch_size: batch,
                    adamw: run.spec.adamw,
                    kernels: Kernels::Fused,
                    precision: run.spec.precision,
                    warmup: 1,
                    steps: 3,
                    seed: 0,
                };
                let t = time_steps(&spec, &Device::Cpu)
                    .context("timing a training step")
                    .runtime()?;
                eprintln!("{:.0} tokens/s", t.tokens_per_second());
                measured.push((model, batch, t));
                t
            }
        };
        seconds.push(run_seconds(run, &times, plan.eval_tokens));
    }
    Ok(seconds)
}

fn duration(s: f64) -> String {
    let s = s.round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
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
    // As `run` from an empty directory: no more jobs than units.
    let jobs = crate::run::jobs_or_cores(args.jobs)?.min(ladder_sweep::units(&plan).len().max(1));
    crate::run::share_threads(jobs);
    let seconds = if args.no_timing {
        None
    } else {
        Some(time_runs(&plan)?)
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
    line(
        &mut out,
        format!(
            "{:<26} {:>5} {:>3} {:>3} {:>10} {:>10} {:>11} {:>10} {:>7} {:>9} {:>12}",
            "id", "d", "L", "H", "N_total", "N_nonemb", "D", "C=6ND", "D/N", "lr", "est. time"
        ),
    );
    for (i, r) in plan.runs.iter().enumerate() {
        let m = &r.spec.model;
        line(
            &mut out,
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
                seconds.as_ref().map_or("-".into(), |s| duration(s[i]))
            ),
        );
    }
    out.push('\n');
    line(&mut out, "N_total counts every parameter (Chinchilla); N_nonemb leaves out embeddings and the LM head (Kaplan).");
    line(
        &mut out,
        "C = 6·N_total·D; runs also store Kaplan's and the exact FLOP counts.",
    );
    for w in &plan.warnings {
        line(&mut out, format!("warning: {w}"));
    }
    let saving = plan.branching_cost();
    if let Some((branched, separate)) = saving {
        line(
            &mut out,
            format!(
                "WSD branching: each model trains one stable phase and branches a cooldown at \
                 each D: {branched:.3e} FLOPs instead of {separate:.3e} for separate runs \
                 ({:.0}% saved).",
                100.0 * (1.0 - branched / separate)
            ),
        );
    }
    if let Some(seconds) = &seconds {
        let ratio = saving.map_or(1.0, |(b, s)| b / s);
        line(
            &mut out,
            format!(
                "estimated wall time: {} on {jobs} parallel jobs (run times from 3 timed \
                 steps of each shape on this machine, scheduled largest first as `ladder run` \
                 does; {} of training in all{})",
                duration(ratio * makespan(&plan, seconds, jobs)),
                duration(ratio * seconds.iter().sum::<f64>()),
                if saving.is_some() {
                    "; scaled by the branching saving, so approximate"
                } else {
                    ""
                }
            ),
        );
    }
    emit(&out)
}
