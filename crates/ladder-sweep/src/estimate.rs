//! Wall-time estimates: measured step times per shape, the runs' steps and evaluations,
//! and the runner's own schedule (longest first, each to the next free job).

use ladder_train::StepTimes;

use crate::{Plan, PlannedRun};

/// Estimated seconds of one run whose shape trains at `times`: its steps, plus one
/// forward pass over the validation tokens per evaluation.
pub fn run_seconds(run: &PlannedRun, times: &StepTimes, eval_tokens: u64) -> f64 {
    let steps = run.spec.steps();
    let evals = steps.div_ceil(run.spec.eval_every_steps.max(1));
    steps as f64 * times.step_seconds() + evals as f64 * times.forward_seconds(eval_tokens)
}

/// The sweep's estimated wall time on `jobs` parallel jobs when run `i` takes
/// `seconds[i]`, scheduled as `run_sweep` does: by FLOPs, largest first, each run to the
/// job that frees first.
pub fn makespan(plan: &Plan, seconds: &[f64], jobs: usize) -> f64 {
    let mut order: Vec<usize> = (0..plan.runs.len()).collect();
    order.sort_by(|&a, &b| plan.runs[b].cost().total_cmp(&plan.runs[a].cost()));
    let mut free_at = vec![0.0f64; jobs.max(1)];
    for i in order {
        let (slot, _) = free_at
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &0.0));
        free_at[slot] += seconds.get(i).copied().unwrap_or(0.0);
    }
    free_at.into_iter().fold(0.0, f64::max)
}
