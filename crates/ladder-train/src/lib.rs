//! One training run: AdamW with gradient clipping, a warmup-cosine schedule, periodic
//! evaluation on a fixed validation set, and an [`Observer`] that receives everything
//! the run produces (storage, progress display and tests are observers; nothing is
//! scraped from logs).
#![deny(missing_docs)]

mod adamw;
mod branch;
mod error;
mod memory;
mod run;
mod schedule;
mod throughput;
mod trainer;

pub use adamw::{AdamW, AdamWConfig};
pub use branch::{shares_stable_phase, train_branches};
pub use error::TrainError;
pub use ladder_core::{EvalPoint, Fanout, Observer, ObserverError, Recorder, RunStart, RunSummary};
pub use memory::keep_freed_memory;
pub use run::{train, RunSpec};
pub use schedule::{Cooldown, CosineSchedule, Schedule, ScheduleKind, WsdSchedule};
pub use throughput::{device_name, time_steps, time_steps_after, StepTimes, TimingSpec};
pub use trainer::{Snapshot, Trainer};
