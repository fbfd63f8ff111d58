//! A sweep as Slurm jobs: a job array with one task per unit of work (`ladder run CONFIG
//! --out DIR --only $SLURM_ARRAY_TASK_ID`), a merge job that runs after it however its
//! tasks end (`afterany`), and the script that submits both.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ladder_sweep::{claim_dir, units, Plan};

use crate::LabError;

/// What each task asks Slurm for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmJob {
    /// Partition.
    pub partition: Option<String>,
    /// GPUs per task; with any, the tasks train with `--device cuda`.
    pub gpus_per_task: u32,
    /// CPU cores per task (at least 1); the task's training threads follow it.
    pub cpus_per_task: u32,
    /// Time limit per task, in Slurm's format.
    pub time: Option<String>,
    /// Tasks running at once (the array's `%K`, at least 1).
    pub array_parallelism: Option<u32>,
}

/// The scripts written into the sweep directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmScripts {
    /// The sweep directory, absolute.
    pub dir: PathBuf,
    /// Array tasks: one per unit of work.
    pub tasks: usize,
    /// `submit.sh`, which submits the array and then the merge job.
    pub submit: PathBuf,
}

/// A word quoted for bash.
fn quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

/// `path` made absolute against the current directory, as the nodes must see it.
fn absolute(path: &Path) -> Result<PathBuf, LabError> {
    std::path::absolute(path)
        .map_err(|e| LabError::Runtime(format!("cannot make {} absolute: {e}", path.display())))
}

impl SlurmJob {
    /// The `#SBATCH` lines both scripts share.
    fn directives(&self, job: &str, log: &Path) -> String {
        let mut s = format!(
            "#!/bin/bash\n#SBATCH --job-name={job}\n#SBATCH --output={}\n",
            log.display()
        );
        if let Some(p) = &self.partition {
            let _ = writeln!(s, "#SBATCH --partition={p}");
        }
        s
    }

    /// The array script: one `ladder run --only` per task.
    fn array(&self, plan: &Plan, exe: &Path, config: &Path, dir: &Path) -> String {
        let tasks = units(plan).len();
        let job = format!("ladder-{}", plan.name);
        let mut s = self.directives(&job, &dir.join("slurm").join("%A_%a.out"));
        let limit = self
            .array_parallelism
            .map(|k| format!("%{k}"))
            .unwrap_or_default();
        let _ = writeln!(s, "#SBATCH --array=0-{}{limit}", tasks - 1);
        let _ = writeln!(s, "#SBATCH --ntasks=1");
        let _ = writeln!(s, "#SBATCH --cpus-per-task={}", self.cpus_per_task);
        if self.gpus_per_task > 0 {
            let _ = writeln!(s, "#SBATCH --gpus-per-task={}", self.gpus_per_task);
        }
        if let Some(t) = &self.time {
            let _ = writeln!(s, "#SBATCH --time={t}");
        }
        let device = if self.gpus_per_task > 0 {
            " --device cuda"
        } else {
            ""
        };
        let _ = write!(
            s,
            "set -euo pipefail\n\
             # Training threads follow the cores Slurm gave this task, on any node.\n\
             export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\n\
             exec {} run {} --out {} --only \"$SLURM_ARRAY_TASK_ID\"{device}\n",
            quote(exe),
            quote(config),
            quote(dir),
        );
        s
    }

    /// The merge script, run after the array.
    fn merge(&self, plan: &Plan, exe: &Path, dir: &Path) -> String {
        let job = format!("ladder-{}-merge", plan.name);
        let mut s = self.directives(&job, &dir.join("slurm").join("merge_%j.out"));
        let _ = write!(
            s,
            "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n#SBATCH --time=00:30:00\n\
             set -euo pipefail\n\
             exec {} merge {}\n",
            quote(exe),
            quote(dir),
        );
        s
    }

    /// Writes the scripts of `plan` (read from `config`) for the sweep directory `out`,
    /// claiming it for the plan; `exe` is the ladder binary the tasks run.
    pub fn write(
        &self,
        plan: &Plan,
        exe: &Path,
        config: &Path,
        out: &Path,
    ) -> Result<SlurmScripts, LabError> {
        if self.cpus_per_task == 0 {
            return Err(LabError::Input(
                "--cpus-per-task: must be at least 1".into(),
            ));
        }
        if self.array_parallelism == Some(0) {
            return Err(LabError::Input(
                "--array-parallelism: must be at least 1".into(),
            ));
        }
        let (config, dir) = (absolute(config)?, absolute(out)?);
        claim_dir(plan, &dir)?;
        let logs = dir.join("slurm");
        std::fs::create_dir_all(&logs).map_err(|source| LabError::Write {
            path: logs.clone(),
            source,
        })?;
        let submit = format!(
            "#!/bin/bash\n\
             # Submits the array, then the merge job to run after it however its tasks end.\n\
             set -euo pipefail\n\
             cd {}\n\
             array=$(sbatch --parsable sweep.sbatch)\n\
             array=${{array%%;*}}\n\
             merge=$(sbatch --parsable --dependency=afterany:\"$array\" merge.sbatch)\n\
             echo \"array $array, merge ${{merge%%;*}}\"\n",
            quote(&dir)
        );
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| LabError::Write {
                path: path.clone(),
                source,
            })?;
            Ok::<_, LabError>(path)
        };
        write("sweep.sbatch", &self.array(plan, exe, &config, &dir))?;
        write("merge.sbatch", &self.merge(plan, exe, &dir))?;
        let submit = write("submit.sh", &submit)?;
        Ok(SlurmScripts {
            tasks: units(plan).len(),
            dir,
            submit,
        })
    }
}
