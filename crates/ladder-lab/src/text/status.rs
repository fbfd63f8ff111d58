//! `ladder status`: each run of a sweep directory with its array task and state, how
//! many are in each state, and which array tasks a rerun redoes.

use std::path::Path;

use ladder_sweep::{RunState, RunStatus};

use super::line;

/// The status of `runs`, of the sweep directory `dir`.
pub fn status_text(runs: &[RunStatus], dir: &Path) -> String {
    let mut out = table(runs);
    summary(&mut out, runs, dir);
    out
}

/// Sorted indices as Slurm array ranges: `0-2,5,7-8`.
fn ranges(indices: &[usize]) -> String {
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

/// One row per run: its array task, its unit (with WSD branching), its id and state.
fn table(runs: &[RunStatus]) -> String {
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
    for r in runs {
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
    out
}

/// How many runs are in each state, and which array tasks to redo.
fn summary(out: &mut String, runs: &[RunStatus], dir: &Path) {
    let count = |word: &str| runs.iter().filter(|r| r.state.word() == word).count();
    line(
        out,
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
        line(out, "nothing to redo");
    } else {
        line(
            out,
            format!(
                "to redo: array tasks {} (`sbatch --array={} sweep.sbatch`), or `ladder run \
                 CONFIG --out {}`; finished runs are never retrained",
                ranges(&todo),
                ranges(&todo),
                dir.display()
            ),
        );
    }
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
