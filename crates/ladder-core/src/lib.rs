//! The words ladder's crates share, with no dependency on training, storage or fitting:
//!
//! - [`Observer`] and the events a training run reports to it ([`RunStart`],
//!   [`EvalPoint`], [`RunSummary`]): the trainer emits them, the store, the progress
//!   display and tests receive them;
//! - [`ParamCount`], [`FlopCount`] and [`BudgetRule`]: which parameter count is N, which
//!   FLOP count labels a budget, and how an IsoFLOP design turned a budget into tokens.
//!
//! Every crate above names these as types, never as strings.
#![deny(missing_docs)]

mod conventions;
mod observer;

pub use conventions::{BudgetRule, FlopCount, ParamCount, UnknownName};
pub use observer::{EvalPoint, Fanout, Observer, ObserverError, Recorder, RunStart, RunSummary};
