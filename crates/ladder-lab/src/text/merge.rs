//! `ladder merge`: how many runs sweep.h5 now holds, and what is left out.

use std::path::Path;

use ladder_store::Merged;
use ladder_sweep::{RunState, RunStatus};

use super::line;

/// What the merge into `dir/sweep.h5` did, and how many planned runs (`statuses`, when
/// the directory's status could be read) are not finished.
pub fn merge_text(merged: &Merged, statuses: Option<&[RunStatus]>, dir: &Path) -> String {
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "merged {} runs into {}",
            merged.runs,
            dir.join("sweep.h5").display()
        ),
    );
    if merged.kept > 0 {
        line(
            &mut out,
            format!(
                "kept {} of them from the previous sweep.h5, whose run files runs/ does not \
                 hold (`ladder merge --force` drops them)",
                merged.kept
            ),
        );
    }
    if !merged.unfinished.is_empty() {
        line(
            &mut out,
            format!(
                "left out {} runs still in progress or interrupted: {}",
                merged.unfinished.len(),
                merged.unfinished.join(", ")
            ),
        );
    }
    if let Some(runs) = statuses {
        let open = runs
            .iter()
            .filter(|r| r.state != RunState::Finished)
            .count();
        if open > 0 {
            line(
                &mut out,
                format!(
                    "{open} of {} planned runs are not finished: `ladder status {}` lists them",
                    runs.len(),
                    dir.display()
                ),
            );
        }
    }
    out
}
