//! The automatic design's search: every layout that fits the clock, with its expected
//! interval width, and the one chosen.

use ladder_fit::DesignReport;

use super::line;
use crate::auto::{top_ratio_width, DesignSpace, Layout};
use crate::duration;

/// The layouts of `space`, their simulations and the choice `best`, as a table.
pub fn design_search(
    space: &DesignSpace,
    layouts: &[Layout],
    reports: &[DesignReport],
    best: usize,
    law: &crate::DesignLaw,
    (noise, shared, misfit, model_misfit): (f64, f64, f64, f64),
) -> String {
    let lack = crate::misfit_note(law, [misfit, model_misfit]);
    let hint = crate::smooth_misfit_hint(law);
    let law = &law.name;
    let mut out = String::new();
    let sizes = &space.candidates;
    line(
        &mut out,
        format!(
            "[design]: {} candidate sizes (N {:.3e}-{:.3e}), {} training tokens, {} job(s), \
             {}; prior law: {law}, noise {:.2}%{}{}{}",
            sizes.len(),
            sizes.first().map_or(0.0, |c| c.n),
            sizes.last().map_or(0.0, |c| c.n),
            if space.capacity.is_finite() {
                format!("{:.3e}", space.capacity)
            } else {
                "unlimited".into()
            },
            space.jobs,
            duration(space.seconds),
            100.0 * noise,
            if shared > 0.0 {
                format!(
                    " per run, {:.0}% of its variance shared by a model's runs of one seed",
                    100.0 * shared
                )
            } else {
                String::new()
            },
            if misfit > 0.0 {
                format!(", misfit {:.2}% per point", 100.0 * misfit)
            } else {
                String::new()
            },
            if model_misfit > 0.0 {
                format!(", misfit {:.2}% per model", 100.0 * model_misfit)
            } else {
                String::new()
            }
        ),
    );
    line(
        &mut out,
        format!(
            "  each budget: {} sizes, at least {} on each side of the prior's optimum; \
             budgets ×{:.2} apart; the largest top budget that fits, per layout",
            2 * (space.bracket + space.margin) + 1,
            space.bracket,
            space.spacing
        ),
    );
    line(
        &mut out,
        format!(
            "  {:>7}  {:>5}  {:>4}  {:>12}  {:>12}  {:>10}  {:>8}  {:>16}  {:>8}",
            "decades",
            "seeds",
            "runs",
            "top C",
            "est. time",
            "prior D/N",
            "failed",
            "D*/N* 80% width",
            "covers"
        ),
    );
    for (i, (l, r)) in layouts.iter().zip(reports).enumerate() {
        let q = r
            .quantities
            .iter()
            .find(|q| q.name == "tokens_per_param.-1.ratio");
        line(
            &mut out,
            format!(
                "  {:>7.2}  {:>5}  {:>4}  {:>12.3e}  {:>12}  {:>10.1}  {:>8}  {:>16}  {:>8}{}",
                l.decades,
                l.seeds,
                l.runs.len() as u64 * l.seeds,
                l.budgets.last().copied().unwrap_or(0.0),
                duration(l.seconds),
                l.ratio,
                format!("{}/{}", r.failed, r.reps),
                top_ratio_width(r).map_or("-".into(), |w| format!("×{w:.2}")),
                q.and_then(|q| q.coverage80)
                    .map_or("-".into(), |c| format!("{:.0}%", 100.0 * c)),
                if i == best { "  <- chosen" } else { "" }
            ),
        );
    }
    if let Some(r) = reports.get(best) {
        // Coverage of an 80% interval over R sweeps has a binomial SE of √(0.16/R).
        line(
            &mut out,
            format!(
                "  widths and coverage from {} simulated sweeps per layout (coverage ±{:.0}%): \
                 `ladder design` with more reps (--reps 30) pins the chosen one down",
                r.reps,
                100.0 * (0.16 / r.reps.max(1) as f64).sqrt()
            ),
        );
    }
    if let (Some(k), Some(r)) = (space.held_out, reports.get(best)) {
        held_out(&mut out, k, r);
    }
    if let Some(warning) = lack {
        line(&mut out, warning);
    }
    if let Some(hint) = hint {
        line(&mut out, hint);
    }
    out
}

/// The chosen layout's held-out check (fitted on `C ≤ C_max/k`): the expected 80% widths
/// of the law's error at the top budget's optimum and of its margin over the baseline.
fn held_out(out: &mut String, k: f64, report: &DesignReport) {
    let find = |name: &str| report.quantities.iter().find(|q| q.name == name);
    let (Some(error), Some(margin)) = (find("held_out.law_error"), find("held_out.margin")) else {
        line(
            out,
            format!(
                "  held out (fitted on C ≤ C_max/{k}): the simulated sweeps gave no check \
                 of the optimum"
            ),
        );
        return;
    };
    let width = |q: &ladder_fit::QuantitySummary| {
        q.width80.map_or("-".into(), |w| {
            let range = q.width80_range.map_or(String::new(), |[lo, hi]| {
                format!(" (10-90%: {:.1}-{:.1})", 100.0 * lo, 100.0 * hi)
            });
            format!("{:.1} points{range}", 100.0 * w)
        })
    };
    let cover = |q: &ladder_fit::QuantitySummary| {
        q.coverage80
            .map_or("-".into(), |c| format!("{:.0}%", 100.0 * c))
    };
    line(
        out,
        format!(
            "  held out, the chosen layout fitted on C ≤ C_max/{k}: the law's error at the top \
             budget's optimal loss, expected 80% width {} (covers {}); |law error| − \
             |baseline error| {} (covers {}). A lab of this design can show the law within \
             ±t only if t is above half the law's width; read these as lower bounds: \
             nominal widths (calibrated ones run wider where the law misses its runs), \
             for the prior's law and the misfit above (docs/config.md)",
            width(error),
            cover(error),
            width(margin),
            cover(margin)
        ),
    );
}
