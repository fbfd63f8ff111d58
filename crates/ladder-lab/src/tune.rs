//! `ladder tune`: the tuning sweep's best learning rate per model, written as a table
//! that `[train] lr_table` reads, and its text.

use std::path::Path;

use ladder_store::read_runs;
use ladder_sweep::{best_rates, LrTable, TunedLr};

use crate::text::line;
use crate::LabError;

/// The best rates of the finished tuning sweep in `out`, written to `out/tuned.toml`
/// (headed by how `config` was tuned); returns the table and the text to print.
pub fn write_tuned(out: &Path, config: &Path) -> Result<(LrTable, String), LabError> {
    let runs = read_runs(&out.join("sweep.h5")).map_err(|e| LabError::Runtime(e.to_string()))?;
    let (table, warnings) = best_rates(&runs);
    let path = out.join("tuned.toml");
    let body = toml::to_string(&table)
        .map_err(|e| LabError::Runtime(format!("writing the table: {e}")))?;
    let text = format!(
        "# Learning rates tuned by `ladder tune {}`: per model, the rate with the lowest final\n\
         # validation loss (mean over `seeds`) among `tried` (rate, loss). Use it with [train] lr_table = \"<this file>\".\n{body}",
        config.display(),
    );
    std::fs::write(&path, text).map_err(|source| LabError::Write {
        path: path.clone(),
        source,
    })?;
    let mut report = String::new();
    for t in &table.model {
        let tried: Vec<String> = t
            .tried
            .iter()
            .map(|(lr, loss)| {
                let mark = if *lr == t.lr { "*" } else { "" };
                format!("{lr:.2e}: {loss:.4}{mark}")
            })
            .collect();
        line(
            &mut report,
            format!(
                "d{}-l{}-h{} on {} tokens{}: {}",
                t.d_model,
                t.n_layer,
                t.n_head,
                t.tokens,
                if t.seeds > 1 {
                    format!(" (mean of {} seeds)", t.seeds)
                } else {
                    String::new()
                },
                tried.join("  ")
            ),
        );
    }
    if let Some(transfer) = transfer(&table) {
        line(&mut report, transfer);
    }
    for w in &warnings {
        line(&mut report, format!("warning: {w}"));
    }
    line(
        &mut report,
        format!(
            "best rates (*) written to {}: add lr_table = \"<its path relative to the config>\" \
             to [train]",
            path.display()
        ),
    );
    Ok((table, report))
}

/// The optimum of one model's trials: the vertex of the parabola in log(rate) through the
/// best trial and its two neighbours, kept between them; the best trial itself when it
/// is at the grid's edge.
pub fn interpolated_optimum(t: &TunedLr) -> f64 {
    let Some(i) = t.tried.iter().position(|p| p.0 == t.lr) else {
        return t.lr;
    };
    if i == 0 || i + 1 == t.tried.len() {
        return t.lr;
    }
    let [(x0, y0), (x1, y1), (x2, y2)] =
        [t.tried[i - 1], t.tried[i], t.tried[i + 1]].map(|(lr, loss)| (lr.ln(), loss));
    // Vertex of the parabola through three points (x0 < x1 < x2).
    let num = (x1 - x0).powi(2) * (y1 - y2) - (x1 - x2).powi(2) * (y1 - y0);
    let den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0);
    if den == 0.0 || !num.is_finite() {
        return t.lr;
    }
    (x1 - 0.5 * num / den).clamp(x0, x2).exp()
}

/// How the best rate moves with width: each model's interpolated optimum, and the slope
/// of log(optimum) on log(width) by least squares: 0 when the rate transfers (μP's aim),
/// −1 for the 1/width rule of the standard parametrization under Adam.
fn transfer(table: &LrTable) -> Option<String> {
    let points: Vec<(f64, f64, String)> = table
        .model
        .iter()
        .map(|t| {
            let opt = interpolated_optimum(t);
            let label = format!("d{}-l{} {opt:.2e}", t.d_model, t.n_layer);
            ((t.d_model as f64).ln(), opt.ln(), label)
        })
        .collect();
    let widths: Vec<f64> = points.iter().map(|p| p.0).collect();
    let spread = widths.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - widths.iter().cloned().fold(f64::INFINITY, f64::min);
    if points.len() < 2 || spread <= 0.0 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let labels: Vec<&str> = points.iter().map(|p| p.2.as_str()).collect();
    Some(format!(
        "best rate against width (parabola through each best trial and its neighbours): {}; \
         slope of log(rate) on log(width) {:+.2} (0: the rate transfers across widths; −1: \
         the 1/width rule), largest/smallest ×{:.2}",
        labels.join(", "),
        sxy / sxx,
        (hi - lo).exp()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuned(d_model: usize, tried: Vec<(f64, f64)>) -> TunedLr {
        let lr = tried
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|p| p.0)
            .unwrap_or(0.0);
        TunedLr {
            d_model,
            n_layer: 1,
            n_head: 1,
            lr,
            tried,
            tokens: 1000,
            seeds: 1,
        }
    }

    #[test]
    fn the_optimum_of_a_parabola_in_log_rate_is_found() {
        // loss = (ln lr − ln 3e-3)² + 2: the vertex is 3e-3, between the trials.
        let l = |lr: f64| (lr.ln() - 3e-3f64.ln()).powi(2) + 2.0;
        let t = tuned(32, [1e-3, 2e-3, 4e-3, 8e-3].map(|r| (r, l(r))).to_vec());
        assert!((interpolated_optimum(&t) / 3e-3 - 1.0).abs() < 1e-9);
        let edge = tuned(32, [1e-3, 2e-3].map(|r| (r, l(r))).to_vec());
        assert_eq!(
            interpolated_optimum(&edge),
            2e-3,
            "at the edge: the best trial"
        );
    }

    #[test]
    fn the_transfer_slope_is_that_of_the_optima() {
        // Optima at 1/width: slope −1.
        let table = LrTable {
            model: [16usize, 32, 64]
                .iter()
                .map(|&d| {
                    let best = 0.1 / d as f64;
                    let l = |lr: f64| (lr.ln() - best.ln()).powi(2);
                    tuned(d, [0.5, 1.0, 2.0].map(|f| (best * f, l(best * f))).to_vec())
                })
                .collect(),
        };
        let text = transfer(&table).unwrap_or_default();
        assert!(
            text.contains("slope of log(rate) on log(width) -1.00"),
            "{text}"
        );
    }
}
