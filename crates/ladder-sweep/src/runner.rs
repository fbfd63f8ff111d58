//! Runs a plan: every unfinished run, in parallel, each into its own file.

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use candle_core::Device;
use ladder_store::{
    finished_path, merge_sweep, read_runs, RunLock, RunMeta, RunWriter, Status, StoreError,
};
use ladder_train::{
    device_name, train, train_branches, EvalPoint, Observer, ObserverError, RunStart, RunSummary,
    TrainError,
};

use crate::deadline::{Deadline, Overrun, UnitTiming};
use crate::sweep_dir::{claim_dir, clear_failed, mark_failed};
use crate::{Plan, PlannedRun, SweepError};

/// Facts about the environment stored with every run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunContext {
    /// Git commit of the code, when known.
    pub git_commit: Option<String>,
    /// Versions of ladder and its key crates.
    pub versions: String,
}

/// Makes an extra observer (for example a progress display) for each run.
pub type ExtraObserver<'a> = &'a (dyn Fn(&PlannedRun) -> Box<dyn Observer + Send> + Sync);

/// What a sweep did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Runs trained now.
    pub trained: usize,
    /// Runs already finished before, left untouched.
    pub skipped: usize,
    /// Runs in `sweep.h5` (0 when the sweep was not merged).
    pub in_sweep: usize,
    /// Jobs left alone because another process holds their runs' locks, and why.
    pub busy: Vec<String>,
    /// Runs not started because the sweep stopped starting jobs
    /// ([`SweepOptions::stop_starting_at`], [`SweepOptions::deadline`]): a later call
    /// trains them.
    pub left: usize,
    /// Under a deadline, every unit trained: its estimate and its time, so that a
    /// later `--finish-within` can be judged by them.
    pub timed: Vec<UnitTiming>,
    /// Under a deadline, the unit left with the shortest estimate (scaled by the
    /// overrun seen), and that estimate: the least time a later call needs to start one.
    pub shortest_left: Option<(String, Duration)>,
}

/// How a sweep trains, beside what its plan says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepOptions {
    /// Rebuild `dir/sweep.h5` when done (leave that to `ladder merge` when other processes
    /// train the same sweep).
    pub merge: bool,
    /// Start no job after this instant: jobs in progress finish, the rest are left for a
    /// later call, which resumes the sweep (a class's lab slot, a lent machine's limit).
    pub stop_starting_at: Option<Instant>,
    /// Start only jobs expected to end by then; the rest are left for a later call.
    pub deadline: Option<Deadline>,
    /// Jobs that share this machine's cores when other processes train beside this one
    /// (`ladder run --only U --jobs J`, J such processes): each job's pool gets its
    /// share of them. Default, or when fewer: the devices given.
    pub jobs_sharing_cores: Option<usize>,
}

/// What the run's file records about it.
fn run_meta(
    plan: &Plan,
    run: &PlannedRun,
    ctx: &RunContext,
    device: &Device,
    threads: usize,
) -> RunMeta {
    let (m, s) = (&run.spec.model, &run.spec);
    let d = run.tokens();
    RunMeta {
        run_id: run.id.clone(),
        sweep: plan.name.clone(),
        config: plan.config_text.clone(),
        n_total: run.params.total,
        n_nonemb: run.params.non_embedding,
        d,
        c_6nd_total: run.c_6nd_total(),
        c_6nd_nonemb: run.c_6nd_nonemb(),
        c_kaplan: run.flops.kaplan * d as f64,
        c_exact: run.flops.exact * d as f64,
        c_budget: run.budget,
        budget_rule: run.budget.and(plan.budget_rule),
        flops_per_token_kaplan: run.flops.kaplan,
        flops_per_token_exact: run.flops.exact,
        seed: s.seed,
        vocab: m.vocab as u64,
        context: m.context as u64,
        d_model: m.d_model as u64,
        n_layer: m.n_layer as u64,
        n_head: m.n_head as u64,
        d_ff: m.d_ff as u64,
        positions: format!("{:?}", m.positions).to_lowercase(),
        tied_head: m.tied_head,
        batch_size: s.batch_size as u64,
        precision: s.precision.as_str().into(),
        schedule: schedule_name(s, plan.branching),
        decay_start_step: s.decay_start(),
        steps: s.steps(),
        lr: s.lr,
        warmup_steps: s.warmup_steps,
        lr_floor: s.lr_floor,
        beta1: s.adamw.beta1,
        beta2: s.adamw.beta2,
        weight_decay: s.adamw.weight_decay,
        grad_clip: s.adamw.grad_clip.unwrap_or(0.0),
        data: plan.source.describe(),
        tokenizer: plan.data.tokenizer_name(),
        eval_tokens: plan.eval_tokens,
        git_commit: ctx.git_commit.clone().unwrap_or_else(|| "unknown".into()),
        versions: ctx.versions.clone(),
        device: device_name(device),
        threads: threads as u64,
        entropy_rate: plan.source.entropy_rate(),
    }
}

