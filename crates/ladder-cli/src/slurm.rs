//! `ladder slurm CONFIG --out DIR`: a Slurm job array with one task per unit of work
//! (`ladder run CONFIG --out DIR --only $SLURM_ARRAY_TASK_ID`) and a merge job that
//! runs after it (`afterany`), written as scripts, and submitted with `--submit`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context};
use ladder_sweep::{claim_dir, units};

use crate::exit::{emit, line, Failure, ResultExt};
use crate::plan::load;
use crate::run::sweep_failure;

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

/// `path` made absolute against the current directory, as the nodes must see it.
fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path)
        .with_context(|| format!("cannot make {} absolute", path.display()))
        .runtime()
}

/// A word quoted for bash.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `#SBATCH` lines shared by both scripts.
fn common_directives(args: &SlurmArgs, job: &str, log: &Path) -> String {
    let mut s = format!(
        "#!/bin/bash\n#SBATCH --job-name={job}\n#SBATCH --output={}\n",
        log.display()
    );
    if let Some(p) = &args.partition {
        let _ = writeln!(s, "#SBATCH --partition={p}");
    }
    s
}

pub(crate) fn slurm(args: &SlurmArgs) -> Result<(), Failure> {
    if args.cpus_per_task == 0 {
        return Err(Failure::Input(anyhow!(
            "--cpus-per-task: must be at least 1"
        )));
    }
    if args.array_parallelism == Some(0) {
        return Err(Failure::Input(anyhow!(
            "--array-parallelism: must be at least 1"
        )));
    }
    let plan = load(&args.config)?;
    let tasks = units(&plan).len();
    let (config, dir) = (absolute(&args.config)?, absolute(&args.out)?);
    claim_dir(&plan, &dir).map_err(sweep_failure)?;
    let logs = dir.join("slurm");
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("cannot create {}", logs.display()))
        .runtime()?;
    let exe = std::env::current_exe()
        .context("cannot find the ladder binary")
        .runtime()?;
    let job = format!("ladder-{}", plan.name);

    let mut sweep = common_directives(args, &job, &logs.join("%A_%a.out"));
    let limit = args
        .array_parallelism
        .map(|k| format!("%{k}"))
        .unwrap_or_default();
    let _ = writeln!(sweep, "#SBATCH --array=0-{}{limit}", tasks - 1);
    let _ = writeln!(sweep, "#SBATCH --ntasks=1");
    let _ = writeln!(sweep, "#SBATCH --cpus-per-task={}", args.cpus_per_task);
    if args.gpus_per_task > 0 {
        let _ = writeln!(sweep, "#SBATCH --gpus-per-task={}", args.gpus_per_task);
    }
    if let Some(t) = &args.time {
        let _ = writeln!(sweep, "#SBATCH --time={t}");
    }
    let device = if args.gpus_per_task > 0 {
        " --device cuda"
    } else {
        ""
    };
    let _ = write!(
        sweep,
        "set -euo pipefail\n\
         # Training threads follow the cores Slurm gave this task, on any node.\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\n\
         exec {} run {} --out {} --only \"$SLURM_ARRAY_TASK_ID\"{device}\n",
        quote(&exe.to_string_lossy()),
        quote(&config.to_string_lossy()),
        quote(&dir.to_string_lossy()),
    );
    let mut merge = common_directives(args, &format!("{job}-merge"), &logs.join("merge_%j.out"));
    let _ = write!(
        merge,
        "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n#SBATCH --time=00:30:00\n\
         set -euo pipefail\n\
         exec {} merge {}\n",
        quote(&exe.to_string_lossy()),
        quote(&dir.to_string_lossy()),
    );
    let submit = format!(
        "#!/bin/bash\n\
         # Submits the array, then the merge job to run after it however its tasks end.\n\
         set -euo pipefail\n\
         cd {}\n\
         array=$(sbatch --parsable sweep.sbatch)\n\
         array=${{array%%;*}}\n\
         merge=$(sbatch --parsable --dependency=afterany:\"$array\" merge.sbatch)\n\
         echo \"array $array, merge ${{merge%%;*}}\"\n",
        quote(&dir.to_string_lossy())
    );
    let write = |name: &str, text: &str| -> Result<PathBuf, Failure> {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))
            .runtime()?;
        Ok(path)
    };
    write("sweep.sbatch", &sweep)?;
    write("merge.sbatch", &merge)?;
    let submit_path = write("submit.sh", &submit)?;
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "wrote {0}/sweep.sbatch ({tasks} array tasks, one per unit), {0}/merge.sbatch \
             and {0}/submit.sh",
            dir.display()
        ),
    );
    if args.submit {
        let status = Command::new("bash")
            .arg(&submit_path)
            .status()
            .with_context(|| format!("cannot run {}", submit_path.display()))
            .runtime()?;
        if !status.success() {
            return Err(Failure::Runtime(anyhow!(
                "sbatch failed ({status}); the scripts are in {}: check the partition and \
                 limits, then run {}",
                dir.display(),
                submit_path.display()
            )));
        }
    } else {
        line(
            &mut out,
            format!(
                "submit with: bash {}   (then `ladder status {}`)",
                submit_path.display(),
                dir.display()
            ),
        );
    }
    emit(&out)
}
