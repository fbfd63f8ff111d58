//! Filled contours of approach 3's fitted L(N, D), with the runs, the budgets' IsoFLOP
//! lines and the compute-optimal path.

use ladder_core::ParamCount;
use ladder_fit::{Budget, ChinchillaLaw, Point};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figure::{
    draw_message, log_grid, log_log_chart, log_range, viridis, DrawResult, Figure,
};

/// Contour levels drawn.
const LEVELS: usize = 12;
/// Grid cells per axis.
const CELLS: usize = 90;

/// The fitted surface over the sampled region.
pub struct Contours<'a> {
    /// Approach 3's law.
    pub law: &'a ChinchillaLaw,
    /// The runs.
    pub points: &'a [Point],
    /// The budgets.
    pub budgets: &'a [Budget],
    /// Parameter convention of N.
    pub params: ParamCount,
}

/// `LEVELS + 1` level edges spread evenly over the losses of `values` between their 2nd
/// and 98th percentiles (so that one extreme corner does not take every colour).
fn level_edges(values: &mut [f64]) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    let q = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = (q(0.02), q(0.98));
    (0..=LEVELS)
        .map(|i| lo + (hi - lo) * i as f64 / LEVELS as f64)
        .collect()
}

/// The level index of `loss` among `edges`.
fn level(loss: f64, edges: &[f64]) -> usize {
    edges[1..edges.len() - 1]
        .iter()
        .take_while(|e| loss > **e)
        .count()
}

impl Figure for Contours<'_> {
    fn name(&self) -> &'static str {
        "contours"
    }

    fn caption(&self) -> String {
        let l = self.law;
        format!(
            "Filled contours of approach 3's L(N, D) = {:.3} + {:.3e}/N^{:.3} + {:.3e}/D^{:.3} \
             ({LEVELS} equal loss steps, dark low), the runs (white dots), each budget's \
             IsoFLOP line 6·N·D = C (dashed) and the compute-optimal path (red).",
            l.e, l.a, l.alpha, l.b, l.beta
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (Some(x), Some(y)) = (
            log_range(self.points.iter().map(|p| p.n), 2.0),
            log_range(self.points.iter().map(|p| p.d), 2.0),
        ) else {
            return draw_message(root, "Fitted L(N, D)", "No finished run.");
        };
        let (xs, ys) = (log_grid(&x, CELLS + 1), log_grid(&y, CELLS + 1));
        let mut losses: Vec<f64> = Vec::with_capacity(CELLS * CELLS);
        for j in 0..CELLS {
            for i in 0..CELLS {
                let (n, d) = ((xs[i] * xs[i + 1]).sqrt(), (ys[j] * ys[j + 1]).sqrt());
                losses.push(self.law.loss(n, d));
            }
        }
        if losses.iter().any(|l| !l.is_finite()) {
            return draw_message(
                root,
                "Fitted L(N, D)",
                "The fitted law is not finite over the sampled region; no contours.",
            );
        }
        let edges = level_edges(&mut losses.clone());
        let mut chart = log_log_chart(
            root,
            "Fitted L(N, D) (approach 3)",
            (x.clone(), &format!("N ({})", self.params)),
            (y.clone(), "D (tokens)"),
            false,
        )?;
        // One rectangle per run of equal level along a row keeps the SVG small.
        let mut cells = Vec::new();
        for j in 0..CELLS {
            let mut i = 0;
            while i < CELLS {
                let k = level(losses[j * CELLS + i], &edges);
                let mut end = i + 1;
                while end < CELLS && level(losses[j * CELLS + end], &edges) == k {
                    end += 1;
                }
                let t = k as f64 / (LEVELS - 1) as f64;
                cells.push(Rectangle::new(
                    [(xs[i], ys[j]), (xs[end], ys[j + 1])],
                    viridis(t).filled(),
                ));
                i = end;
            }
        }
        chart.draw_series(cells)?;
        for b in self.budgets {
            let line = log_grid(&x, 40)
                .into_iter()
                .map(|n| (n, b.c / (6.0 * n)))
                .filter(|(_, d)| y.contains(d));
            chart.draw_series(DashedLineSeries::new(
                line,
                6,
                4,
                WHITE.mix(0.8).stroke_width(1),
            ))?;
        }
        let path: Vec<(f64, f64)> = log_grid(&(1.0..1e30), 400)
            .into_iter()
            .map(|c| self.law.compute_optimal(c))
            .filter(|(n, d)| x.contains(n) && y.contains(d))
            .collect();
        chart.draw_series(LineSeries::new(path, RGBColor(230, 30, 30).stroke_width(3)))?;
        chart.draw_series(self.points.iter().map(|p| {
            EmptyElement::at((p.n, p.d))
                + Circle::new((0, 0), 5, WHITE.filled())
                + Circle::new((0, 0), 5, BLACK.stroke_width(1))
        }))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_split_the_central_range_evenly() {
        let mut v: Vec<f64> = (0..=100).map(f64::from).collect();
        let e = level_edges(&mut v);
        assert_eq!(e.len(), LEVELS + 1);
        assert!((e[0] - 2.0).abs() < 1e-12 && (e[LEVELS] - 98.0).abs() < 1e-12);
        assert_eq!(level(0.0, &e), 0);
        // Edges 2, 10, …, 98 (steps of 8): 51 lies above six interior edges.
        assert_eq!(level(51.0, &e), LEVELS / 2);
        assert_eq!(level(1e9, &e), LEVELS - 1);
    }
}
