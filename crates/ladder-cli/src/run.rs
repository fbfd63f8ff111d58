//! `ladder run CONFIG [--out DIR] [--jobs J] [--device cpu|cuda|cuda:N]`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ladder_model::Precision;
use ladder_sweep::{
    claim_dir, pending_runs, pending_units, run_sweep, threads_per_job, DeviceChoice, Plan,
    RunContext, SweepError, SweepOutcome,
};

use crate::exit::{emit, Failure};
use ladder_fit::CsvOptions;

use crate::fit::{fit_and_report, read_dataset, FitOptions};
use crate::plan::load;
use crate::progress::Progress;

/// Arguments of `ladder run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Sweep config (TOML).
    pub config: PathBuf,
    /// Output directory (default: results/<sweep name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs trained in parallel (default: one single-threaded run per core on the CPU,
    /// one run per GPU with CUDA).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where to train: cpu, cuda (every visible GPU, one run each) or cuda:N. CUDA needs
    /// a build with `--features cuda`.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Train one unit only: its index (a Slurm array task id), its name, or one of its
    /// runs' ids; a unit is a run, or with WSD branching every run of one model.
    /// sweep.h5 is left to `ladder merge DIR`, so that many such processes can share DIR.
    #[arg(long)]
    pub only: Option<String>,
    /// How the sweep is fitted when it finishes.
    #[command(flatten)]
    pub fit: FitOptions,
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

/// `--jobs`, checked, or the number of cores.
pub(crate) fn jobs_or_cores(jobs: Option<usize>) -> Result<usize, Failure> {
    match jobs {
        Some(0) => Err(Failure::Input(anyhow::anyhow!(
            "--jobs: must be at least 1"
        ))),
        Some(j) => Ok(j),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// candle's matmuls take their thread count from RAYON_NUM_THREADS: give each of `jobs`
/// jobs its share of the cores, unless the user chose. Call while no training runs; a
/// later call (lab 3's target after its ladder) sets it again for its own jobs.
pub(crate) fn share_threads(jobs: usize) {
    static USER_CHOSE: OnceLock<bool> = OnceLock::new();
    if !*USER_CHOSE.get_or_init(|| std::env::var_os("RAYON_NUM_THREADS").is_some()) {
        std::env::set_var("RAYON_NUM_THREADS", threads_per_job(jobs).to_string());
    }
}

/// A sweep's error as a failure: a directory of another config is bad input (exit 2).
pub(crate) fn sweep_failure(e: SweepError) -> Failure {
    match e {
        e @ (SweepError::ConfigMismatch { .. } | SweepError::Invalid { .. }) => {
            Failure::Input(e.into())
        }
        e => Failure::Runtime(e.into()),
    }
}

/// Trains every unfinished run of `plan` into `out` on `device` with `jobs_arg`
/// parallel jobs, with progress display; shared by `run` and `tune`.
pub(crate) fn train_plan(
    plan: &Plan,
    out: &Path,
    device: DeviceChoice,
    jobs_arg: Option<usize>,
    merge: bool,
) -> Result<SweepOutcome, Failure> {
    jobs_or_cores(jobs_arg)?;
    let mut devices = device
        .devices(jobs_arg)
        .map_err(|e| Failure::Input(anyhow::anyhow!("--device {}: {e}", device)))?;
    // No more jobs than units left to train, so that the cores a job would leave idle go
    // to the others (lab 3's lone target run, a resumed sweep's last runs).
    devices.truncate(pending_units(plan, out).max(1));
    let jobs = devices.len();
    share_threads(jobs);
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    let bf16 = plan
        .runs
        .iter()
        .any(|r| r.spec.precision == Precision::Bf16);
    if bf16 && device == DeviceChoice::Cpu {
        eprintln!(
            "warning: train.precision = \"bf16\" on the CPU: candle has no CPU bf16 matmul (it \
             widens to f32), so this is slower than f32 and only shows bf16's rounding; \
             bf16 is for --device cuda"
        );
    }
    let pending = pending_runs(plan, out);
    eprintln!(
        "sweep {}: {} runs, {} to train, {} jobs, output {}",
        plan.name,
        plan.runs.len(),
        pending.len(),
        jobs,
        out.display()
    );
    let progress = Progress::new(&pending);
    let ctx = RunContext {
        git_commit: git_commit(),
        versions: format!(
            "ladder {}, {}, cpu matmul {}",
            env!("CARGO_PKG_VERSION"),
            env!("LADDER_DEP_VERSIONS"),
            ladder_model::kernels::cpu_matmul_isa()
        ),
    };
    let outcome = run_sweep(
        plan,
        out,
        &devices,
        &ctx,
        &|run| progress.observer(run),
        merge,
    )
    .map_err(sweep_failure)?;
    progress.finish();
    for b in &outcome.busy {
        eprintln!("warning: skipped: {b}");
    }
    Ok(outcome)
}

pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let plan = load(&args.config)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
    if let Some(selector) = &args.only {
        // The whole plan claims the directory, so that units.tsv lists every unit.
        claim_dir(&plan, &out).map_err(sweep_failure)?;
        let plan = plan.only(selector).map_err(|e| Failure::Input(e.into()))?;
        // One unit is one job: it gets every core (or its one GPU).
        let outcome = train_plan(&plan, &out, args.device, args.jobs.or(Some(1)), false)?;
        return emit(&format!(
            "trained {} runs, skipped {} finished ({}); merge with `ladder merge {}`\n",
            outcome.trained,
            outcome.skipped,
            plan.runs
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            out.display()
        ));
    }
    let outcome = train_plan(&plan, &out, args.device, args.jobs, true)?;
    let sweep = out.join("sweep.h5");
    emit(&format!(
        "trained {} runs, skipped {} finished; {} runs in {}\n",
        outcome.trained,
        outcome.skipped,
        outcome.in_sweep,
        sweep.display()
    ))?;
    let data = read_dataset(&sweep, &args.fit, &CsvOptions::default())?;
    let points = &data.points;
    if points.len() >= 5 {
        emit("\n")?;
        fit_and_report(&data, &args.fit, Some(&out.join("fit.json")))?;
    } else {
        emit(&format!(
            "no fit: the 5-parameter law needs at least 5 finished runs, this sweep has {}\n",
            points.len()
        ))?;
    }
    Ok(())
}
