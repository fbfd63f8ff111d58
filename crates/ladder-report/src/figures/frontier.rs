//! The compute-optimal frontier: approach 3's N*(C) and D*(C) with their 80% bootstrap
//! bands, approach 2's IsoFLOP minima, and Chinchilla's D = 20·N line.

use ladder_core::ParamCount;
use ladder_fit::{Approach2Json, ChinchillaLaw, TokensPerParam};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figure::{draw_legend, log_grid, log_log_chart, log_range, sci, DrawResult, Figure};

const N_COLOR: RGBColor = RGBColor(31, 119, 180);
const D_COLOR: RGBColor = RGBColor(214, 39, 40);

/// Approach 3's optimum over the budgets of the sweep.
pub struct Frontier<'a> {
    /// Approach 3's law.
    pub law: &'a ChinchillaLaw,
    /// Its optimum at each report budget, with the bootstrap spread of D*/N*.
    pub optima: &'a [TokensPerParam],
    /// Approach 2, if it ran.
    pub approach2: Option<&'a Approach2Json>,
    /// Parameter convention of N.
    pub params: ParamCount,
}

/// `(N, D)` with `6·N·D = c` and `D = ratio·N`.
fn split(c: f64, ratio: f64) -> (f64, f64) {
    let n = (c / (6.0 * ratio)).sqrt();
    (n, ratio * n)
}

impl Frontier<'_> {
    fn c_range(&self) -> Option<std::ops::Range<f64>> {
        log_range(self.optima.iter().map(|t| t.c), 2.0)
    }

    /// The lines and points to draw over the budgets `cx`.
    fn lines(&self, cx: &std::ops::Range<f64>) -> Lines {
        let grid = log_grid(cx, 80);
        let law: Vec<(f64, f64, f64)> = grid
            .iter()
            .map(|&c| {
                let (n, d) = self.law.compute_optimal(c);
                (c, n, d)
            })
            .filter(|(_, n, d)| n.is_finite() && d.is_finite() && *n > 0.0 && *d > 0.0)
            .collect();
        let twenty: Vec<(f64, f64, f64)> = grid
            .iter()
            .map(|&c| {
                let (n, d) = split(c, 20.0);
                (c, n, d)
            })
            .collect();
        let bands: Vec<(f64, [f64; 2])> = self
            .optima
            .iter()
            .filter_map(|t| Some((t.c, t.ratio_spread?.ci80)))
            .filter(|(_, r)| r[0] > 0.0 && r[1].is_finite())
            .collect();
        let minima: Vec<(f64, Option<f64>, Option<f64>)> = self
            .approach2
            .map(|a| {
                a.fit
                    .profiles
                    .iter()
                    .map(|p| (p.c, p.n_opt, p.d_opt))
                    .collect()
            })
            .unwrap_or_default();
        Lines {
            law,
            twenty,
            bands,
            minima,
        }
    }
}

