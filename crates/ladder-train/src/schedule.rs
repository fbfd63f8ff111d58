//! Learning-rate schedule: linear warmup, then cosine decay to a floor
//! (Hoffmann et al. 2022 decay to 10% of the peak over the run).

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
}
