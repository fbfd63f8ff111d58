//! Test-time compute: the log-linear shape that reasoning models show, where accuracy
//! on a task grows by a roughly constant amount per tenfold increase in the tokens spent
//! thinking (OpenAI 2024, "Learning to reason with LLMs"; Snell et al. 2024).
//!
//! This is an illustration, not a fitted law: the anchor and the gain per decade are
//! placeholders that a user sets for the task at hand, and real curves bend and
//! saturate.

/// Accuracy `a(T) = a₀ + g·log₁₀(T/T₀)`, clamped to `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLinear {
    /// `T₀`: thinking tokens at the anchor.
    pub anchor_tokens: f64,
    /// `a₀`: accuracy at `T₀`, in `[0, 1]`.
    pub anchor_accuracy: f64,
    /// `g`: accuracy gained per tenfold increase in thinking tokens.
    pub gain_per_decade: f64,
}

impl LogLinear {
    /// Accuracy after `tokens` thinking tokens.
    pub fn accuracy(&self, tokens: f64) -> f64 {
        let raw =
            self.anchor_accuracy + self.gain_per_decade * (tokens / self.anchor_tokens).log10();
        raw.clamp(0.0, 1.0)
    }

    /// Thinking tokens needed to reach `accuracy`; `None` when the line never gets there
    /// (a target outside `(0, 1]`, or one above the anchor with no gain).
    pub fn tokens_for(&self, accuracy: f64) -> Option<f64> {
        if !(accuracy > 0.0 && accuracy <= 1.0) {
            return None;
        }
        let decades = (accuracy - self.anchor_accuracy) / self.gain_per_decade;
        let t = self.anchor_tokens * 10f64.powf(decades);
        (t.is_finite() && t > 0.0).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: LogLinear = LogLinear {
        anchor_tokens: 1e3,
        anchor_accuracy: 0.2,
        gain_per_decade: 0.15,
    };

    /// 1e5 tokens is two decades past the anchor: 0.2 + 2·0.15 = 0.5; 1e2 is one decade
    /// before: 0.05; far past the top it saturates at 1.
    #[test]
    fn accuracy_is_linear_in_log_tokens_and_clamped() {
        assert!((LINE.accuracy(1e5) - 0.5).abs() < 1e-12);
        assert!((LINE.accuracy(1e2) - 0.05).abs() < 1e-12);
        assert_eq!(LINE.accuracy(1e12), 1.0);
        assert_eq!(LINE.accuracy(1.0), 0.0);
    }

    /// 0.8 needs (0.8 − 0.2)/0.15 = 4 decades: 1e7 tokens.
    #[test]
    fn tokens_for_inverts_accuracy() {
        let t = LINE.tokens_for(0.8).unwrap();
        assert!((t / 1e7 - 1.0).abs() < 1e-12, "{t}");
        assert!(LINE.tokens_for(1.5).is_none());
        let flat = LogLinear {
            gain_per_decade: 0.0,
            ..LINE
        };
        assert!(flat.tokens_for(0.5).is_none());
    }
}
