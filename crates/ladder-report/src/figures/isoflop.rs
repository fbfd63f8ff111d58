//! IsoFLOP profiles (Hoffmann et al. 2022, approach 2): loss against N at each budget,
//! with the fitted parabola in ln N and its minimum.

use ladder_core::ParamCount;
use ladder_fit::{Approach2Json, Budget, Point};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figure::{
    draw_legend, draw_message, log_grid, log_log_chart, log_range, sci, viridis, DrawResult, Figure,
};

/// The runs grouped by budget, with approach 2's profiles when it ran.
pub struct IsoFlopProfiles<'a> {
    /// Every run.
    pub points: &'a [Point],
    /// The runs of each budget.
    pub budgets: &'a [Budget],
    /// Approach 2, if it ran.
    pub approach2: Option<&'a Approach2Json>,
    /// Why approach 2 did not run.
    pub skipped: Option<&'a str>,
    /// Parameter convention of N.
    pub params: ParamCount,
}

impl Figure for IsoFlopProfiles<'_> {
    fn name(&self) -> &'static str {
        "isoflop"
    }

    fn caption(&self) -> String {
        match (self.approach2, self.skipped) {
            (Some(a2), _) => format!(
                "IsoFLOP profiles: final loss against N at each compute budget, the parabola in \
                 ln N fitted to each, and its minimum (diamond) where it is convex. {} of {} \
                 profiles gave a minimum; approach 2's N_opt ∝ C^a gives a = {:.3}.",
                a2.fit.profiles.iter().filter(|p| p.n_opt.is_some()).count(),
                a2.fit.profiles.len(),
                a2.fit.a
            ),
            (None, why) => format!(
                "Final loss against N per budget; approach 2 did not run: {}.",
                why.unwrap_or("no IsoFLOP budgets")
            ),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let groups: Vec<&Budget> = self
            .budgets
            .iter()
            .filter(|b| b.indices.len() >= 2)
            .collect();
        let members = groups
            .iter()
            .flat_map(|b| b.indices.iter().map(|&i| self.points[i]));
        let (Some(x), Some(y)) = (
            log_range(members.clone().map(|p| p.n), 1.5),
            log_range(members.map(|p| p.loss), 1.04),
        ) else {
            return draw_message(
                root,
                "IsoFLOP profiles",
                "No budget has two or more runs: train several sizes per budget \
                 ([tokens] budgets) to see IsoFLOP profiles.",
            );
        };
        let mut chart = log_log_chart(
            root,
            "IsoFLOP profiles",
            (x.clone(), &format!("N ({})", self.params)),
            (y.clone(), "final validation loss"),
            true,
        )?;
        let last = groups.len().saturating_sub(1).max(1) as f64;
        for (k, budget) in groups.iter().enumerate() {
            let color = viridis(0.9 * k as f64 / last);
            let pts: Vec<(f64, f64)> = budget
                .indices
                .iter()
                .map(|&i| (self.points[i].n, self.points[i].loss))
                .collect();
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))?
                .label(format!("C = {} FLOPs", sci(&budget.c)))
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, color.filled()));
            let profile = self.approach2.and_then(|a2| {
                a2.fit
                    .profiles
                    .iter()
                    .find(|p| (p.c / budget.c - 1.0).abs() < 1e-3)
            });
            let Some(profile) = profile else { continue };
            let span = profile.n_range[0] / 1.4..profile.n_range[1] * 1.4;
            let parabola = log_grid(&span, 60)
                .into_iter()
                .map(|n| (n, profile.loss_at(n.ln())));
            let inside = |(n, l): &(f64, f64)| x.contains(n) && y.contains(l);
            chart.draw_series(LineSeries::new(
                parabola.filter(inside),
                color.stroke_width(2),
            ))?;
            if let (Some(n), Some(l)) = (profile.n_opt, profile.loss_min) {
                if inside(&(n, l)) {
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((n, l))
                            + Polygon::new([(0, -9), (7, 0), (0, 9), (-7, 0)], color.filled())
                            + PathElement::new(
                                [(0, -9), (7, 0), (0, 9), (-7, 0), (0, -9)],
                                BLACK.stroke_width(1),
                            ),
                    ))?;
                }
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}
