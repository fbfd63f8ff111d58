//! Learning-rate schedules: linear warmup, then either a cosine decay to a floor over
//! the whole run (Hoffmann et al. 2022 decay to 10% of the peak), or warmup-stable-decay
//! (WSD): constant at the peak, then a cooldown over the last part of the run (Hägele et
//! al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
//! Durations"). A WSD run's learning rate before its cooldown does not depend on its
//! length, so runs of several lengths can share one stable phase and branch into their
//! cooldowns.

/// Linear warmup from 0 to `peak` over `warmup` steps, then a half cosine from `peak`
/// down to `floor·peak` at `total` steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineSchedule {
    /// Peak learning rate.
    pub peak: f64,
    /// Warmup steps.
    pub warmup: u64,
    /// Total steps of the run.
    pub total: u64,
    /// Final learning rate as a fraction of the peak (Hoffmann: 0.1).
    pub floor: f64,
}

impl CosineSchedule {
    /// Learning rate for step `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.peak * (self.floor + (1.0 - self.floor) * cosine)
    }
}

/// The shape of a WSD cooldown, from the peak (progress 0) to the floor (progress 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cooldown {
    /// `1 − x`.
    Linear,
    /// `1 − √x`, which Hägele et al. 2024 (§3) found better than linear.
    OneMinusSqrt,
}

/// Which schedule a run uses; its steps come from the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScheduleKind {
    /// Warmup, then cosine to the floor at the last step.
    Cosine,
    /// Warmup, constant, then a cooldown over the last `fraction` of the steps.
    Wsd {
        /// Fraction of the run's steps spent cooling down (Hägele et al.: ~0.2).
        fraction: f64,
        /// Cooldown shape.
        shape: Cooldown,
    },
}

/// Linear warmup to `peak`, constant until `decay_start`, then a cooldown to
/// `floor·peak` at `total`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WsdSchedule {
    /// Peak learning rate.
    pub peak: f64,
    /// Warmup steps.
    pub warmup: u64,
    /// First step of the cooldown.
    pub decay_start: u64,
    /// Total steps.
    pub total: u64,
    /// Final learning rate as a fraction of the peak.
    pub floor: f64,
    /// Cooldown shape.
    pub shape: Cooldown,
}

impl WsdSchedule {
    /// Learning rate for step `step` (0-based). The cooldown's last step is at the floor.
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        if step < self.decay_start {
            return self.peak;
        }
        let span = self.total.saturating_sub(self.decay_start).max(1) as f64;
        let x = ((step + 1 - self.decay_start) as f64 / span).min(1.0);
        let keep = match self.shape {
            Cooldown::Linear => 1.0 - x,
            Cooldown::OneMinusSqrt => 1.0 - x.sqrt(),
        };
        self.peak * (self.floor + (1.0 - self.floor) * keep)
    }
}

/// A run's concrete schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// Warmup-cosine.
    Cosine(CosineSchedule),
    /// Warmup-stable-decay.
    Wsd(WsdSchedule),
}

impl Schedule {
    /// Learning rate for step `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        match self {
            Self::Cosine(s) => s.lr(step),
            Self::Wsd(s) => s.lr(step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_ten_percent() {
        let s = CosineSchedule {
            peak: 1e-3,
            warmup: 10,
            total: 110,
            floor: 0.1,
        };
        assert!((s.lr(0) - 1e-4).abs() < 1e-15);
        assert!((s.lr(9) - 1e-3).abs() < 1e-15);
        assert!((s.lr(10) - 1e-3).abs() < 1e-15);
        assert!(
            (s.lr(60) - 0.55e-3).abs() < 1e-12,
            "half way is the midpoint"
        );
        assert!((s.lr(110) - 1e-4).abs() < 1e-15);
        assert!((1..110).all(|i| s.lr(i + 10) <= s.lr(i + 9)));
    }

    #[test]
    fn wsd_is_flat_then_cools_to_the_floor() {
        for shape in [Cooldown::Linear, Cooldown::OneMinusSqrt] {
            let s = WsdSchedule {
                peak: 1e-3,
                warmup: 10,
                decay_start: 80,
                total: 100,
                floor: 0.0,
                shape,
            };
            assert!((s.lr(9) - 1e-3).abs() < 1e-15);
            assert!((10..80).all(|i| s.lr(i) == 1e-3));
            assert!(
                s.lr(99).abs() < 1e-15,
                "{shape:?}: the last step is at the floor"
            );
            assert!((80..99).all(|i| s.lr(i + 1) < s.lr(i)));
            // Half way through the cooldown.
            let half = s.lr(89);
            let want = match shape {
                Cooldown::Linear => 0.5e-3,
                Cooldown::OneMinusSqrt => (1.0 - 0.5f64.sqrt()) * 1e-3,
            };
            assert!((half - want).abs() < 1e-12, "{shape:?}: {half}");
        }
    }
}
