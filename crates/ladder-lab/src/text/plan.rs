//! `ladder plan`: every run of a plan (shape, counts, D, C, D/N, learning rate and
//! estimated time) and the notes under the table.

use ladder_sweep::Plan;

use super::line;
use crate::{duration, Timing};

/// The plan as `ladder plan` prints it; the wall time assumes `jobs` parallel jobs.
pub fn plan_text(plan: &Plan, timing: Option<&Timing>, jobs: usize) -> String {
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
    runs_table(&mut out, plan, timing);
    out.push('\n');
    notes(&mut out, plan, timing, jobs);
    out
}

/// The table of runs: shape, counts, D, C, D/N, learning rate, warmup steps and
/// estimated time.
fn runs_table(out: &mut String, plan: &Plan, timing: Option<&Timing>) {
    line(
        out,
        format!(
            "{:<26} {:>5} {:>3} {:>3} {:>10} {:>10} {:>11} {:>10} {:>7} {:>9} {:>7} {:>12}",
            "id",
            "d",
            "L",
            "H",
            "N_total",
            "N_nonemb",
            "D",
            "C=6ND",
            "D/N",
            "lr",
            "warmup",
            "est. time"
        ),
    );
    for (i, r) in plan.runs.iter().enumerate() {
        let m = &r.spec.model;
        line(
            out,
            format!(
                "{:<26} {:>5} {:>3} {:>3} {:>10} {:>10} {:>11} {:>10.3e} {:>7.1} {:>9.2e} {:>7} {:>12}",
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
                r.spec.warmup_steps,
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
                "estimated wall time: {} on {jobs} parallel jobs (run times from about 0.3 s \
                 of timed steps of each shape on this machine, scheduled largest first as `ladder run` \
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