/// Jobs the cores are shared among: those `declared` (other processes' counted, see
/// [`SweepOptions::jobs_sharing_cores`]), and never fewer than this process's `jobs`.
pub fn jobs_sharing_cores(declared: Option<usize>, jobs: usize) -> usize {
    declared.map_or(jobs, |j| j.max(jobs))
}

/// Threads each of `jobs` parallel runs gets: the cores shared out evenly, at least one.
///
/// candle sizes its matmul parallelism from `RAYON_NUM_THREADS` (else the core count),
/// not from the current rayon pool; a binary should set that variable to this value
/// before starting threads. Measured here: two jobs whose matmuls asked for 2 threads
/// inside 1-thread pools ran 2.3x slower than with serial matmuls (docs/LOG.md).
pub fn threads_per_job(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `cosine`, or `wsd` with its cooldown, e.g. `wsd(cooldown=0.2, 1-sqrt, branched)`.
fn schedule_name(s: &ladder_train::RunSpec, branching: bool) -> String {
    match s.schedule {
        ladder_train::ScheduleKind::Cosine => "cosine".into(),
        ladder_train::ScheduleKind::Wsd { fraction, shape } => format!(
            "wsd(cooldown={fraction}, {}{})",
            match shape {
                ladder_train::Cooldown::Linear => "linear",
                ladder_train::Cooldown::OneMinusSqrt => "1-sqrt",
            },
            if branching { ", branched" } else { "" }
        ),
    }
}

/// A run's file writer and its extra observer, as one observer.
struct RunObservers {
    writer: RunWriter,
    extra: Box<dyn Observer + Send>,
}

impl Observer for RunObservers {
    fn on_start(&mut self, start: &RunStart) -> Result<(), ObserverError> {
        self.writer.on_start(start)?;
        self.extra.on_start(start)
    }
    fn on_step(&mut self, step: u64, tokens: u64, loss: f64) -> Result<(), ObserverError> {
        self.writer.on_step(step, tokens, loss)?;
        self.extra.on_step(step, tokens, loss)
    }
    fn on_eval(&mut self, point: &EvalPoint) -> Result<(), ObserverError> {
        self.writer.on_eval(point)?;
        self.extra.on_eval(point)
    }
    fn on_finish(&mut self, summary: &RunSummary) -> Result<(), ObserverError> {
        self.writer.on_finish(summary)?;
        self.extra.on_finish(summary)
    }
    fn on_diverged(&mut self, step: u64) -> Result<(), ObserverError> {
        self.writer.on_diverged(step)?;
        self.extra.on_diverged(step)
    }
}

/// What one worker trains at a time: a run, or the WSD branches of one model.
enum Job<'p> {
    Run(&'p PlannedRun),
    /// Every run of one stable phase, and which of them are unfinished.
    Branches(Vec<&'p PlannedRun>, Vec<bool>),
}

impl<'p> Job<'p> {
    /// The runs the job trains.
    fn runs(&self) -> impl Iterator<Item = &'p PlannedRun> + '_ {
        let all: &[&'p PlannedRun] = match self {
            Job::Run(r) => std::slice::from_ref(r),
            Job::Branches(runs, _) => runs,
        };
        all.iter().copied()
    }

    /// Runs the job will train (a branch group's finished branches are not retrained).
    fn pending(&self) -> usize {
        match self {
            Job::Run(_) => 1,
            Job::Branches(_, pending) => pending.iter().filter(|&&p| p).count(),
        }
    }

    /// FLOPs the job will spend: a branch group trains its stable phase once.
    fn cost(&self) -> f64 {
        match self {
            Job::Run(r) => r.cost(),
            Job::Branches(runs, pending) => branch_cost(runs, pending),
        }
    }

    /// Its unit's name, as `units.tsv` lists it.
    fn name(&self) -> String {
        match self {
            Job::Run(r) => r.id.clone(),
            Job::Branches(runs, _) => runs
                .first()
                .map(|r| crate::units::group_name(r))
                .unwrap_or_default(),
        }
    }
}

/// FLOPs of training the `pending` branches of one stable phase: the stable steps up to
/// the last pending cooldown, once, plus each pending cooldown.
pub(crate) fn branch_cost(runs: &[&PlannedRun], pending: &[bool]) -> f64 {
    let per_step = |r: &PlannedRun| r.flops.exact * r.spec.tokens_per_step() as f64;
    let todo = || {
        runs.iter()
            .zip(pending)
            .filter(|(_, &p)| p)
            .map(|(r, _)| *r)
    };
    let stable = todo().map(|r| r.spec.decay_start()).max().unwrap_or(0);
    let cooldowns: u64 = todo().map(|r| r.spec.steps() - r.spec.decay_start()).sum();
    runs.first()
        .map_or(0.0, |r| per_step(r) * (stable + cooldowns) as f64)
}

/// The runs of `plan` that `dir/sweep.h5` already holds, trained from the plan's config.
/// A results directory kept without its `runs/` (as the repository commits them) is
/// then refitted, not retrained.
fn in_sweep_file(plan: &Plan, dir: &Path) -> HashSet<String> {
    let Ok(runs) = read_runs(&dir.join("sweep.h5")) else {
        return HashSet::new();
    };
    runs.into_iter()
        .filter(|r| r.status != Status::Running && r.meta.config == plan.config_text)
        .map(|r| r.id)
        .collect()
}

/// Whether run `id` is trained: its finished file, or its record in `sweep.h5`.
fn is_done(dir: &Path, id: &str, merged: &HashSet<String>) -> bool {
    merged.contains(id) || finished_path(dir, id).exists()
}

/// The runs of `plan` still to train in `dir`.
pub fn pending_runs<'p>(plan: &'p Plan, dir: &Path) -> Vec<&'p PlannedRun> {
    let merged = in_sweep_file(plan, dir);
    plan.runs
        .iter()
        .filter(|r| !is_done(dir, &r.id, &merged))
        .collect()
}

