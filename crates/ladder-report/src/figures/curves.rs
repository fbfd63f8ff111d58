//! Validation loss against tokens for every run, coloured by model size.

use ladder_core::ParamCount;
use ladder_fit::Curve;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figure::{
    draw_legend, draw_message, log_fraction, log_log_chart, log_range, sci, viridis, DrawResult,
    Figure,
};

/// Every run's evaluation curve.
pub struct TrainingCurves<'a> {
    /// The curves (with each run's N).
    pub curves: &'a [Curve],
    /// Parameter convention of N, for the legend.
    pub params: ParamCount,
}

fn finite_points(c: &Curve) -> Vec<(f64, f64)> {
    c.tokens
        .iter()
        .zip(&c.loss)
        .filter(|(t, l)| **t > 0.0 && l.is_finite() && **l > 0.0)
        .map(|(t, l)| (*t, *l))
        .collect()
}

impl Figure for TrainingCurves<'_> {
    fn name(&self) -> &'static str {
        "curves"
    }

    fn caption(&self) -> String {
        format!(
            "Training curves: validation loss against tokens, one line per run, coloured by \
             N ({} parameters; dark small, yellow large).",
            self.params
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let mut series: Vec<(f64, Vec<(f64, f64)>)> = self
            .curves
            .iter()
            .map(|c| (c.n, finite_points(c)))
            .filter(|(_, p)| !p.is_empty())
            .collect();
        // Smallest first, so that the legend lists sizes in order.
        series.sort_by(|a, b| a.0.total_cmp(&b.0));
        let all = series.iter().flat_map(|(_, p)| p.iter());
        let (Some(x), Some(y)) = (
            log_range(all.clone().map(|p| p.0), 1.1),
            log_range(all.map(|p| p.1), 1.03),
        ) else {
            return draw_message(root, "Training curves", "No run has an evaluation yet.");
        };
        let (n_lo, n_hi) = series
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), (n, _)| {
                (a.min(*n), b.max(*n))
            });
        let mut chart = log_log_chart(
            root,
            "Validation loss during training",
            (x, "tokens D"),
            (y, "validation loss (nats/token)"),
            true,
        )?;
        let mut labelled: Vec<f64> = Vec::new();
        for (n, points) in &series {
            let color = viridis(log_fraction(*n, n_lo, n_hi));
            let line = chart.draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?;
            // One legend entry per distinct size.
            if !labelled.iter().any(|m| (m / n - 1.0).abs() < 1e-9) {
                labelled.push(*n);
                line.label(format!("N = {}", sci(n))).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3))
                });
            }
        }
        if labelled.len() <= 14 {
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
