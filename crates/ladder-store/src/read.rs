//! Reading run and sweep files back.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use hdf5_pure::{AttrValue, File, Group};

use crate::{StoreError, CURVES};

/// One run as stored: its attributes and its curves.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run id.
    pub id: String,
    /// Every attribute.
    pub attrs: HashMap<String, AttrValue>,
    /// Every curve by name, as f64.
    pub curves: BTreeMap<String, Vec<f64>>,
}

impl RunRecord {
    /// A numeric attribute as f64.
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.attrs.get(name)? {
            AttrValue::F64(x) => Some(*x),
            AttrValue::I64(i) => Some(*i as f64),
            AttrValue::F32(x) => Some(f64::from(*x)),
            AttrValue::I32(i) => Some(f64::from(*i)),
            AttrValue::U64(u) => Some(*u as f64),
            _ => None,
        }
    }

    /// A text attribute.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name)? {
            AttrValue::VarLenString(s) | AttrValue::String(s) | AttrValue::AsciiString(s) => {
                Some(s)
            }
            AttrValue::VarLenAsciiString(s) => Some(s),
            _ => None,
        }
    }

    /// Any scalar attribute as text: numbers in Rust's shortest round-trip form, strings
    /// as stored; `None` if absent or not a scalar.
    pub fn display(&self, name: &str) -> Option<String> {
        match self.attrs.get(name)? {
            AttrValue::F64(x) => Some(x.to_string()),
            AttrValue::F32(x) => Some(x.to_string()),
            AttrValue::I64(i) => Some(i.to_string()),
            AttrValue::I32(i) => Some(i.to_string()),
            AttrValue::U64(u) => Some(u.to_string()),
            _ => self.text(name).map(str::to_string),
        }
    }

    /// The names of every attribute, sorted.
    pub fn attr_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.attrs.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The last validation loss, if any evaluation happened.
    pub fn final_val_loss(&self) -> Option<f64> {
        self.curves.get("val_loss")?.last().copied()
    }
}

fn read_group(group: &Group, id: String, path: &Path) -> Result<RunRecord, StoreError> {
    let attrs = group.attrs().map_err(StoreError::hdf5(path))?;
    let mut curves = BTreeMap::new();
    for name in CURVES {
        let ds = group.dataset(name).map_err(|e| StoreError::Schema {
            path: path.to_path_buf(),
            message: format!("run {id}: dataset `{name}` is missing ({e})"),
        })?;
        curves.insert(
            name.to_string(),
            ds.read_f64().map_err(StoreError::hdf5(path))?,
        );
    }
    Ok(RunRecord { id, attrs, curves })
}

/// Reads every run of a sweep file (`sweep.h5`) or the one run of a run file.
pub fn read_runs(path: &Path) -> Result<Vec<RunRecord>, StoreError> {
    let file = File::open(path).map_err(StoreError::hdf5(path))?;
    runs_of(&file, path)
}

/// [`read_runs`] of a file's bytes; `name` names it in errors (fuzzing, tests).
pub fn read_runs_from_bytes(bytes: Vec<u8>, name: &Path) -> Result<Vec<RunRecord>, StoreError> {
    let file = File::from_bytes(bytes).map_err(StoreError::hdf5(name))?;
    runs_of(&file, name)
}

fn runs_of(file: &File, path: &Path) -> Result<Vec<RunRecord>, StoreError> {
    let root = file.root();
    let attrs = root.attrs().map_err(StoreError::hdf5(path))?;
    let kind = match attrs.get("kind") {
        Some(AttrValue::VarLenString(s)) => s.clone(),
        _ => {
            return Err(StoreError::Schema {
                path: path.to_path_buf(),
                message: "no `kind` attribute: not a ladder run or sweep file".into(),
            })
        }
    };
    match kind.as_str() {
        "run" => {
            let id = match attrs.get("run_id") {
                Some(AttrValue::VarLenString(s)) => s.clone(),
                _ => String::new(),
            };
            Ok(vec![read_group(&root, id, path)?])
        }
        "sweep" => {
            let runs = file.group("runs").map_err(StoreError::hdf5(path))?;
            let mut ids = runs.groups().map_err(StoreError::hdf5(path))?;
            ids.sort();
            ids.into_iter()
                .map(|id| {
                    let g = runs.group(&id).map_err(StoreError::hdf5(path))?;
                    read_group(&g, id, path)
                })
                .collect()
        }
        other => Err(StoreError::Schema {
            path: path.to_path_buf(),
            message: format!("unknown kind `{other}`: expected `run` or `sweep`"),
        }),
    }
}
