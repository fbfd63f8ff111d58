//! Sweep configs read and planned, and the wall time a plan will take on this machine:
//! a few timed training steps of each distinct shape, on the device `ladder run` would
//! train it on, scheduled as `ladder run` does.

use std::path::Path;

use candle_core::Device;
use ladder_model::{GptConfig, Kernels};
use ladder_sweep::{makespan, run_seconds, DeviceChoice, Plan, PlannedRun, SweepConfig};
use ladder_train::{time_steps, time_steps_after, StepTimes, TimingSpec};

use crate::LabError;

/// Reads and plans the config at `path`, resolving a `[design]` silently first, timed on
/// the CPU (see [`load_plan_in`]).
pub fn load_plan(path: &Path) -> Result<Plan, LabError> {
    Ok(load_plan_in(path, None, DeviceChoice::Cpu, &mut |_| {})?.0)
}

/// Reads and plans the config at `path`. A `[design]` without budgets is resolved first
/// ([`crate::auto::resolve_design`]): taken from `out/config.toml` when that sweep
/// directory holds a resolution of this same config (a rerun trains what the first run
/// chose, even when the config's comments or layout changed since), else searched on
/// this machine, its sizes timed on `device` (where the runs will train) unless the
/// design assumes a speed, `on_step` hearing each step. Returns the plan and, when a
/// search ran, its summary.
pub fn load_plan_in(
    path: &Path,
    out: Option<&Path>,
    device: DeviceChoice,
    on_step: &mut dyn FnMut(&str),
) -> Result<(Plan, Option<String>), LabError> {
    load_plan_at(path, out, device, on_step).map_err(|e| stored_config_hint(e, path))
}

/// [`load_plan_in`]'s work, before its errors get [`stored_config_hint`].
fn load_plan_at(
    path: &Path,
    out: Option<&Path>,
    device: DeviceChoice,
    on_step: &mut dyn FnMut(&str),
) -> Result<(Plan, Option<String>), LabError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LabError::Input(format!("cannot read config {}: {e}", path.display())))?;
    let markers =
        crate::auto::source_hashes(&text).map(|h| format!("# [design] resolved (config {h})"));
    if let Some(previous) = out
        .and_then(|dir| std::fs::read_to_string(dir.join("config.toml")).ok())
        .filter(|t| markers.iter().any(|m| t.contains(m)))
    {
        return Ok((plan_text(&previous, path)?, None));
    }
    match crate::auto::resolve_design(&text, path, device, on_step)? {
        Some(resolved) => Ok((plan_text(&resolved.text, path)?, Some(resolved.summary))),
        None => Ok((plan_text(&text, path)?, None)),
    }
}

/// `error`, with a hint when `path` is the config stored with a sweep (its directory
/// holds sweep.h5 or runs/) and the error is a file it cannot read: the stored copy's
/// relative paths were written for the config it was copied from, which lies elsewhere.
fn stored_config_hint(error: LabError, path: &Path) -> LabError {
    let dir = path.parent().unwrap_or(Path::new("."));
    let stored = path.is_file() && (dir.join("sweep.h5").is_file() || dir.join("runs").is_dir());
    if !stored || !error.is_bad_input() || !error.to_string().contains("cannot read") {
        return error;
    }
    // The causes too: the message replaces the error, whose chain would be lost.
    let message = crate::error_chain(&error);
    LabError::Input(format!(
        "{message}\n  {} is the config stored with the sweep in {}: its relative paths (the \
         corpus, [design] law) were written for the config it was copied from, usually in \
         configs/; copy it next to that one (as scripts/reproduce-lab.sh does), or run that \
         config with --out {}",
        path.display(),
        dir.display(),
        dir.display()
    ))
}

/// Plans the config `text`, read from `path` (which resolves its relative data paths).
pub fn plan_text(text: &str, path: &Path) -> Result<Plan, LabError> {
    let cfg = SweepConfig::parse(text, path)?;
    Plan::new(&cfg, text, path).map_err(|source| LabError::Config {
        path: path.to_path_buf(),
        source,
    })
}

/// Seconds each run of a plan is expected to take.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// One entry per run of the plan, in order.
    pub seconds: Vec<f64>,
}

