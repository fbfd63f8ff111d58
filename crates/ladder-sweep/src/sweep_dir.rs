//! The layout of a sweep directory, as every process that trains into it sees it:
//!
//! - `config.toml`: the sweep's config, written by the first process and checked by
//!   every later one;
//! - `units.tsv`: the plan's units of work and their runs (`index`, `unit`, `run`), so
//!   that `ladder status` and `ladder merge` know what is missing without the data;
//! - `runs/<id>.h5` finished runs, `runs/<id>.h5.tmp` runs in progress (or killed), and
//!   `runs/<id>.failed` the error of a run that failed;
//! - `sweep.h5`, merged from the finished runs (and kept when `runs/` is not: the
//!   repository commits a sweep directory without its run files).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use ladder_store::{finished_path, read_runs, tmp_path, Status};

use crate::{units, Plan, SweepError};

/// The file listing the plan's units.
pub const UNITS_FILE: &str = "units.tsv";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError {
    let path = path.to_path_buf();
    move |source| SweepError::Io { path, source }
}

/// Writes `dir/name` through a file of this process's own and a rename, so that
/// processes writing the same file at once never see it half written.
fn write_atomic(dir: &Path, name: &str, text: &str) -> Result<(), SweepError> {
    let tmp = dir.join(format!("{name}.tmp.{}", std::process::id()));
    if let Err(e) = std::fs::write(&tmp, text) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&tmp)(e));
    }
    let path = dir.join(name);
    std::fs::rename(&tmp, &path).map_err(io(&path))
}

/// Claims `dir` for `plan`: writes `config.toml` and `units.tsv` if absent, and checks
/// that an existing `config.toml` is the same config. Safe when several processes
/// claim the same directory at once.
pub fn claim_dir(plan: &Plan, dir: &Path) -> Result<(), SweepError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join("config.toml");
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing == plan.config_text => {}
        Ok(_) => {
            return Err(SweepError::ConfigMismatch {
                dir: dir.to_path_buf(),
                found: path,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_atomic(dir, "config.toml", &plan.config_text)?;
        }
        Err(e) => return Err(io(&path)(e)),
    }
    if !dir.join(UNITS_FILE).exists() {
        let mut text = String::from("index\tunit\trun\n");
        for (i, unit) in units(plan).iter().enumerate() {
            for run in &unit.runs {
                text.push_str(&format!("{i}\t{}\t{}\n", unit.name, run.id));
            }
        }
        write_atomic(dir, UNITS_FILE, &text)?;
    }
    Ok(())
}

/// `DIR/runs/<id>.failed`: why a run failed, until it is tried again.
pub fn failed_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("runs").join(format!("{id}.failed"))
}

/// Records `message` as the failure of each run in `ids` that did not finish. Best
/// effort: the failure is reported anyway.
pub(crate) fn mark_failed<'a>(dir: &Path, ids: impl IntoIterator<Item = &'a str>, message: &str) {
    for id in ids {
        if !finished_path(dir, id).exists() {
            let _ = std::fs::write(failed_path(dir, id), format!("{message}\n"));
        }
    }
}

/// Forgets earlier failures of the runs in `ids`, which are being tried again.
pub(crate) fn clear_failed<'a>(dir: &Path, ids: impl IntoIterator<Item = &'a str>) {
    for id in ids {
        let _ = std::fs::remove_file(failed_path(dir, id));
    }
}

/// Where one run stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// `runs/<id>.h5` exists.
    Finished,
    /// Its `.h5.tmp` was written to within the stale limit.
    Running,
    /// It failed, with this error.
    Failed(String),
    /// Its `.h5.tmp` has not been written to for longer than the stale limit: the
    /// process was killed or pre-empted.
    Interrupted,
    /// Never started.
    Missing,
}

impl RunState {
    /// A short word for tables: done, running, failed, interrupted, missing.
    pub fn word(&self) -> &'static str {
        match self {
            RunState::Finished => "done",
            RunState::Running => "running",
            RunState::Failed(_) => "failed",
            RunState::Interrupted => "interrupted",
            RunState::Missing => "missing",
        }
    }
}

/// One run of a sweep directory and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    /// Index of its unit (the Slurm array task that trains it).
    pub unit_index: usize,
    /// Its unit's name.
    pub unit: String,
    /// The run id.
    pub id: String,
    /// Where it stands.
    pub state: RunState,
}

fn state(
    dir: &Path,
    id: &str,
    merged: &HashSet<String>,
    stale_after: Duration,
    now: SystemTime,
) -> RunState {
    if merged.contains(id) || finished_path(dir, id).exists() {
        return RunState::Finished;
    }
    if let Ok(message) = std::fs::read_to_string(failed_path(dir, id)) {
        return RunState::Failed(message.trim().to_string());
    }
    match std::fs::metadata(tmp_path(dir, id)).and_then(|m| m.modified()) {
        Ok(modified) => {
            let age = now.duration_since(modified).unwrap_or_default();
            if age <= stale_after {
                RunState::Running
            } else {
                RunState::Interrupted
            }
        }
        Err(_) => RunState::Missing,
    }
}

/// Every run of the sweep in `dir`, from its `units.tsv`, with where it stands. A run
/// that `sweep.h5` holds is finished, with its run file or without; a run file in
/// progress counts as running when written to within `stale_after`.
pub fn sweep_status(dir: &Path, stale_after: Duration) -> Result<Vec<RunStatus>, SweepError> {
    let path = dir.join(UNITS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| SweepError::Invalid {
        field: path.display().to_string(),
        message: format!(
            "{e}: not a sweep directory, or one without its list of units (claimed before \
             units.tsv, or copied without it); `ladder plan CONFIG --no-timing --out {}`, \
             CONFIG being the config it was trained from, writes it without training",
            dir.display()
        ),
    })?;
    let now = SystemTime::now();
    let merged: HashSet<String> = read_runs(&dir.join("sweep.h5"))
        .map(|runs| {
            runs.into_iter()
                .filter(|r| r.status != Status::Running)
                .map(|r| r.id)
                .collect()
        })
        .unwrap_or_default();
    text.lines()
        .skip(1)
        .enumerate()
        .map(|(i, row)| {
            let cols: Vec<&str> = row.split('\t').collect();
            match cols[..] {
                [index, unit, id] => Ok(RunStatus {
                    unit_index: index.parse().map_err(|_| bad_row(&path, i))?,
                    unit: unit.to_string(),
                    id: id.to_string(),
                    state: state(dir, id, &merged, stale_after, now),
                }),
                _ => Err(bad_row(&path, i)),
            }
        })
        .collect()
}

fn bad_row(path: &Path, i: usize) -> SweepError {
    SweepError::Invalid {
        field: format!("{} line {}", path.display(), i + 2),
        message: "expected `index<TAB>unit<TAB>run`; the file is written by ladder, \
                  delete it and rerun `ladder run --only 0` to rewrite it"
            .into(),
    }
}
