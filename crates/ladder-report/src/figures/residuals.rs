//! Residuals of approach 3's fit against N and against D: a law that holds leaves no
//! trend.

use ladder_core::ParamCount;
use ladder_fit::Diagnostics;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figure::{
    draw_message, log_axis, log_fraction, log_range, sci, viridis, DrawResult, Figure, FONT,
};

/// The residuals of every point.
pub struct Residuals<'a> {
    /// Approach 3's diagnostics (residuals and trend tests).
    pub diagnostics: &'a Diagnostics,
    /// Parameter convention of N.
    pub params: ParamCount,
}

impl Figure for Residuals<'_> {
    fn name(&self) -> &'static str {
        "residuals"
    }

    fn caption(&self) -> String {
        let d = self.diagnostics;
        format!(
            "Residuals of approach 3, (observed − predicted)/predicted in %, against N (left, \
             coloured by D) and D (right, coloured by N). Spearman's trend test: against ln N \
             ρ = {:.2} (p = {:.3}), against ln D ρ = {:.2} (p = {:.3}); log-space R² = {:.4}.",
            d.trend_n.rho, d.trend_n.p, d.trend_d.rho, d.trend_d.p, d.r2_log
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let res = &self.diagnostics.residuals;
        let pct: Vec<f64> = res
            .iter()
            .map(|r| 100.0 * (r.loss - r.predicted) / r.predicted)
            .collect();
        let bound = pct
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(0.1)
            * 1.15;
        let (Some(xn), Some(xd)) = (
            log_range(res.iter().map(|r| r.n), 1.3),
            log_range(res.iter().map(|r| r.d), 1.3),
        ) else {
            return draw_message(root, "Residuals", "No finished run.");
        };
        let (n_lo, n_hi, d_lo, d_hi) = res.iter().fold(
            (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64),
            |(a, b, c, d), r| (a.min(r.n), b.max(r.n), c.min(r.d), d.max(r.d)),
        );
        let root = root.titled("Residuals of approach 3", (FONT, 22))?;
        let panels = root.split_evenly((1, 2));
        for (k, panel) in panels.iter().enumerate() {
            let (range, desc) = if k == 0 {
                (xn.clone(), format!("N ({})", self.params))
            } else {
                (xd.clone(), "D (tokens)".to_string())
            };
            let mut chart = ChartBuilder::on(panel)
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d(log_axis(range.clone()), -bound..bound)?;
            chart
                .configure_mesh()
                .x_desc(desc)
                .y_desc("residual (%)")
                .x_label_formatter(&sci)
                .label_style((FONT, 14))
                .draw()?;
            chart.draw_series(LineSeries::new(
                [(range.start, 0.0), (range.end, 0.0)],
                BLACK.stroke_width(1),
            ))?;
            chart.draw_series(res.iter().zip(&pct).filter(|(_, v)| v.is_finite()).map(
                |(r, v)| {
                    let (x, color) = if k == 0 {
                        (r.n, viridis(log_fraction(r.d, d_lo, d_hi)))
                    } else {
                        (r.d, viridis(log_fraction(r.n, n_lo, n_hi)))
                    };
                    Circle::new((x, *v), 5, color.filled())
                },
            ))?;
        }
        Ok(())
    }
}
