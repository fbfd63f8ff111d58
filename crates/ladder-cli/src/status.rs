//! `ladder status DIR`: which runs of a sweep directory are done, running, failed,
//! interrupted or missing, and which array tasks a rerun must redo.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use ladder_sweep::{sweep_status, RunState};

use crate::exit::{emit, line, Failure};
use crate::merge::require_sweep_dir;

/// Arguments of `ladder status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The sweep directory (the --out of `ladder run`).
    pub dir: PathBuf,
    /// Minutes without a write after which a run in progress counts as interrupted.
    #[arg(long, default_value_t = 10.0)]
    pub stale_minutes: f64,
}

/// Sorted indices as Slurm array ranges: `0-2,5,7-8`.
pub(crate) fn ranges(indices: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        while i + 1 < indices.len() && indices[i + 1] == indices[i] + 1 {
            i += 1;
        }
        parts.push(if indices[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", indices[i])
        });
        i += 1;
    }
    parts.join(",")
}

pub(crate) fn status(args: &StatusArgs) -> Result<(), Failure> {
    require_sweep_dir(&args.dir)?;
    if !(args.stale_minutes.is_finite() && args.stale_minutes > 0.0) {
        return Err(Failure::Input(anyhow!(
            "--stale-minutes: {} must be a number of minutes > 0",
            args.stale_minutes
        )));
    }
    let stale = Duration::from_secs_f64(args.stale_minutes * 60.0);
    let runs = sweep_status(&args.dir, stale).map_err(|e| Failure::Input(e.into()))?;
    // With WSD branching a task trains every run of one model: name the model too.
    let grouped = runs.iter().any(|r| r.unit != r.id);
    let unit = |name: &str| {
        if grouped {
            format!("{name:<14} ")
        } else {
            String::new()
        }
    };
    let mut out = String::new();
    line(
        &mut out,
        format!("{:>5}  {}{:<28} {}", "task", unit("unit"), "run", "state"),
    );
    for r in &runs {
        let why = match &r.state {
            RunState::Failed(message) => format!(": {message}"),
            _ => String::new(),
        };
        line(
            &mut out,
            format!(
                "{:>5}  {}{:<28} {}{why}",
                r.unit_index,
                unit(&r.unit),
                r.id,
                r.state.word()
            ),
        );
    }
    let count = |word: &str| runs.iter().filter(|r| r.state.word() == word).count();
    line(
        &mut out,
        format!(
            "{} runs: {} done, {} running, {} failed, {} interrupted, {} missing",
            runs.len(),
            count("done"),
            count("running"),
            count("failed"),
            count("interrupted"),
            count("missing")
        ),
    );
    let mut todo: Vec<usize> = runs
        .iter()
        .filter(|r| !matches!(r.state, RunState::Finished | RunState::Running))
        .map(|r| r.unit_index)
        .collect();
    todo.dedup();
    if todo.is_empty() {
        line(&mut out, "nothing to redo");
    } else {
        line(
            &mut out,
            format!(
                "to redo: array tasks {} (`sbatch --array={} sweep.sbatch`), or `ladder run \
                 CONFIG --out {}`; finished runs are never retrained",
                ranges(&todo),
                ranges(&todo),
                args.dir.display()
            ),
        );
    }
    emit(&out)
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn ranges_compress_runs_of_indices() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(ranges(&[3]), "3");
        assert_eq!(ranges(&[]), "");
    }
}
