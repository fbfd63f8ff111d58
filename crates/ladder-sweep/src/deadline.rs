//! Finishing by a deadline: a job starts only when its estimated time ends before the
//! deadline, the estimate scaled up by how far the jobs finished so far ran over theirs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// When a sweep must be done, and how long each run is expected to take (the step times
/// `ladder plan` measures, turned into seconds by [`crate::run_seconds`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    /// No job may be expected to end after this instant.
    pub at: Instant,
    /// Estimated seconds of each run, by run id; a run without one never starts.
    pub run_seconds: HashMap<String, f64>,
}

impl Deadline {
    /// Estimated seconds of a job that trains `cost` FLOPs of the runs `ids` (all of one
    /// shape, each with its FLOPs trained alone): the seconds per FLOP of those with an
    /// estimate times `cost`, which for WSD branches counts the shared stable phase
    /// once. A branch group resumed with some branches finished has estimates for the
    /// pending ones only; their shape is the group's. `None` when no run has one.
    pub(crate) fn job_seconds<'a>(
        &self,
        ids: impl Iterator<Item = (&'a str, f64)>,
        cost: f64,
    ) -> Option<f64> {
        let (mut seconds, mut flops) = (None, 0.0);
        for (id, run_cost) in ids {
            if let Some(s) = self.run_seconds.get(id) {
                seconds = Some(seconds.unwrap_or(0.0) + s);
                flops += run_cost;
            }
        }
        seconds.map(|s| if flops > 0.0 { s / flops * cost } else { s })
    }

    /// Whether a job estimated at `seconds`, started `now`, ends by the deadline once
    /// its estimate is scaled by `overrun` (see [`Overrun`]).
    pub(crate) fn fits(&self, seconds: f64, overrun: f64, now: Instant) -> bool {
        Duration::try_from_secs_f64(seconds * overrun).is_ok_and(|d| now + d <= self.at)
    }
}

/// A unit trained under a deadline: how long it was expected to take, and took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitTiming {
    /// The unit's name (a run id, or a branch group's model name).
    pub unit: String,
    /// Its estimate from the timed steps, before any scaling by overruns.
    pub estimated: Duration,
    /// How long it trained.
    pub took: Duration,
}

/// How far the jobs this sweep finished ran over their estimates: the largest ratio of
/// measured to estimated time, never below 1. The step times behind the estimates are
/// a few seconds' sample; a sweep that runs slower (another process beside it, a busier
/// host) then stops starting jobs sooner, and a faster one keeps the estimates as they
/// are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Overrun(f64);

impl Default for Overrun {
    fn default() -> Self {
        Self(1.0)
    }
}

impl Overrun {
    /// The factor estimates are multiplied by.
    pub(crate) fn factor(self) -> f64 {
        self.0
    }

    /// Records a job estimated at `estimated` seconds that took `took`.
    pub(crate) fn record(&mut self, estimated: f64, took: Duration) {
        if estimated > 0.0 {
            self.0 = self.0.max(took.as_secs_f64() / estimated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline(seconds: &[(&str, f64)]) -> Deadline {
        Deadline {
            at: Instant::now() + Duration::from_secs(100),
            run_seconds: seconds.iter().map(|(id, s)| (id.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn a_job_costs_its_runs_seconds_per_flop_times_its_own_flops() {
        let d = deadline(&[("a", 10.0), ("b", 30.0)]);
        // Alone: its own seconds.
        assert_eq!(d.job_seconds([("a", 1e12)].into_iter(), 1e12), Some(10.0));
        // Branches sharing a stable phase: 40 s for 4e12 FLOPs trained apart, 2.5e12
        // trained together.
        let both = [("a", 1e12), ("b", 3e12)].into_iter();
        assert_eq!(d.job_seconds(both, 2.5e12), Some(25.0));
        assert_eq!(d.job_seconds([("c", 1e12)].into_iter(), 1e12), None);
        // A group resumed with branch c finished (no estimate): a's rate, 1e-11 s/FLOP.
        let resumed = [("a", 1e12), ("c", 2e12)].into_iter();
        let s = d.job_seconds(resumed, 1.5e12).unwrap();
        assert!((s - 15.0).abs() < 1e-9, "{s}");
    }

    #[test]
    fn a_job_fits_when_its_scaled_estimate_ends_by_the_deadline() {
        let d = deadline(&[]);
        let now = Instant::now();
        assert!(d.fits(50.0, 1.0, now));
        assert!(
            !d.fits(50.0, 2.5, now),
            "125 s scaled cannot end within 100 s"
        );
        assert!(!d.fits(f64::INFINITY, 1.0, now));
        assert!(!d.fits(200.0, 1.0, now));
    }

    #[test]
    fn overruns_only_raise_the_factor() {
        let mut o = Overrun::default();
        o.record(10.0, Duration::from_secs(5));
        assert_eq!(
            o.factor(),
            1.0,
            "a job faster than its estimate changes nothing"
        );
        o.record(10.0, Duration::from_secs(15));
        o.record(10.0, Duration::from_secs(12));
        assert_eq!(o.factor(), 1.5);
    }
}