/// The runs of `plan` grouped into jobs: with branching, the runs that share a stable
/// phase form one job (if any of them is unfinished); otherwise each unfinished run.
fn jobs<'p>(plan: &'p Plan, dir: &Path) -> Vec<Job<'p>> {
    let merged = in_sweep_file(plan, dir);
    let unfinished = |r: &PlannedRun| !is_done(dir, &r.id, &merged);
    if !plan.branching {
        return plan
            .runs
            .iter()
            .filter(|r| unfinished(r))
            .map(Job::Run)
            .collect();
    }
    crate::units::stable_groups(plan)
        .into_iter()
        .filter_map(|g| {
            let pending: Vec<bool> = g.iter().map(|r| unfinished(r)).collect();
            pending.contains(&true).then_some(Job::Branches(g, pending))
        })
        .collect()
}

/// The observers of one run: its file and the extra one.
fn observers(
    plan: &Plan,
    run: &PlannedRun,
    dir: &Path,
    ctx: &RunContext,
    extra: ExtraObserver,
    device: &Device,
) -> Result<RunObservers, String> {
    let threads = rayon::current_num_threads();
    let meta = run_meta(plan, run, ctx, device, threads);
    let writer = RunWriter::new(dir, meta).map_err(|e| format!("{}: {e}", run.id))?;
    Ok(RunObservers {
        writer,
        extra: extra(run),
    })
}

/// Trains one job on `device`; the error names the run (or the group's first run).
fn train_job(
    plan: &Plan,
    job: &Job,
    dir: &Path,
    ctx: &RunContext,
    extra: ExtraObserver,
    val: &[Vec<u32>],
    device: &Device,
) -> Result<(), String> {
    match job {
        Job::Run(run) => {
            let mut obs = observers(plan, run, dir, ctx, extra, device)?;
            match train(&run.spec, plan.source.as_ref(), val, device, &mut obs) {
                // Its file says so (status = diverged): a result, not a failure to retry.
                Ok(_) | Err(TrainError::Diverged { .. }) => Ok(()),
                Err(e) => Err(format!("{}: {e}", run.id)),
            }
        }
        Job::Branches(runs, pending) => {
            let specs: Vec<_> = runs.iter().map(|r| r.spec.clone()).collect();
            let group = crate::units::group_name(runs[0]);
            let mut make = |i: usize| -> Result<Box<dyn Observer + Send>, TrainError> {
                observers(plan, runs[i], dir, ctx, extra, device)
                    .map(|o| Box::new(o) as Box<dyn Observer + Send>)
                    .map_err(|e| TrainError::Observer(e.into()))
            };
            let states = dir.join("states").join(&group);
            train_branches(
                &specs,
                pending,
                plan.source.as_ref(),
                val,
                device,
                &states,
                &mut make,
            )
            .map(|_| ())
            .map_err(|e| format!("{group} (WSD branches): {e}"))
        }
    }
}

