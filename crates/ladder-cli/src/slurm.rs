//! `ladder slurm CONFIG --out DIR`: a Slurm job array with one task per unit of work
//! and a merge job after it, written as scripts (ladder-lab's `SlurmJob`), and
//! submitted with `--submit`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{anyhow, Context};
use ladder_lab::{load_plan_in, SlurmJob};
use ladder_sweep::DeviceChoice;

use crate::exit::{emit, line, Failure, ResultExt};

/// Arguments of `ladder slurm`.
#[derive(Debug, clap::Args)]
pub struct SlurmArgs {
    /// Sweep config (TOML).
    pub config: PathBuf,
    /// The sweep directory the tasks write to (on a file system every node sees).
    #[arg(long)]
    pub out: PathBuf,
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// GPUs per task; with any, the tasks train with `--device cuda`.
    #[arg(long, default_value_t = 0)]
    pub gpus_per_task: u32,
    /// CPU cores per task; the task's training threads follow it.
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: u32,
    /// Time limit per task, in Slurm's format (e.g. 02:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// Tasks running at once (the array's `%K`).
    #[arg(long)]
    pub array_parallelism: Option<u32>,
    /// Submit the array and the merge job with sbatch.
    #[arg(long)]
    pub submit: bool,
}

pub(crate) fn slurm(args: &SlurmArgs) -> Result<(), Failure> {
    let job = SlurmJob {
        partition: args.partition.clone(),
        gpus_per_task: args.gpus_per_task,
        cpus_per_task: args.cpus_per_task,
        time: args.time.clone(),
        array_parallelism: args.array_parallelism,
    };
    // A `[design]` already resolved in the sweep directory (by `ladder plan --out` or an
    // earlier `slurm`) is kept; otherwise it is resolved here, once, and stored there by
    // `write`, so that every array task trains the same design: timed on the device the
    // tasks train on, so GPU tasks want a GPU here or a design planned on one.
    let device = if args.gpus_per_task > 0 {
        DeviceChoice::Cuda(None)
    } else {
        DeviceChoice::Cpu
    };
    let (plan, search) = load_plan_in(&args.config, Some(&args.out), device, &mut |step| {
        eprintln!("{step}...")
    })?;
    if let Some(search) = &search {
        eprint!("{search}");
    }
    let exe = std::env::current_exe()
        .context("cannot find the ladder binary")
        .runtime()?;
    let scripts = job.write(&plan, &exe, &args.config, &args.out)?;
    let (dir, submit) = (scripts.dir.display(), scripts.submit.display());
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "wrote {dir}/sweep.sbatch ({} array tasks, one per unit), {dir}/merge.sbatch \
             and {dir}/submit.sh",
            scripts.tasks
        ),
    );
    if !args.submit {
        line(
            &mut out,
            format!("submit with: bash {submit}   (then `ladder status {dir}`)"),
        );
        return emit(&out);
    }
    let status = Command::new("bash")
        .arg(&scripts.submit)
        .status()
        .with_context(|| format!("cannot run {submit}"))
        .runtime()?;
    if !status.success() {
        return Err(Failure::Runtime(anyhow!(
            "sbatch failed ({status}); the scripts are in {dir}: check the partition and \
             limits, then run {submit}"
        )));
    }
    emit(&out)
}
