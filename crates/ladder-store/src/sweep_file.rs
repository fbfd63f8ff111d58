//! `sweep.h5`: every finished run of a sweep in one file, rebuilt from the run files.

use std::path::{Path, PathBuf};

use hdf5_pure::{AttrValue, FileBuilder};

use crate::{read_runs, StoreError, SCHEMA_VERSION};

/// Rebuilds `dir/sweep.h5` from the finished files in `dir/runs/`, writing
/// `sweep.h5.tmp` and renaming it, so that a reader never sees a partial file.
/// Returns the number of runs written.
pub fn write_sweep(dir: &Path, config_text: &str) -> Result<usize, StoreError> {
    let runs_dir = dir.join("runs");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&runs_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "h5"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(StoreError::io(&runs_dir)(e)),
    };
    files.sort();
    let mut b = FileBuilder::new();
    b.set_attr("schema", AttrValue::I64(SCHEMA_VERSION));
    b.set_attr("kind", AttrValue::VarLenString("sweep".into()));
    b.set_attr("config", AttrValue::VarLenString(config_text.to_string()));
    b.set_attr("n_runs", AttrValue::I64(files.len() as i64));
    let mut runs = b.create_group("runs");
    for file in &files {
        for run in read_runs(file)? {
            let mut g = runs.create_group(&run.id);
            let mut names: Vec<&String> = run.attrs.keys().collect();
            names.sort();
            for name in names {
                g.set_attr(name, run.attrs[name].clone());
            }
            for (name, values) in &run.curves {
                if matches!(name.as_str(), "step" | "tokens") {
                    let ints: Vec<i64> = values.iter().map(|&v| v as i64).collect();
                    g.create_dataset(name).with_i64_data(&ints);
                } else {
                    g.create_dataset(name).with_f64_data(values);
                }
            }
            runs.add_group(g.finish());
        }
    }
    b.add_group(runs.finish());
    let tmp = dir.join("sweep.h5.tmp");
    b.write(&tmp).map_err(StoreError::hdf5(&tmp))?;
    let target = dir.join("sweep.h5");
    std::fs::rename(&tmp, &target).map_err(StoreError::io(&target))?;
    Ok(files.len())
}