/// What the workers of a sweep share: the jobs left, and what went wrong.
struct Shared<'j, 'p> {
    /// Jobs not yet taken, longest first.
    queue: Mutex<VecDeque<&'j Job<'p>>>,
    /// Every failure, as a message naming the run.
    failures: Mutex<Vec<String>>,
    /// Jobs left to another process: why, and how many of their runs were pending.
    busy: Mutex<Vec<(String, usize)>>,
    /// No job starts after this instant.
    stop_starting_at: Option<Instant>,
    /// No job starts that is expected to end after this.
    deadline: Option<Deadline>,
    /// How far finished jobs ran over their estimates.
    overrun: Mutex<Overrun>,
    /// The jobs trained under the deadline, with their estimates and times.
    timed: Mutex<Vec<UnitTiming>>,
}

impl<'j, 'p> Shared<'j, 'p> {
    /// The next job to train, if one may start now: the queue's first, or with a
    /// deadline its first expected to end by it, and that job's estimate.
    fn next_job(&self) -> Option<(&'j Job<'p>, Option<f64>)> {
        if self.stop_starting_at.is_some_and(|t| Instant::now() >= t) {
            return None;
        }
        let mut queue = lock(&self.queue);
        let Some(deadline) = &self.deadline else {
            return queue.pop_front().map(|job| (job, None));
        };
        let (now, overrun) = (Instant::now(), lock(&self.overrun).factor());
        let i = queue.iter().position(|job| {
            job_seconds(deadline, job).is_some_and(|s| deadline.fits(s, overrun, now))
        })?;
        let job = queue.remove(i)?;
        Some((job, job_seconds(deadline, job)))
    }

    /// The job left with the shortest estimate, scaled by the overrun seen.
    fn shortest_left(&self) -> Option<(String, Duration)> {
        let deadline = self.deadline.as_ref()?;
        let overrun = lock(&self.overrun).factor();
        lock(&self.queue)
            .iter()
            .filter_map(|job| Some((job.name(), job_seconds(deadline, job)? * overrun)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .and_then(|(name, s)| Some((name, Duration::try_from_secs_f64(s).ok()?)))
    }
}

/// A job's estimated seconds under `deadline`, unscaled.
fn job_seconds(deadline: &Deadline, job: &Job) -> Option<f64> {
    deadline.job_seconds(job.runs().map(|r| (r.id.as_str(), r.cost())), job.cost())
}

/// What every worker trains with.
struct Worker<'a> {
    plan: &'a Plan,
    dir: &'a Path,
    ctx: &'a RunContext,
    extra: ExtraObserver<'a>,
    val: &'a [Vec<u32>],
    /// Threads of each worker's pool.
    threads: usize,
}

impl Worker<'_> {
    /// Takes jobs from the queue until it is empty, training each on `device` in a
    /// pool of its own.
    fn work(&self, device: &Device, shared: &Shared) {
        let pool = match rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
        {
            Ok(pool) => pool,
            Err(e) => return lock(&shared.failures).push(format!("cannot start a worker: {e}")),
        };
        pool.install(|| loop {
            // The guard must drop before training: in `while let` it would live through
            // the loop body and serialise the jobs.
            let next = shared.next_job();
            let Some((job, estimate)) = next else { break };
            let started = Instant::now();
            let trained = self.run_job(job, device, shared);
            let Some(estimate) = estimate.filter(|_| trained) else {
                continue;
            };
            let took = started.elapsed();
            lock(&shared.overrun).record(estimate, took);
            lock(&shared.timed).push(UnitTiming {
                unit: job.name(),
                estimated: Duration::try_from_secs_f64(estimate).unwrap_or(Duration::MAX),
                took,
            });
        });
    }

