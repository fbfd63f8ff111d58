//! One run's file: created when the run starts, appended at every evaluation, renamed
//! when it finishes.

use std::path::{Path, PathBuf};

use hdf5_pure::{AttrValue, File, FileBuilder, MaxExtent};
use ladder_core::{EvalPoint, Observer, ObserverError, RunStart, RunSummary};

use crate::{RunMeta, StoreError, SCHEMA_VERSION};

/// The 1-D datasets of a run, one row per evaluation, in order.
pub const CURVES: [&str; 7] = [
    "step",
    "tokens",
    "flops",
    "train_loss",
    "val_loss",
    "lr",
    "wall_s",
];

/// Rows per HDF5 chunk of a curve.
const CHUNK: u64 = 64;

/// `DIR/runs/<id>.h5`: present only for finished runs.
pub fn finished_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("runs").join(format!("{id}.h5"))
}

/// `DIR/runs/<id>.h5.tmp`: the file of a run in progress.
pub fn tmp_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("runs").join(format!("{id}.h5.tmp"))
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Writes one run crash-safely. A kill at any moment leaves either no file, a readable
/// `.h5.tmp` of an unfinished run (which a rerun restarts), or the finished `.h5`.
///
/// One process at a time: whoever creates a writer must hold the run's [`RunLock`], as
/// the sweep runner does for every run of a job.
pub struct RunWriter {
    tmp: PathBuf,
    finished: PathBuf,
    meta: RunMeta,
}

/// An exclusive lock on `runs/<id>.lock`, held while a process trains the run, so that a
/// second process given the same run (a requeued Slurm task while the first still runs,
/// two shells) is refused instead of writing into the same file. Released on drop, and
/// by the system when the process dies.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// Takes the lock of run `id` under `dir`; [`StoreError::Busy`] if another process
    /// holds it.
    pub fn acquire(dir: &Path, id: &str) -> Result<Self, StoreError> {
        let runs = dir.join("runs");
        std::fs::create_dir_all(&runs).map_err(StoreError::io(&runs))?;
        let path = runs.join(format!("{id}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Busy {
                run: id.to_string(),
                lock: path,
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::io(&path)(e)),
        }
    }
}

impl RunWriter {
    /// A writer for run `meta.run_id` under `dir`. A stale `.h5.tmp` left by an
    /// interrupted attempt is removed.
    pub fn new(dir: &Path, meta: RunMeta) -> Result<Self, StoreError> {
        let id = meta.run_id.as_str();
        let runs = dir.join("runs");
        std::fs::create_dir_all(&runs).map_err(StoreError::io(&runs))?;
        let tmp = tmp_path(dir, id);
        if tmp.exists() {
            std::fs::remove_file(&tmp).map_err(StoreError::io(&tmp))?;
        }
        Ok(Self {
            tmp,
            finished: finished_path(dir, id),
            meta,
        })
    }

    fn create(&self) -> Result<(), StoreError> {
        let mut b = FileBuilder::new();
        b.set_attr("schema", AttrValue::I64(SCHEMA_VERSION));
        b.set_attr("kind", AttrValue::VarLenString("run".into()));
        for (name, value) in self.meta.attrs() {
            b.set_attr(name, value.to_hdf5());
        }
        b.set_attr("status", AttrValue::VarLenString("running".into()));
        b.set_attr("start_time", AttrValue::VarLenString(now()));
        b.set_attr("end_time", AttrValue::VarLenString(String::new()));
        for name in CURVES {
            let ds = b.create_dataset(name);
            if matches!(name, "step" | "tokens") {
                ds.with_i64_data(&[]);
            } else {
                ds.with_f64_data(&[]);
            }
            ds.with_shape(&[0])
                .with_maxshape(&[MaxExtent::Unlimited])
                .with_chunks(&[CHUNK]);
        }
        b.write(&self.tmp).map_err(StoreError::hdf5(&self.tmp))
    }

    fn append(&self, p: &EvalPoint) -> Result<(), StoreError> {
        let err = StoreError::hdf5(&self.tmp);
        let file = File::open_rw(&self.tmp).map_err(err)?;
        let ints = [("step", p.step as i64), ("tokens", p.tokens as i64)];
        let floats = [
            ("flops", p.flops),
            ("train_loss", p.train_loss),
            ("val_loss", p.val_loss),
            ("lr", p.lr),
            ("wall_s", p.wall_s),
        ];
        for (name, v) in ints {
            let mut ds = file.dataset(name).map_err(StoreError::hdf5(&self.tmp))?;
            ds.append_staged(|a| {
                a.append_i64(&[v]);
            })
            .map_err(StoreError::hdf5(&self.tmp))?;
        }
        for (name, v) in floats {
            let mut ds = file.dataset(name).map_err(StoreError::hdf5(&self.tmp))?;
            ds.append_staged(|a| {
                a.append_f64(&[v]);
            })
            .map_err(StoreError::hdf5(&self.tmp))?;
        }
        file.commit().map_err(StoreError::hdf5(&self.tmp))
    }

    /// Closes the run with `status` (`finished`, or `diverged` with the step in
    /// `diverged_step`) and renames it to its final name: it will not be retrained.
    fn finish(&self, status: &str, diverged_step: Option<u64>) -> Result<(), StoreError> {
        {
            let file = File::open_rw(&self.tmp).map_err(StoreError::hdf5(&self.tmp))?;
            let root = file.root();
            root.set_attr("status", AttrValue::VarLenString(status.into()))
                .map_err(StoreError::hdf5(&self.tmp))?;
            if let Some(step) = diverged_step {
                root.set_attr("diverged_step", AttrValue::I64(step as i64))
                    .map_err(StoreError::hdf5(&self.tmp))?;
            }
            root.set_attr("end_time", AttrValue::VarLenString(now()))
                .map_err(StoreError::hdf5(&self.tmp))?;
            file.commit().map_err(StoreError::hdf5(&self.tmp))?;
        }
        std::fs::rename(&self.tmp, &self.finished).map_err(StoreError::io(&self.finished))
    }
}

impl Observer for RunWriter {
    fn on_start(&mut self, _start: &RunStart) -> Result<(), ObserverError> {
        Ok(self.create()?)
    }

    fn on_eval(&mut self, point: &EvalPoint) -> Result<(), ObserverError> {
        Ok(self.append(point)?)
    }

    fn on_finish(&mut self, _summary: &RunSummary) -> Result<(), ObserverError> {
        Ok(self.finish("finished", None)?)
    }

    fn on_diverged(&mut self, step: u64) -> Result<(), ObserverError> {
        Ok(self.finish("diverged", Some(step))?)
    }
}
