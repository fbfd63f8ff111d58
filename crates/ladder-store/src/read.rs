//! Reading run and sweep files back.

use std::path::Path;

use hdf5_pure::{AttrValue, File, Group};

use crate::{Attr, RunMeta, StoreError, CURVES};

/// Where a run is in its life, as its `status` attribute says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Training (or killed while training: the file is still `.h5.tmp`).
    Running,
    /// Trained to the end.
    Finished,
    /// The loss became NaN or infinite after `step` steps; the run is kept but left out
    /// of fits.
    Diverged {
        /// Steps completed before the non-finite loss.
        step: u64,
    },
}

impl Status {
    /// The `status` attribute's text.
    pub fn name(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Finished => "finished",
            Status::Diverged { .. } => "diverged",
        }
    }
}

/// A run's curves, one value per evaluation, in order ([`CURVES`] names them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curves {
    /// Steps done.
    pub step: Vec<f64>,
    /// Training tokens read.
    pub tokens: Vec<f64>,
    /// Training FLOPs so far.
    pub flops: Vec<f64>,
    /// Mean training loss since the previous evaluation.
    pub train_loss: Vec<f64>,
    /// Loss on the fixed validation set.
    pub val_loss: Vec<f64>,
    /// Learning rate of the last step.
    pub lr: Vec<f64>,
    /// Seconds since the run started.
    pub wall_s: Vec<f64>,
}

impl Curves {
    /// Every curve with its name, in the order of [`CURVES`].
    pub fn named(&self) -> [(&'static str, &[f64]); 7] {
        [
            ("step", &self.step),
            ("tokens", &self.tokens),
            ("flops", &self.flops),
            ("train_loss", &self.train_loss),
            ("val_loss", &self.val_loss),
            ("lr", &self.lr),
            ("wall_s", &self.wall_s),
        ]
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Vec<f64>> {
        Some(match name {
            "step" => &mut self.step,
            "tokens" => &mut self.tokens,
            "flops" => &mut self.flops,
            "train_loss" => &mut self.train_loss,
            "val_loss" => &mut self.val_loss,
            "lr" => &mut self.lr,
            "wall_s" => &mut self.wall_s,
            _ => return None,
        })
    }
}

/// One run as stored: its metadata, where it is in its life, and its curves.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The run id (the name of its file, or of its group in `sweep.h5`).
    pub id: String,
    /// The file layout version it was written with.
    pub schema: i64,
    /// What was trained, how and where.
    pub meta: RunMeta,
    /// Running, finished or diverged.
    pub status: Status,
    /// When training started (RFC 3339, UTC).
    pub start_time: String,
    /// When it finished; empty while running.
    pub end_time: String,
    /// The evaluations.
    pub curves: Curves,
}

impl RunRecord {
    /// The last validation loss, if any evaluation happened.
    pub fn final_val_loss(&self) -> Option<f64> {
        self.curves.val_loss.last().copied()
    }

    /// Whether the run trained to the end.
    pub fn is_finished(&self) -> bool {
        self.status == Status::Finished
    }

    /// Every stored attribute as `(name, value)`: the lifecycle ones, then [`RunMeta`]'s.
    pub fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let mut attrs = vec![
            ("schema", Attr::Int(self.schema)),
            ("kind", Attr::Text("run".into())),
            ("status", Attr::Text(self.status.name().into())),
            ("start_time", Attr::Text(self.start_time.clone())),
            ("end_time", Attr::Text(self.end_time.clone())),
        ];
        if let Status::Diverged { step } = self.status {
            attrs.push(("diverged_step", Attr::Int(step as i64)));
        }
        attrs.extend(self.meta.attrs());
        attrs
    }
}

fn read_group(group: &Group, id: String, path: &Path) -> Result<RunRecord, StoreError> {
    let attrs = group.attrs().map_err(StoreError::hdf5(path))?;
    let schema_error = |message: String| StoreError::Schema {
        path: path.to_path_buf(),
        message: format!("run {id}: {message}"),
    };
    let meta = RunMeta::from_attrs(&attrs).map_err(schema_error)?;
    let text = |name: &str| match attrs.get(name) {
        Some(AttrValue::VarLenString(s)) => s.clone(),
        _ => String::new(),
    };
    let status = match text("status").as_str() {
        "running" => Status::Running,
        "finished" => Status::Finished,
        "diverged" => Status::Diverged {
            step: match attrs.get("diverged_step") {
                Some(AttrValue::I64(s)) => u64::try_from(*s).unwrap_or(0),
                _ => 0,
            },
        },
        other => {
            return Err(schema_error(format!(
                "status `{other}`: expected running, finished or diverged"
            )))
        }
    };
    let schema = match attrs.get("schema") {
        Some(AttrValue::I64(v)) => *v,
        _ => return Err(schema_error("no integer `schema` attribute".into())),
    };
    let mut curves = Curves::default();
    for name in CURVES {
        let ds = group
            .dataset(name)
            .map_err(|e| schema_error(format!("dataset `{name}` is missing ({e})")))?;
        let values = ds.read_f64().map_err(StoreError::hdf5(path))?;
        if let Some(curve) = curves.get_mut(name) {
            *curve = values;
        }
    }
    Ok(RunRecord {
        start_time: text("start_time"),
        end_time: text("end_time"),
        id,
        schema,
        meta,
        status,
        curves,
    })
}

/// Reads every run of a sweep file (`sweep.h5`) or the one run of a run file.
pub fn read_runs(path: &Path) -> Result<Vec<RunRecord>, StoreError> {
    let file = File::open(path).map_err(StoreError::hdf5(path))?;
    runs_of(&file, path)
}

/// The run of a run file (`runs/<id>.h5`); a sweep file is an error.
pub fn read_run(path: &Path) -> Result<RunRecord, StoreError> {
    let file = File::open(path).map_err(StoreError::hdf5(path))?;
    match (kind(&file, path)?.as_str(), runs_of(&file, path)?.pop()) {
        ("run", Some(run)) => Ok(run),
        _ => Err(StoreError::Schema {
            path: path.to_path_buf(),
            message: "a sweep file, not a run file".into(),
        }),
    }
}

/// [`read_runs`] of a file's bytes; `name` names it in errors (fuzzing, tests).
pub fn read_runs_from_bytes(bytes: Vec<u8>, name: &Path) -> Result<Vec<RunRecord>, StoreError> {
    let file = File::from_bytes(bytes).map_err(StoreError::hdf5(name))?;
    runs_of(&file, name)
}

/// The root's `kind`: `run` or `sweep`.
fn kind(file: &File, path: &Path) -> Result<String, StoreError> {
    match file
        .root()
        .attrs()
        .map_err(StoreError::hdf5(path))?
        .get("kind")
    {
        Some(AttrValue::VarLenString(s)) => Ok(s.clone()),
        _ => Err(StoreError::Schema {
            path: path.to_path_buf(),
            message: "no `kind` attribute: not a ladder run or sweep file".into(),
        }),
    }
}

fn runs_of(file: &File, path: &Path) -> Result<Vec<RunRecord>, StoreError> {
    let root = file.root();
    let attrs = root.attrs().map_err(StoreError::hdf5(path))?;
    match kind(file, path)?.as_str() {
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