    /// Trains one job holding every run's lock, and says whether it did; a run another
    /// process is training is left to it.
    fn run_job(&self, job: &Job, device: &Device, shared: &Shared) -> bool {
        let ids = || job.runs().map(|r| r.id.as_str());
        let locks: Result<Vec<RunLock>, StoreError> =
            ids().map(|id| RunLock::acquire(self.dir, id)).collect();
        let _locks = match locks {
            Ok(locks) => locks,
            Err(e @ StoreError::Busy { .. }) => {
                lock(&shared.busy).push((e.to_string(), job.pending()));
                return false;
            }
            Err(e) => {
                lock(&shared.failures).push(e.to_string());
                return false;
            }
        };
        clear_failed(self.dir, ids());
        let (plan, dir, ctx, extra, val) = (self.plan, self.dir, self.ctx, self.extra, self.val);
        if let Err(e) = train_job(plan, job, dir, ctx, extra, val, device) {
            mark_failed(dir, ids(), &e);
            lock(&shared.failures).push(e);
        }
        true
    }
}

/// Trains every run of `plan` not yet finished under `dir`, one job per entry of
/// `devices` (the CPU repeated, or one per GPU), until `options` say to stop starting
/// jobs, then, with `options.merge`, rebuilds `dir/sweep.h5` from what finished.
/// Finished runs are never retrained or rewritten; runs interrupted earlier restart from
/// scratch. A failing run does not stop the others.
pub fn run_sweep(
    plan: &Plan,
    dir: &Path,
    devices: &[Device],
    ctx: &RunContext,
    extra: ExtraObserver,
    options: SweepOptions,
) -> Result<SweepOutcome, SweepError> {
    claim_dir(plan, dir)?;
    let context = plan.runs.first().map_or(1, |r| r.spec.model.context);
    let val = plan
        .source
        .validation_sequences(context, plan.eval_tokens)?;
    // Longest runs first (by FLOPs), each worker taking the next from a shared queue:
    // the classic LPT rule keeps the makespan close to the total work / jobs.
    let pending = pending_runs(plan, dir).len();
    let mut jobs = jobs(plan, dir);
    jobs.sort_by(|a, b| b.cost().total_cmp(&a.cost()));
    let shared = Shared {
        queue: Mutex::new(jobs.iter().collect()),
        failures: Mutex::new(Vec::new()),
        busy: Mutex::new(Vec::new()),
        stop_starting_at: options.stop_starting_at,
        deadline: options.deadline,
        overrun: Mutex::new(Overrun::default()),
        timed: Mutex::new(Vec::new()),
    };
    // One OS thread per job, each with its own rayon pool for candle's kernels, so that a
    // run never runs nested inside another's matmul and the cores are shared out evenly.
    let cpu = [Device::Cpu];
    let devices = if devices.is_empty() {
        &cpu[..]
    } else {
        devices
    };
    let worker = Worker {
        plan,
        dir,
        ctx,
        extra,
        val: &val,
        threads: threads_per_job(jobs_sharing_cores(
            options.jobs_sharing_cores,
            devices.len(),
        )),
    };
    std::thread::scope(|scope| {
        for device in devices {
            let (worker, shared) = (&worker, &shared);
            scope.spawn(move || worker.work(device, shared));
        }
    });
    let shortest_left = shared.shortest_left();
    let Shared {
        queue,
        failures,
        busy,
        timed,
        ..
    } = shared;
    let left: usize = queue
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|job| job.pending())
        .sum();
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    let busy = busy.into_inner().unwrap_or_else(|e| e.into_inner());
    let timed = timed.into_inner().unwrap_or_else(|e| e.into_inner());
    // Merge what finished even when runs failed; the runs' failure is the one to report.
    // A sweep.h5 that already holds every run, with nothing trained now, stays as it is.
    let complete = pending == 0 && in_sweep_file(plan, dir).len() == plan.runs.len();
    let merged = (options.merge && !complete).then(|| merge_sweep(dir, &plan.config_text, false));
    if let Some(first) = failures.first() {
        return Err(SweepError::RunsFailed {
            failed: failures.len(),
            total: plan.runs.len(),
            first: first.clone(),
        });
    }
    Ok(SweepOutcome {
        trained: pending - left - busy.iter().map(|(_, n)| n).sum::<usize>(),
        skipped: plan.runs.len() - pending,
        busy: busy.into_iter().map(|(why, _)| why).collect(),
        left,
        in_sweep: match merged.transpose()? {
            Some(m) => m.runs,
            None if complete => plan.runs.len(),
            None => 0,
        },
        timed,
        shortest_left,
    })
}
