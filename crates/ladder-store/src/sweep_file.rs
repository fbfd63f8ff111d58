//! `sweep.h5`: every finished run of a sweep in one file, merged from the run files.
//!
//! A merge takes only run files that belong to the sweep: ladder's schema, a finished
//! status, the id its name says, and the sweep's own config. It refuses the whole merge
//! when any file fails those checks. A run that the sweep.h5 already there holds and
//! `runs/` no longer has (a results directory kept without its run files, as this
//! repository commits them, and resumed) is kept from sweep.h5 when it belongs by the
//! same checks, and the merge is refused when it does not: a good sweep.h5 is never
//! replaced by a worse one unless `force` drops those runs.
//! The file is written to `sweep.h5.tmp` and renamed, so a reader never sees half of it;
//! merging the same run files twice gives the same file.

use std::path::{Path, PathBuf};

use hdf5_pure::{AttrValue, FileBuilder};
use sha2::{Digest, Sha256};

use crate::{read_run, read_runs, RunRecord, Status, StoreError, SCHEMA_VERSION};

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Runs now in `sweep.h5`.
    pub runs: usize,
    /// Of those, the runs kept from the previous `sweep.h5`, which `runs/` does not hold.
    pub kept: usize,
    /// Runs still in progress (or killed) under `runs/`, left out.
    pub unfinished: Vec<String>,
}

/// The first 12 hex digits of the SHA-256 of a config's text, to name it in messages.
pub fn config_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..6])
}

/// Files under `dir/runs/` whose names end in `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, StoreError> {
    let runs_dir = dir.join("runs");
    let entries = match std::fs::read_dir(&runs_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(&runs_dir)(e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(suffix)))
        .collect();
    files.sort();
    Ok(files)
}

/// The run in a finished run file, or why it does not belong in a sweep of `config`.
pub fn check_run_file(path: &Path, config: &str) -> Result<RunRecord, String> {
    let run = read_run(path).map_err(|e| e.to_string())?;
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".h5"))
        .unwrap_or_default();
    if run.id != stem {
        return Err(format!("holds run `{}`, not `{stem}`", run.id));
    }
    belongs(&run, config)?;
    Ok(run)
}

/// Why `run` does not belong in a sweep of `config`: a schema this ladder does not read, a
/// run still in progress, or another config.
fn belongs(run: &RunRecord, config: &str) -> Result<(), String> {
    if run.schema != SCHEMA_VERSION {
        return Err(format!(
            "schema {}, this ladder reads schema {SCHEMA_VERSION}: rerun the run with \
             this version",
            run.schema
        ));
    }
    if run.status == Status::Running {
        return Err("status \"running\", not \"finished\" or \"diverged\"".into());
    }
    if run.meta.config != config {
        return Err(format!(
            "trained from config {}, this sweep's config.toml is {}: it belongs to another \
             sweep (move it out, or merge it into its own directory)",
            config_hash(&run.meta.config),
            config_hash(config)
        ));
    }
    Ok(())
}

/// Merges the finished run files in `dir/runs/` into `dir/sweep.h5`, with the runs the
/// existing sweep.h5 holds that they do not (see the module documentation). `force`
/// drops those instead.
pub fn merge_sweep(dir: &Path, config: &str, force: bool) -> Result<Merged, StoreError> {
    let refuse = |message: String| StoreError::Schema {
        path: dir.to_path_buf(),
        message,
    };
    let mut runs = Vec::new();
    let mut problems = Vec::new();
    for file in files_ending(dir, ".h5")? {
        match check_run_file(&file, config) {
            Ok(run) => runs.push(run),
            Err(why) => problems.push(format!("  {}: {why}", file.display())),
        }
    }
    if !problems.is_empty() {
        return Err(refuse(format!(
            "merge refused, sweep.h5 left as it was; {} run file(s) do not belong:\n{}",
            problems.len(),
            problems.join("\n")
        )));
    }
    let target = dir.join("sweep.h5");
    let mut kept = 0;
    if target.exists() && !force {
        // An unreadable sweep.h5 is no loss; a readable one must not lose runs.
        if let Ok(old) = read_runs(&target) {
            let mut ours = Vec::new();
            let mut why = Vec::new();
            for o in old {
                if runs.iter().any(|r| r.id == o.id) {
                    continue;
                }
                match belongs(&o, config) {
                    Ok(()) => ours.push(o),
                    Err(e) => why.push(format!("  {}: {e}", o.id)),
                }
            }
            if !why.is_empty() {
                return Err(refuse(format!(
                    "merge refused, sweep.h5 left as it was: it holds {} run(s) that runs/ \
                     does not have and that do not belong to this sweep:\n{}\npass --force \
                     to drop them (or move sweep.h5 aside to keep it)",
                    why.len(),
                    why.join("\n")
                )));
            }
            kept = ours.len();
            runs.extend(ours);
            // In the order the run files would give them.
            runs.sort_by_cached_key(|r| format!("{}.h5", r.id));
        }
    }
    write_runs(dir, config, &runs)?;
    let unfinished = files_ending(dir, ".h5.tmp")?
        .iter()
        .filter_map(|p| p.file_name()?.to_str()?.strip_suffix(".h5.tmp"))
        .map(str::to_string)
        .collect();
    Ok(Merged {
        runs: runs.len(),
        kept,
        unfinished,
    })
}

/// Writes `runs` as `dir/sweep.h5` through a temporary file and a rename.
fn write_runs(dir: &Path, config: &str, runs: &[RunRecord]) -> Result<(), StoreError> {
    let mut b = FileBuilder::new();
    b.set_attr("schema", AttrValue::I64(SCHEMA_VERSION));
    b.set_attr("kind", AttrValue::VarLenString("sweep".into()));
    b.set_attr("config", AttrValue::VarLenString(config.to_string()));
    b.set_attr("n_runs", AttrValue::I64(runs.len() as i64));
    let mut group = b.create_group("runs");
    for run in runs {
        let mut g = group.create_group(&run.id);
        for (name, value) in run.attrs() {
            g.set_attr(name, value.to_hdf5());
        }
        for (name, values) in run.curves.named() {
            if matches!(name, "step" | "tokens") {
                let ints: Vec<i64> = values.iter().map(|&v| v as i64).collect();
                g.create_dataset(name).with_i64_data(&ints);
            } else {
                g.create_dataset(name).with_f64_data(values);
            }
        }
        group.add_group(g.finish());
    }
    b.add_group(group.finish());
    let tmp = dir.join(format!("sweep.h5.tmp.{}", std::process::id()));
    if let Err(e) = b.write(&tmp) {
        // A full disk leaves a partial file: remove it; sweep.h5 is untouched.
        let _ = std::fs::remove_file(&tmp);
        return Err(StoreError::hdf5(&tmp)(e));
    }
    let target = dir.join("sweep.h5");
    std::fs::rename(&tmp, &target).map_err(StoreError::io(&target))
}
