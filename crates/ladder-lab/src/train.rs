//! Training a plan: which devices and how many parallel jobs, the threads each job
//! gets, what every run file records about the code, and the sweep itself. The caller
//! shows progress through the observer it passes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use candle_core::Device;
use ladder_model::Precision;
use ladder_sweep::{
    jobs_sharing_cores, pending_runs, run_sweep, threads_per_job, units, Deadline, DeviceChoice,
    ExtraObserver, Plan, PlannedRun, RunContext, SweepOptions, SweepOutcome,
};

use crate::{LabError, Timing};

/// Where and how widely to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainOptions {
    /// CPU or which GPUs.
    pub device: DeviceChoice,
    /// Parallel jobs (default: one per core on the CPU, one per GPU).
    pub jobs: Option<usize>,
    /// Rebuild `sweep.h5` when done (not when other processes train the same sweep).
    pub merge: bool,
    /// Start no unit this long after training starts; the rest wait for a rerun.
    pub stop_after: Option<std::time::Duration>,
    /// Start only units expected to end this long after the session starts to run (the
    /// shapes left timed first, as `ladder plan` times them); the rest wait for a rerun.
    pub finish_within: Option<std::time::Duration>,
    /// Jobs sharing this machine's cores, counting other processes' (`--only` units run
    /// side by side); default, or when fewer, this process's jobs. It sets the threads
    /// each job gets, and so the kernels' summation order.
    pub jobs_sharing_cores: Option<usize>,
}

/// A plan about to train: its devices (one per job) and the runs left to train, with
/// what the user should know first.
pub struct Session<'p> {
    /// The plan.
    pub plan: &'p Plan,
    /// One entry per parallel job.
    pub devices: Vec<Device>,
    /// The runs not yet trained.
    pub pending: Vec<&'p PlannedRun>,
    /// Warnings: what planning left out, a CPU run in bf16.
    pub warnings: Vec<String>,
    merge: bool,
    stop_after: Option<std::time::Duration>,
    finish_within: Option<std::time::Duration>,
    jobs_sharing_cores: Option<usize>,
}

/// `jobs`, checked, or the number of cores.
pub fn jobs_or_cores(jobs: Option<usize>) -> Result<usize, LabError> {
    match jobs {
        Some(0) => Err(LabError::Input("--jobs: must be at least 1".into())),
        Some(j) => Ok(j),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// candle's matmuls take their thread count from RAYON_NUM_THREADS: give each of `jobs`
/// jobs its share of the cores, unless the user chose. Call while no training runs; a
/// later call (lab 3's target after its ladder) sets it again for its own jobs.
pub fn share_threads(jobs: usize) {
    static USER_CHOSE: OnceLock<bool> = OnceLock::new();
    if !*USER_CHOSE.get_or_init(|| std::env::var_os("RAYON_NUM_THREADS").is_some()) {
        std::env::set_var("RAYON_NUM_THREADS", threads_per_job(jobs).to_string());
    }
}

impl<'p> Session<'p> {
    /// Prepares `plan` to train into `out` as `options` ask: no more jobs than the plan
    /// has units, so that the cores a job would leave idle go to the others (lab 3's
    /// lone target run). The cap counts every unit, not the ones left to train: the
    /// kernels' summation order follows a job's thread count, so a sweep resumed with one
    /// run left must train it on the threads the whole plan gave it, or that run's losses
    /// would differ from an uninterrupted sweep's.
    pub fn new(plan: &'p Plan, out: &Path, options: TrainOptions) -> Result<Self, LabError> {
        jobs_or_cores(options.jobs)?;
        let mut devices = options
            .device
            .devices(options.jobs)
            .map_err(|e| LabError::Input(format!("--device {}: {e}", options.device)))?;
        devices.truncate(units(plan).len().max(1));
        share_threads(jobs_sharing_cores(
            options.jobs_sharing_cores,
            devices.len(),
        ));
        let mut warnings = plan.warnings.clone();
        let bf16 = plan
            .runs
            .iter()
            .any(|r| r.spec.precision == Precision::Bf16);
        if bf16 && options.device == DeviceChoice::Cpu {
            warnings.push(
                "train.precision = \"bf16\" on the CPU: candle has no CPU bf16 matmul (it \
                 widens to f32), so this is slower than f32 and only shows bf16's rounding; \
                 bf16 is for --device cuda"
                    .into(),
            );
        }
        Ok(Self {
            plan,
            devices,
            pending: pending_runs(plan, out),
            warnings,
            merge: options.merge,
            stop_after: options.stop_after,
            finish_within: options.finish_within,
            jobs_sharing_cores: options.jobs_sharing_cores,
        })
    }

    /// Trains every pending run into `out` (or, with a `stop_after`, those whose units
    /// start within it; with a `finish_within`, those whose units are expected to end
    /// within it), each also reporting to the observer `extra` makes for it.
    pub fn run(&self, out: &Path, extra: ExtraObserver) -> Result<SweepOutcome, LabError> {
        let now = std::time::Instant::now();
        let deadline = match self.finish_within {
            Some(within) => Some(Deadline {
                at: now + within,
                run_seconds: self.pending_seconds()?,
            }),
            None => None,
        };
        let options = SweepOptions {
            merge: self.merge,
            stop_starting_at: self.stop_after.map(|d| now + d),
            deadline,
            jobs_sharing_cores: self.jobs_sharing_cores,
        };
        let ctx = RunContext {
            git_commit: git_commit(),
            versions: format!(
                "ladder {}, {}, cpu matmul {}",
                env!("CARGO_PKG_VERSION"),
                env!("LADDER_DEP_VERSIONS"),
                ladder_model::kernels::cpu_matmul_isa()
            ),
        };
        Ok(run_sweep(
            self.plan,
            out,
            &self.devices,
            &ctx,
            extra,
            options,
        )?)
    }

    /// Estimated seconds of each pending run, by id: its shape's steps timed as this
    /// session trains it, one copy per job side by side, each on its job's threads. With
    /// `--only U --jobs J` that is one copy on 1/J of the cores: the other processes, if
    /// they train, slow it as they will slow the unit, and are not timed twice (copied as
    /// well, 3 jobs on 2 cores timed a unit started beside one: up to 1.5 times too long).
    fn pending_seconds(&self) -> Result<HashMap<String, f64>, LabError> {
        let sharing = jobs_sharing_cores(self.jobs_sharing_cores, self.devices.len());
        let seconds = Timing::measure_runs(
            &self.pending,
            self.plan.eval_tokens,
            &self.devices,
            sharing,
            &mut |_, _| {},
        )?;
        Ok(self
            .pending
            .iter()
            .zip(seconds)
            .map(|(run, s)| (run.id.clone(), s))
            .collect())
    }
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
