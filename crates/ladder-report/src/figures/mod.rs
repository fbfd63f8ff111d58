//! The report's figures, one per file.

mod contours;
mod curves;
mod frontier;
mod isoflop;
mod residuals;
mod scaling;

pub use contours::Contours;
pub use curves::TrainingCurves;
pub use frontier::Frontier;
pub use isoflop::IsoFlopProfiles;
pub use residuals::Residuals;
pub use scaling::{LossAgainst, Scaling};