impl Timing {
    /// Times a few training steps of every distinct shape of `plan` (each shape once) as
    /// `ladder run` trains it on `devices`, one parallel job each ([`time_shape`]);
    /// `on_shape` hears of each shape before and after it is timed (tokens per second per
    /// job).
    pub fn measure(
        plan: &Plan,
        devices: &[Device],
        on_shape: &mut dyn FnMut(&PlannedRun, Option<f64>),
    ) -> Result<Self, LabError> {
        let runs: Vec<&PlannedRun> = plan.runs.iter().collect();
        let sharing = devices.len();
        let seconds = Self::measure_runs(&runs, plan.eval_tokens, devices, sharing, on_shape)?;
        Ok(Self { seconds })
    }

    /// [`Timing::measure`] for some runs of a plan (whose evaluations cover
    /// `eval_tokens`), each job on the threads it gets when `sharing` jobs share the
    /// cores (other processes' counted, as `ladder run --only U --jobs J` declares them:
    /// those processes, if they run, are timed beside, not copied): each one's seconds,
    /// in order.
    pub fn measure_runs(
        runs: &[&PlannedRun],
        eval_tokens: u64,
        devices: &[Device],
        sharing: usize,
        on_shape: &mut dyn FnMut(&PlannedRun, Option<f64>),
    ) -> Result<Vec<f64>, LabError> {
        let mut measured: Vec<(GptConfig, usize, StepTimes)> = Vec::new();
        let mut seconds = Vec::with_capacity(runs.len());
        for &run in runs {
            let (model, batch) = (run.spec.model, run.spec.batch_size);
            let known = measured.iter().find(|(m, b, _)| *m == model && *b == batch);
            let times = match known {
                Some((_, _, t)) => *t,
                None => {
                    on_shape(run, None);
                    let t = time_shape_sharing(run, devices, sharing)?;
                    on_shape(run, Some(t.tokens_per_second()));
                    measured.push((model, batch, t));
                    t
                }
            };
            seconds.push(run_seconds(run, &times, eval_tokens));
        }
        Ok(seconds)
    }

    /// Total training seconds, and the wall time on `jobs` parallel jobs (runs
    /// scheduled largest first), each scaled by the WSD branching saving.
    pub fn totals(&self, plan: &Plan, jobs: usize) -> (f64, f64) {
        let ratio = plan.branching_cost().map_or(1.0, |(b, s)| b / s);
        (
            ratio * self.seconds.iter().sum::<f64>(),
            ratio * makespan(plan, &self.seconds, jobs),
        )
    }
}

/// The devices of `ladder run --device choice --jobs jobs`, one per parallel job: the CPU
/// `jobs` times (default one per core), or the chosen GPUs (opened here; one job each
/// unless `jobs` asks for more). The error says where to plan instead when no GPU opens.
pub fn job_devices(choice: DeviceChoice, jobs: Option<usize>) -> Result<Vec<Device>, LabError> {
    let count = crate::jobs_or_cores(jobs)?;
    if choice == DeviceChoice::Cpu {
        return Ok(vec![Device::Cpu; count]);
    }
    choice.devices(jobs).map_err(|e| {
        LabError::Input(format!(
            "cannot time the sizes on {choice}: {e}; plan where the GPU is (`ladder plan \
             CONFIG --device {choice} --out DIR` stores the design for `run` and `slurm`), or \
             give [design] flops_per_second"
        ))
    })
}

/// Training steps of `run`'s shape as `ladder run` trains it on `devices`, one parallel
/// job each (the CPU repeated, or GPUs, several jobs to a GPU where asked): a copy per
/// device side by side, each in a pool of `ladder_sweep::threads_per_job(jobs)` threads,
/// timed together over about [`TIMING_WINDOW`] after two untimed steps; their mean.
///
/// The pool is what matters (docs/LOG.md, 2026-12-04): timed from outside one, every
/// parallel op is handed to the pool's threads and waited for, which made a tiny model
/// 2.5× slow on one thread. The side-by-side copies put the other jobs' use of memory
/// and caches into the time, as in a sweep; measured, they moved the estimates by at
/// most 10% (the quickstart 55 → 61 s against 68 s trained), within the host's drift.
pub(crate) fn time_shape(run: &PlannedRun, devices: &[Device]) -> Result<StepTimes, LabError> {
    time_shape_sharing(run, devices, devices.len())
}

