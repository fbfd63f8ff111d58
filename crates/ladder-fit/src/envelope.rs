//! Chinchilla approach 1 (Hoffmann et al. 2022, §3.1): the envelope of the training
//! curves. At each FLOP value of a log grid, the run with the lowest loss there gives
//! `N_opt(C)`, and `D_opt(C) = C / (6·N_opt)`; least-squares lines in log-log space then
//! give `a` and `b`.
//!
//! Caveat: a point in the middle of a cosine schedule is not the loss a shorter run
//! would reach, because its learning rate has not decayed yet (Hoffmann et al. 2022,
//! Figure A1, trained a separate cosine cycle per horizon for this reason). An envelope
//! of single-cycle curves therefore favours runs near their end, and `a` from it is
//! biased; approaches 2 and 3 use final losses only.

use serde::{Deserialize, Serialize};

use crate::stats::polyfit;
use crate::{Curve, FitError};

/// One point of the envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvelopePoint {
    /// FLOPs, `6·N·tokens`.
    #[serde(rename = "C")]
    #[serde(deserialize_with = "crate::json::number")]
    pub c: f64,
    /// The run with the lowest loss there.
    pub run: String,
    /// Its parameters.
    #[serde(deserialize_with = "crate::json::number")]
    pub n_opt: f64,
    /// `C / (6·N_opt)`.
    #[serde(deserialize_with = "crate::json::number")]
    pub d_opt: f64,
    /// Its loss there (interpolated linearly in log FLOPs).
    #[serde(deserialize_with = "crate::json::number")]
    pub loss: f64,
}

/// The result of approach 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approach1Fit {
    /// Exponent of `N_opt ∝ C^a`.
    #[serde(deserialize_with = "crate::json::number")]
    pub a: f64,
    /// Exponent of `D_opt ∝ C^b`.
    #[serde(deserialize_with = "crate::json::number")]
    pub b: f64,
    /// The envelope on the grid.
    pub envelope: Vec<EnvelopePoint>,
    /// Distinct model sizes on the envelope.
    pub sizes_on_envelope: usize,
}

/// The loss of `curve` at `c` FLOPs, interpolated linearly in `ln C`; `None` outside
/// the curve.
fn loss_at(curve: &Curve, c: f64) -> Option<f64> {
    let flops = |t: f64| 6.0 * curve.n * t;
    let k = curve.tokens.iter().position(|&t| flops(t) >= c)?;
    if k == 0 {
        return (flops(curve.tokens[0]) == c).then(|| curve.loss[0]);
    }
    let (x0, x1) = (flops(curve.tokens[k - 1]).ln(), flops(curve.tokens[k]).ln());
    let w = (c.ln() - x0) / (x1 - x0);
    Some(curve.loss[k - 1] + w * (curve.loss[k] - curve.loss[k - 1]))
}

/// Fits approach 1 on `grid` log-spaced FLOP values between the first budget reached by
/// two runs and the largest budget of any run.
pub fn fit_approach1(curves: &[Curve], grid: usize) -> Result<Approach1Fit, FitError> {
    let curves: Vec<&Curve> = curves
        .iter()
        .filter(|c| !c.tokens.is_empty() && c.tokens.len() == c.loss.len())
        .collect();
    let no_envelope = |why: &str| FitError::NoEnvelope(why.to_string());
    if curves.len() < 2 {
        return Err(no_envelope(
            "approach 1 needs the training curves of at least 2 runs",
        ));
    }
    let start = |c: &Curve| 6.0 * c.n * c.tokens[0];
    let end = |c: &Curve| 6.0 * c.n * c.tokens[c.tokens.len() - 1];
    let mut starts: Vec<f64> = curves.iter().map(|c| start(c)).collect();
    starts.sort_by(f64::total_cmp);
    let lo = starts[1];
    let hi = curves.iter().map(|c| end(c)).fold(0.0, f64::max);
    if hi <= lo || grid < 2 {
        return Err(no_envelope("the curves do not overlap in FLOPs"));
    }
    let mut envelope = Vec::new();
    for i in 0..grid {
        let c = (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (grid - 1) as f64).exp();
        let best = curves
            .iter()
            .filter_map(|curve| Some((loss_at(curve, c)?, *curve)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((loss, curve)) = best {
            envelope.push(EnvelopePoint {
                c,
                run: curve.run.clone(),
                n_opt: curve.n,
                d_opt: c / (6.0 * curve.n),
                loss,
            });
        }
    }
    let mut sizes: Vec<f64> = envelope.iter().map(|p| p.n_opt).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    if sizes.len() < 2 {
        return Err(no_envelope(
            "one model size is best at every budget: the envelope has no slope to fit",
        ));
    }
    let ln_c: Vec<f64> = envelope.iter().map(|p| p.c.ln()).collect();
    let slope = |v: Vec<f64>| polyfit(&ln_c, &v, 1).map(|c| c[1]);
    let a = slope(envelope.iter().map(|p| p.n_opt.ln()).collect());
    let b = slope(envelope.iter().map(|p| p.d_opt.ln()).collect());
    let (Some(a), Some(b)) = (a, b) else {
        return Err(no_envelope("the envelope's line fit is singular"));
    };
    Ok(Approach1Fit {
        a,
        b,
        envelope,
        sizes_on_envelope: sizes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChinchillaLaw;

    /// Curves whose loss at every point is the law's loss of a finished run of that many
    /// tokens (what a run with a separate schedule per horizon would give).
    #[test]
    fn envelope_of_ideal_curves_recovers_the_exponent() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let curves: Vec<Curve> = (0..40)
            .map(|i| {
                let n = 1e7 * 10f64.powf(i as f64 / 10.0);
                let tokens: Vec<f64> = (0..60).map(|k| 1e8 * 10f64.powf(k as f64 / 15.0)).collect();
                Curve {
                    run: format!("r{i}"),
                    n,
                    loss: tokens.iter().map(|&t| law.loss(n, t)).collect(),
                    tokens,
                    seed: 0,
                    warmup_tokens: 0.0,
                    decay_tokens: f64::INFINITY,
                }
            })
            .collect();
        let fit = fit_approach1(&curves, 30).unwrap();
        // Discrete sizes (10 per decade) make the envelope a staircase: a within 0.03.
        assert!(
            (fit.a - law.n_exponent()).abs() < 0.03,
            "a {} vs {}",
            fit.a,
            law.n_exponent()
        );
        assert!((fit.a + fit.b - 1.0).abs() < 1e-9);
        assert!(fit.sizes_on_envelope > 10);
    }

    #[test]
    fn interpolates_in_log_flops() {
        let c = Curve {
            run: "r".into(),
            n: 1.0 / 6.0,
            tokens: vec![1.0, 100.0],
            loss: vec![4.0, 2.0],
            seed: 0,
            warmup_tokens: 0.0,
            decay_tokens: f64::INFINITY,
        };
        assert_eq!(loss_at(&c, 10.0), Some(3.0));
        assert_eq!(loss_at(&c, 1000.0), None);
        assert_eq!(loss_at(&c, 0.5), None);
    }

    #[test]
    fn a_single_curve_is_an_error() {
        let c = Curve {
            run: "r".into(),
            n: 1.0,
            tokens: vec![1.0, 2.0],
            loss: vec![4.0, 3.0],
            seed: 0,
            warmup_tokens: 0.0,
            decay_tokens: f64::INFINITY,
        };
        assert!(matches!(
            fit_approach1(&[c], 10),
            Err(FitError::NoEnvelope(_))
        ));
    }
}