impl Figure for Frontier<'_> {
    fn name(&self) -> &'static str {
        "frontier"
    }

    fn caption(&self) -> String {
        let ratio = self
            .optima
            .last()
            .map(|t| {
                format!(
                    " At C = {} approach 3 gives D*/N* = {:.3}.",
                    sci(&t.c),
                    t.ratio
                )
            })
            .unwrap_or_default();
        format!(
            "Compute-optimal frontier: approach 3's N*(C) (blue) and D*(C) (red) with 80% \
             bootstrap bands, approach 2's IsoFLOP minima (squares), and Chinchilla's D = 20·N \
             (dashed grey; N under the {} convention).{ratio}",
            self.params
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let Some(cx) = self.c_range() else {
            return crate::figure::draw_message(root, "Compute-optimal frontier", "No budget.");
        };
        let Lines {
            law,
            twenty,
            bands,
            minima,
        } = self.lines(&cx);
        // The axis follows the two laws; a wild approach-2 minimum (a parabola that is
        // nearly flat) is left off the plot rather than squashing it.
        let ys = law.iter().chain(&twenty).flat_map(|(_, n, d)| [*n, *d]);
        let Some(y) = log_range(ys, 3.0) else {
            return crate::figure::draw_message(root, "Compute-optimal frontier", "No optimum.");
        };
        let clamp = |v: f64| v.clamp(y.start, y.end);
        let mut chart = log_log_chart(
            root,
            "Compute-optimal N* and D*",
            (cx.clone(), "compute C (FLOPs)"),
            (y.clone(), "parameters N* / tokens D*"),
            true,
        )?;
        if bands.len() >= 2 {
            for (color, pick) in [(N_COLOR, 0usize), (D_COLOR, 1)] {
                // N* = √(C/(6r)) falls and D* = r·N* rises with the ratio r.
                let at = |c: f64, r: f64| {
                    let (n, d) = split(c, r);
                    clamp(if pick == 0 { n } else { d })
                };
                let upper = bands.iter().map(|(c, r)| (*c, at(*c, r[pick])));
                let lower = bands.iter().rev().map(|(c, r)| (*c, at(*c, r[1 - pick])));
                chart.draw_series(std::iter::once(Polygon::new(
                    upper.chain(lower).collect::<Vec<_>>(),
                    color.mix(0.18).filled(),
                )))?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                law.iter().map(|(c, n, _)| (*c, clamp(*n))),
                N_COLOR.stroke_width(3),
            ))?
            .label("N*(C), approach 3")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], N_COLOR.stroke_width(3)));
        chart
            .draw_series(LineSeries::new(
                law.iter().map(|(c, _, d)| (*c, clamp(*d))),
                D_COLOR.stroke_width(3),
            ))?
            .label("D*(C), approach 3")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], D_COLOR.stroke_width(3)));
        let grey = RGBColor(120, 120, 120);
        for pick in [0, 1] {
            let dashed = DashedLineSeries::new(
                twenty
                    .iter()
                    .map(|(c, n, d)| (*c, clamp(if pick == 0 { *n } else { *d }))),
                8,
                5,
                grey.stroke_width(2),
            );
            let drawn = chart.draw_series(dashed)?;
            if pick == 0 {
                drawn.label("D = 20·N (Chinchilla)").legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], grey.stroke_width(2))
                });
            }
        }
        let square = |c: f64, v: f64, color: RGBColor| {
            EmptyElement::at((c, v)) + Rectangle::new([(-5, -5), (5, 5)], color.filled())
        };
        let in_y = |v: &f64| y.contains(v);
        chart
            .draw_series(
                minima
                    .iter()
                    .filter_map(|(c, n, _)| n.filter(in_y).map(|n| square(*c, n, N_COLOR))),
            )?
            .label("approach 2 minima")
            .legend(|(x, y)| Rectangle::new([(x + 3, y - 5), (x + 13, y + 5)], BLACK.filled()));
        chart.draw_series(
            minima
                .iter()
                .filter_map(|(c, _, d)| d.filter(in_y).map(|d| square(*c, d, D_COLOR))),
        )?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

/// What the frontier plots, `(C, N, D)` along a log grid of budgets.
struct Lines {
    /// Approach 3's optimum.
    law: Vec<(f64, f64, f64)>,
    /// Chinchilla's D = 20·N.
    twenty: Vec<(f64, f64, f64)>,
    /// The 80% band of D*/N* at each report budget.
    bands: Vec<(f64, [f64; 2])>,
    /// Approach 2's minima, `(C, N_opt, D_opt)`.
    minima: Vec<(f64, Option<f64>, Option<f64>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_splits_a_budget() {
        let (n, d) = split(6.0 * 20.0 * 1e10, 20.0);
        assert!((n - 1e5).abs() < 1e-6 && (d - 2e6).abs() < 1e-4);
    }
}