/// [`time_shape`], each copy on the threads of one of `sharing` jobs (at least one per
/// device).
fn time_shape_sharing(
    run: &PlannedRun,
    devices: &[Device],
    sharing: usize,
) -> Result<StepTimes, LabError> {
    let devices = match devices.len() {
        0 => &[Device::Cpu][..],
        n => &devices[..n.min(MAX_TIMED_COPIES)],
    };
    let jobs = devices.len();
    let threads = ladder_sweep::threads_per_job(sharing.max(jobs));
    let mut spec = TimingSpec {
        model: run.spec.model,
        batch_size: run.spec.batch_size,
        adamw: run.spec.adamw,
        kernels: Kernels::Fused,
        precision: run.spec.precision,
        warmup: 1,
        steps: 3,
        seed: 0,
    };
    let failed =
        |e: &dyn std::fmt::Display| LabError::Runtime(format!("timing a training step: {e}"));
    let pool = || {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| failed(&e))
    };
    // A first look sizes the measurement: three steps of a small model last a few
    // milliseconds, where start-up costs and the clock's noise can double the estimate,
    // so the timed steps span TIMING_WINDOW.
    let first = pool()?
        .install(|| time_steps(&spec, &devices[0]))
        .map_err(|e| failed(&e))?;
    spec.warmup = 2;
    spec.steps = timed_steps(&first);
    // The copies wait for each other after their warmup (a start line), so that no
    // copy's timed steps overlap another's start-up.
    let start_line = std::sync::Barrier::new(jobs);
    let copies: Vec<Result<StepTimes, LabError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .iter()
            .map(|device| {
                scope.spawn(|| {
                    pool()?
                        .install(|| {
                            time_steps_after(&spec, device, || {
                                start_line.wait();
                            })
                        })
                        .map_err(|e| failed(&e))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(failed(&"a timing thread panicked")))
            })
            .collect()
    });
    let copies = copies.into_iter().collect::<Result<Vec<_>, _>>()?;
    let n = copies.len() as f64;
    let mean = |f: fn(&StepTimes) -> f64| copies.iter().map(f).sum::<f64>() / n;
    Ok(StepTimes {
        forward: mean(|t| t.forward),
        backward: mean(|t| t.backward),
        optimiser: mean(|t| t.optimiser),
        ..copies[0]
    })
}

/// Steps to time so that they span about [`TIMING_WINDOW`], from a first look.
fn timed_steps(first: &StepTimes) -> usize {
    let steps = (TIMING_WINDOW / first.step_seconds().max(1e-6)).ceil() as usize;
    steps.clamp(3, TIMING_MAX_STEPS)
}

/// Most copies of a shape timed side by side (one per parallel job).
const MAX_TIMED_COPIES: usize = 64;

/// Seconds of training steps timed per shape, after a short first look.
const TIMING_WINDOW: f64 = 0.3;
/// At most this many timed steps per shape.
const TIMING_MAX_STEPS: usize = 200;

/// Seconds as `12 s`, `3 min 05 s` or `2 h 07 min`.
pub fn duration(s: f64) -> String {
    let s = s.round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every job's copy passes the start line and is timed: more copies than cores
    /// neither deadlock nor lose a copy, and every shape of the plan gets a time.
    #[test]
    fn shapes_are_timed_side_by_side_for_every_job() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("t.toml");
        std::fs::write(
            &config,
            "name = \"t\"\n[data]\nkind = \"markov\"\nvocab = 16\norder = 1\nsuccessors = 3\n\
             [model]\ncontext = 16\nshapes = [{ d_model = 8, n_layer = 1, n_head = 2 }, \
             { d_model = 16, n_layer = 1, n_head = 2 }]\n[tokens]\ncounts = [2048, 4096]\n\
             [train]\nbatch_size = 4\nlr = 1e-2\n[eval]\nevery_tokens = 1024\ntokens = 1024\n",
        )
        .unwrap();
        let plan = load_plan(&config).unwrap();
        let t = time_shape(&plan.runs[0], &[Device::Cpu, Device::Cpu, Device::Cpu]).unwrap();
        assert!(t.steps >= 3 && t.step_seconds() > 0.0, "{t:?}");
        assert_eq!(t.tokens_per_step, 4 * 16);
        let mut shapes = 0;
        let timing = Timing::measure(&plan, &[Device::Cpu, Device::Cpu], &mut |_, done| {
            shapes += done.is_some() as usize
        })
        .unwrap();
        assert_eq!(shapes, 2);
        assert!(timing.seconds.iter().all(|&s| s > 0.0 && s.is_finite()));
    }
}
