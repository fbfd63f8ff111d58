//! Final loss against N and against D on log-log axes, with Kaplan et al. 2020's fitted
//! single-variable laws.

use ladder_core::ParamCount;
use ladder_fit::{FormFit, Point, PowerLaw, PowerLawPair};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figure::{
    draw_legend, draw_message, log_fraction, log_grid, log_log_chart, log_range, viridis,
    DrawResult, Figure,
};

/// Which variable is on the x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossAgainst {
    /// Parameters; points coloured by D.
    N,
    /// Tokens; points coloured by N.
    D,
}

/// Final loss of every run against N or D, with the fitted `L(x) = E + (x_c/x)^α`.
pub struct Scaling<'a> {
    /// The runs.
    pub points: &'a [Point],
    /// Kaplan's fit of the envelope against this variable.
    pub law: &'a PowerLawPair,
    /// The variable.
    pub against: LossAgainst,
    /// Parameter convention of N.
    pub params: ParamCount,
}

impl Scaling<'_> {
    fn law(&self) -> Option<(&PowerLaw, &'static str)> {
        match (&self.law.with_e, &self.law.without_e) {
            (FormFit::Fitted(l), _) if l.degenerate.is_none() => Some((l, "E + (x_c/x)^α")),
            (_, FormFit::Fitted(l)) => Some((l, "(x_c/x)^α")),
            (FormFit::Fitted(l), _) => Some((l, "E + (x_c/x)^α")),
            _ => None,
        }
    }

    fn xy(&self, p: &Point) -> (f64, f64) {
        match self.against {
            LossAgainst::N => (p.n, p.loss),
            LossAgainst::D => (p.d, p.loss),
        }
    }

    fn other(&self, p: &Point) -> f64 {
        match self.against {
            LossAgainst::N => p.d,
            LossAgainst::D => p.n,
        }
    }
}

impl Figure for Scaling<'_> {
    fn name(&self) -> &'static str {
        match self.against {
            LossAgainst::N => "loss_vs_n",
            LossAgainst::D => "loss_vs_d",
        }
    }

    fn caption(&self) -> String {
        let (var, colour) = match self.against {
            LossAgainst::N => (format!("N ({} parameters)", self.params), "D"),
            LossAgainst::D => ("D (tokens)".to_string(), "N"),
        };
        let fitted_on = match self.against {
            LossAgainst::N => "each N at its largest D",
            LossAgainst::D => "each D at its largest N",
        };
        let law = match self.law() {
            Some((l, form)) => format!(
                " The line is Kaplan et al. 2020's L = {form} fitted to {fitted_on}: \
                 α = {:.3}, x_c = {:.3e}{}.",
                l.alpha,
                l.x_c,
                if l.e > 0.0 {
                    format!(", E = {:.3}", l.e)
                } else {
                    String::new()
                }
            ),
            None => " No single-variable law could be fitted.".to_string(),
        };
        format!("Final validation loss against {var}, coloured by {colour} (log-log).{law}")
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xy: Vec<(f64, f64)> = self.points.iter().map(|p| self.xy(p)).collect();
        let (Some(x), Some(y)) = (
            log_range(xy.iter().map(|p| p.0), 1.3),
            log_range(xy.iter().map(|p| p.1), 1.04),
        ) else {
            return draw_message(root, self.name(), "No finished run.");
        };
        let (lo, hi) = self
            .points
            .iter()
            .map(|p| self.other(p))
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let (title, x_desc) = match self.against {
            LossAgainst::N => (
                "Final loss against model size",
                format!("N ({})", self.params),
            ),
            LossAgainst::D => (
                "Final loss against training tokens",
                "D (tokens)".to_string(),
            ),
        };
        let mut chart = log_log_chart(
            root,
            title,
            (x.clone(), &x_desc),
            (y.clone(), "final validation loss"),
            true,
        )?;
        chart.draw_series(self.points.iter().map(|p| {
            let color = viridis(log_fraction(self.other(p), lo, hi));
            Circle::new(self.xy(p), 5, color.filled())
        }))?;
        if let Some((law, form)) = self.law() {
            let line = log_grid(&x, 100)
                .into_iter()
                .map(|v| (v, law.loss(v)))
                .filter(|(_, l)| l.is_finite() && y.contains(l));
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(2)))?
                .label(format!("L = {form}, α = {:.3}", law.alpha))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(2)));
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
