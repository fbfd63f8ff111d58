//! A fit as the text `ladder fit` prints: approach 3 with its intervals and compute
//! optima, the predictions, approaches 2 and 1, Kaplan's forms, the extrapolation test,
//! the diagnostics and the verdicts. ladder-fit returns the numbers; this writes them.

use std::fmt::Write;

use super::line;

use ladder_fit::quantile_sorted;
use ladder_fit::{
    Approach2Json, Calibration, Extrapolation, FitReport, FormFit, KaplanFits, KaplanJoint,
    MinimumRule, OptimumCheck, PowerLaw, Resampling, SeedAgreement, NEIGHBOURS,
};

use crate::laws::signed_percent;

/// `v` with `prec` decimals, or in scientific notation when that would be unreadable.
fn num(v: f64, prec: usize) -> String {
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.prec$}")
    }
}

/// `[lo, hi]` as text, or a dash.
fn interval(ci: Option<[f64; 2]>, prec: usize) -> String {
    match ci {
        Some([lo, hi]) => format!("[{}, {}]", num(lo, prec), num(hi, prec)),
        None => "-".into(),
    }
}

/// The whole report, as `ladder fit` prints it.
pub fn fit_text(report: &FitReport) -> String {
    let mut f = String::new();
    approach3(&mut f, report);
    optima(&mut f, report);
    seeds(&mut f, report);
    if let Some(agreement) = &report.seed_fits {
        seed_fits(&mut f, agreement);
    }
    if let Some(c) = &report.calibration {
        calibration(&mut f, c);
    }
    size_order(&mut f, report);
    predictions(&mut f, report);
    match (&report.approach2, &report.approach2_skipped) {
        (Some(a2), _) => approach2(&mut f, a2, report),
        (None, Some(why)) => line(&mut f, format!("Chinchilla approach 2: skipped: {why}")),
        (None, None) => {}
    }
    f.push('\n');
    approach1(&mut f, report);
    f.push('\n');
    kaplan(&mut f, &report.kaplan);
    f.push('\n');
    match &report.optimum_check {
        FormFit::Fitted(check) => optimum_check(&mut f, check),
        FormFit::Skipped { skipped } => line(
            &mut f,
            format!("held-out check of the optimum: skipped: {skipped}"),
        ),
    }
    f.push('\n');
    match &report.extrapolation {
        FormFit::Fitted(x) => extrapolation(&mut f, x),
        FormFit::Skipped { skipped } => line(&mut f, format!("extrapolation: skipped: {skipped}")),
    }
    f.push('\n');
    verdicts(&mut f, report);
    f
}

fn approach3(f: &mut String, report: &FitReport) {
    let a3 = &report.approach3;
    let law = a3.law;
    line(
        f,
        format!(
            "Chinchilla approach 3 ({} points, N = {} parameters, C = {} FLOPs)",
            report.points, report.params, report.flops
        ),
    );
    line(f, "  L(N, D) = E + A/N^alpha + B/D^beta");
    line(
        f,
        match &a3.bootstrap {
            Some(b) => format!(
                "  intervals: bootstrap{}, {} resamples ({} failed{}), seed {}",
                match b.method {
                    Some(Resampling::Residuals | Resampling::Sweep) => {
                        " of the residuals (the design kept)"
                    }
                    Some(Resampling::Pairs) => " of the points",
                    Some(Resampling::WildFamilies) => {
                        " of the residuals, one sign per model and seed (the design kept)"
                    }
                    Some(Resampling::WildModels) => {
                        " of the residuals, one sign per model, all its seeds (the design kept)"
                    }
                    None => "",
                },
                b.resamples,
                b.failed,
                if b.unreliable { ": unreliable" } else { "" },
                b.seed
            ),
            None => "  intervals: none (no bootstrap)".into(),
        },
    );
    line(
        f,
        format!(
            "  {:<10} {:>12} {:>10} {:>26}",
            "", "value", "SE", "95% interval"
        ),
    );
    for (name, v, prec) in [
        ("E", law.e, 4),
        ("A", law.a, 1),
        ("B", law.b, 1),
        ("alpha", law.alpha, 4),
        ("beta", law.beta, 4),
        ("a", a3.a, 4),
        ("b", a3.b, 4),
    ] {
        let se = a3
            .intervals
            .se
            .get(name)
            .map_or("-".into(), |s| num(*s, prec));
        let ci = interval(a3.intervals.ci95.get(name).copied(), prec);
        line(
            f,
            format!("  {name:<10} {:>12} {se:>10} {ci:>26}", num(v, prec)),
        );
    }
    line(f, format!("  objective  {:.10}", a3.objective));
    line(
        f,
        format!(
            "  starts converged: {}/{}",
            a3.converged_starts, a3.total_starts
        ),
    );
    f.push('\n');
}

/// Approach 3's compute optimum at each report budget, with intervals; none where the
/// points cannot place it ([`ladder_fit::Diagnostics::optimum_determined`]).
fn optima(f: &mut String, report: &FitReport) {
    if !report.diagnostics.optimum_determined(&report.approach3.law) {
        line(
            f,
            "  compute optima: not shown: these points do not determine L(N, D)'s optimum \
             (one model size or token count, or the fit at an edge of its range; below)",
        );
        f.push('\n');
        return;
    }
    line(
        f,
        format!(
            "  {:>10} {:>10} {:>10} {:>7} {:>18} {:>8} {:>18}",
            "C (FLOPs)", "N*", "D*", "D*/N*", "80% interval", "loss*", "95% interval"
        ),
    );
    for t in &report.tokens_per_param {
        line(
            f,
            format!(
                "  {:>10.3e} {:>10.3e} {:>10.3e} {:>7} {:>18} {:>8.4} {:>18}",
                t.c,
                t.n_opt,
                t.d_opt,
                num(t.ratio, 1),
                interval(t.ratio_spread.map(|s| s.ci80), 1),
                t.loss,
                interval(t.loss_spread.map(|s| s.ci95), 3)
            ),
        );
    }
    f.push('\n');
}

/// Monotone in size: how many (smaller, larger, tokens) comparisons of the curves have
/// the larger model behind by more than twice the seed spread, and the worst few.
fn size_order(f: &mut String, report: &FitReport) {
    let Some(order) = &report.size_order else {
        return;
    };
    line(
        f,
        format!(
            "Monotone in size: {} inversions in {} comparisons at equal tokens and equal \
             learning rate (a larger model's loss above a smaller one's by more than {:.4}: {})",
            order.inversions.len(),
            order.compared,
            order.margin,
            order.spread_from
        ),
    );
    if order.compared == 0 {
        line(
            f,
            "  no two sizes share a learning rate at any token count (under a decaying \
             schedule, runs of different lengths differ all along): to check the size order, \
             train runs of one length at every size, or WSD with branching",
        );
    }
    if order.skipped > 0 {
        line(
            f,
            format!(
                "  {} pairs skipped, one run warming up or on another schedule there ({} of \
                 them inverted)",
                order.skipped, order.inversions_skipped
            ),
        );
    }
    for inv in order.inversions.iter().take(5) {
        line(
            f,
            format!(
                "  at {:.3e} tokens: N {:.3e} at {:.4} behind N {:.3e} at {:.4} (+{:.4})",
                inv.tokens,
                inv.larger_n,
                inv.larger_loss,
                inv.smaller_n,
                inv.smaller_loss,
                inv.larger_loss - inv.smaller_loss
            ),
        );
    }
    if order.inversions.len() > 5 {
        line(
            f,
            format!("  … {} more in the JSON", order.inversions.len() - 5),
        );
    }
    f.push('\n');
}

/// The spread of the final loss over seeds, where runs repeat with other seeds.
fn seeds(f: &mut String, report: &FitReport) {
    if report.seeds.is_empty() {
        return;
    }
    let sds: Vec<f64> = report.seeds.iter().map(|s| s.sd).collect();
    let rel: Vec<f64> = report.seeds.iter().map(|s| s.sd / s.mean).collect();
    line(
        f,
        format!(
            "Seeds: {} points trained with 2+ seeds (the bootstrap resamples each point's seeds \
             together); loss SD per point median {:.4}, max {:.4} (median {:.2}% of the loss)",
            report.seeds.len(),
            median(&sds),
            sds.iter().copied().fold(0.0, f64::max),
            100.0 * median(&rel)
        ),
    );
    line(
        f,
        format!(
            "  {:>10} {:>10} {:>5} {:>8} {:>8}",
            "N", "D", "runs", "mean", "SD"
        ),
    );
    for s in report.seeds.iter().take(12) {
        line(
            f,
            format!(
                "  {:>10.3e} {:>10.3e} {:>5} {:>8.4} {:>8.4}",
                s.n, s.d, s.runs, s.mean, s.sd
            ),
        );
    }
    if report.seeds.len() > 12 {
        line(
            f,
            format!("  … {} more in the JSON", report.seeds.len() - 12),
        );
    }
    f.push('\n');
}

/// The intervals calibrated by simulation (`--calibrate`).
fn calibration(f: &mut String, c: &Calibration) {
    let n = &c.noise;
    line(
        f,
        format!(
            "Intervals calibrated by simulation: {} of {} sweeps fitted ({} resamples each), \
             drawn like these runs from approach 3's law with noise {:.2}% per run and {:.2}% \
             per model and seed, misfit {:.2}% per point and {:.2}% per model (from {})",
            c.fitted,
            c.sweeps,
            c.resamples,
            100.0 * n.run,
            100.0 * n.family,
            100.0 * n.point_misfit,
            100.0 * n.model_misfit,
            n.from
        ),
    );
    line(
        f,
        format!(
            "  {:<26} {:>9} {:>20} {:>9} {:>17} {:>20} {:>9} {:>20}",
            "quantity",
            "estimate",
            "80% interval",
            "cover 80",
            "factor (MC 80%)",
            "calibrated 80%",
            "cover 95",
            "calibrated 95%"
        ),
    );
    for q in &c.intervals {
        let prec = if q.ratio { 1 } else { 4 };
        let factor = match (q.factor80, q.factor80_range) {
            (Some(k), Some([lo, hi])) => format!("{k:.2} ({lo:.2}-{hi:.2})"),
            (Some(k), None) => format!("{k:.2}"),
            (None, _) => "-".into(),
        };
        line(
            f,
            format!(
                "  {:<26} {:>9} {:>20} {:>8.0}% {:>17} {:>20} {:>8.0}% {:>20}",
                q.name,
                num(q.estimate, prec),
                interval(Some(q.ci80), prec),
                100.0 * q.coverage80,
                factor,
                interval(q.calibrated80, prec),
                100.0 * q.coverage95,
                interval(q.calibrated95, prec)
            ),
        );
    }
    line(
        f,
        "  cover 80 (95): how often the simulated sweeps' 80% (95%) intervals held the law they \
         were drawn from; factor: how much wider the 80% interval must be (about the estimate, \
         in log for D*/N*) to hold it 8 times in 10, with the range its finite number of \
         sweeps leaves it (80%). Never narrowed: a misfit that is not \
         random about the law (its form's) is not simulated, so these are lower bounds.",
    );
    f.push('\n');
}

/// Each seed's own fit beside the pooled one (`--per-seed`).
fn seed_fits(f: &mut String, s: &SeedAgreement) {
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    };
    line(
        f,
        format!(
            "Each seed's runs fitted alone, at C = {:.3e}: D*/N* pooled {} {}",
            s.c,
            num(s.pooled, 1),
            interval(s.pooled_spread.map(|p| p.ci80), 1)
        ),
    );
    line(
        f,
        format!(
            "  {:>10} {:>5} {:>10} {:>20} {:>8}",
            "seed", "runs", "D*/N*", "80% interval", "a"
        ),
    );
    for seed in &s.seeds {
        line(
            f,
            format!(
                "  {:>10} {:>5} {:>10} {:>20} {:>8.4}",
                seed.seed,
                seed.runs,
                num(seed.ratio, 1),
                interval(seed.ratio_spread.map(|p| p.ci80), 1),
                seed.a
            ),
        );
    }
    // Seeds read beyond their runs, grouped by where their runs stop.
    let mut beyond: Vec<(f64, Vec<String>)> = Vec::new();
    for seed in &s.seeds {
        let Some(top) = seed.beyond_runs else {
            continue;
        };
        match beyond.iter_mut().find(|(c, _)| *c == top) {
            Some((_, seeds)) => seeds.push(seed.seed.to_string()),
            None => beyond.push((top, vec![seed.seed.to_string()])),
        }
    }
    for (top, seeds) in &beyond {
        line(
            f,
            format!(
                "  read beyond the runs, which stop at C = {top:.3e}: {} {}",
                if seeds.len() == 1 { "seed" } else { "seeds" },
                seeds.join(", ")
            ),
        );
    }
    for why in &s.left_out {
        line(f, format!("  left out: {why}"));
    }
    line(
        f,
        format!(
            "  every seed inside the pooled 80% interval: {}; the pooled value inside every \
             seed's own: {}",
            yes_no(s.every_seed_inside_pooled),
            yes_no(s.pooled_inside_every_seed)
        ),
    );
    match &s.consistency {
        Some(c) => line(
            f,
            format!(
                "  seeds consistent with their own intervals: Cochran's Q {:.2} on {} dof, p {:.3} \
                 ({} at 0.1; a correct sweep with honest intervals passes 9 times in 10)",
                c.q,
                c.dof,
                c.p,
                if c.p >= 0.1 { "consistent" } else { "not consistent" }
            ),
        ),
        None => line(
            f,
            "  seeds consistent: cannot tell (fewer than two seeds with intervals)",
        ),
    }
    f.push('\n');
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5)
}

fn predictions(f: &mut String, report: &FitReport) {
    if report.predictions.is_empty() {
        return;
    }
    line(f, "Approach 3's predictions");
    line(
        f,
        format!(
            "  {:>10} {:>10} {:>10} {:>8} {:>18} {:>18}",
            "N", "D", "C=6ND", "loss", "80% interval", "95% interval"
        ),
    );
    for p in &report.predictions {
        line(
            f,
            format!(
                "  {:>10.3e} {:>10.3e} {:>10.3e} {:>8.4} {:>18} {:>18}",
                p.n,
                p.d,
                p.c,
                p.loss,
                interval(p.loss_spread.map(|s| s.ci80), 3),
                interval(p.loss_spread.map(|s| s.ci95), 3)
            ),
        );
    }
    f.push('\n');
}

fn approach2(f: &mut String, a2: &Approach2Json, report: &FitReport) {
    let rule = match a2.fit.rule {
        MinimumRule::Local => format!(
            "each minimum from a parabola through the lowest size and {NEIGHBOURS} on each side"
        ),
        MinimumRule::Nearest => {
            "each minimum from a parabola through the lowest size and 1 on each side".into()
        }
        MinimumRule::AllPoints => "each minimum from a parabola through every point".into(),
        MinimumRule::Cubic => "each minimum from a cubic through every point".into(),
    };
    line(
        f,
        format!(
            "Chinchilla approach 2 (IsoFLOP minima, {} of {} budgets used; {rule}; lines {})",
            a2.fit.budgets_used,
            a2.fit.profiles.len(),
            if a2.fit.weighted {
                "weighted by each budget's bootstrap variance"
            } else {
                "unweighted"
            }
        ),
    );
    approach2_bootstrap(f, a2);
    for (name, v) in [("a", a2.fit.a), ("b", a2.fit.b)] {
        line(
            f,
            format!(
                "  {name} = {v:.4}, 80% interval {}, 95% interval {}",
                interval(a2.intervals.ci80.get(name).copied(), 4),
                interval(a2.intervals.ci95.get(name).copied(), 4)
            ),
        );
    }
    let top = a2.fit.top_budget();
    let [n, d, ratio] = a2.fit.optimum_at(top);
    line(
        f,
        format!(
            "  at the top budget C = {top:.3e}: N* = {n:.3e}, D* = {d:.3e}, D*/N* = {ratio:.1}, 80% \
             interval {}, 95% interval {} (from the lines, not from L(N, D))",
            interval(a2.intervals.ci80.get("ratio").copied(), 1),
            interval(a2.intervals.ci95.get("ratio").copied(), 1)
        ),
    );
    let approach3 = &report.optimum_on_profiles;
    if let Some(t) = approach3.iter().find(|t| (t.c / top - 1.0).abs() < 1e-9) {
        line(
            f,
            format!(
                "  approach 3 along the same profile's runs: N* = {:.3e}, D* = {:.3e}, D*/N* = \
                 {}, 80% interval {}",
                t.n_opt,
                t.d_opt,
                num(t.ratio, 1),
                interval(t.ratio_spread.map(|s| s.ci80), 1)
            ),
        );
    }
    if let Some(t) = &report.approach2_of_law {
        line(
            f,
            format!(
                "  approach 2 on the law's own losses (same windows and lines; what approach 2 \
                 should read if the law holds): D*/N* = {}, 80% interval {}",
                num(t.ratio, 1),
                interval(t.ratio_spread.map(|s| s.ci80), 1)
            ),
        );
    }
    line(
        f,
        format!(
            "  {:>10} {:>7} {:>23} {:>10} {:>10} {:>8} {:>6} {:>16}",
            "C (FLOPs)", "points", "sizes fitted", "N_opt", "SE ln N", "loss", "R²", "lack of fit"
        ),
    );
    for p in &a2.fit.profiles {
        let n = p.n_opt.map_or("-".into(), |n| format!("{n:.3e}"));
        let se = p.ln_n_opt_se.map_or("-".into(), |s| format!("{s:.3}"));
        let l = p.loss_min.map_or("-".into(), |l| format!("{l:.4}"));
        let window = format!("{:.3e}-{:.3e}", p.window[0], p.window[1]);
        let r2 = p.r2.map_or("-".into(), |r| format!("{r:.3}"));
        let lack = p
            .lack_of_fit
            .map_or("-".into(), |t| format!("F {:.2}, p {:.3}", t.f, t.p));
        line(
            f,
            format!(
                "  {:>10.3e} {:>7} {window:>23} {n:>10} {se:>10} {l:>8} {r2:>6} {lack:>16}",
                p.c, p.points
            ),
        );
        for w in &p.warnings {
            line(f, format!("    warning: {w}"));
        }
    }
    if a2.fit.profiles.iter().any(|p| p.lack_of_fit.is_some()) {
        line(
            f,
            "  R²: the parabola's over the window's mean losses; lack of fit: the parabola \
             against the seed noise (F on sizes − 3 and runs − sizes dof; p < 0.05: it misses \
             its points by more than the seeds scatter)",
        );
    }
}

/// How approach 2's bootstrap ran: resamples, failures, the noise it added.
fn approach2_bootstrap(f: &mut String, a2: &Approach2Json) {
    let noise = a2.noise.as_ref().map_or_else(
        || "no noise measured".to_string(),
        |n| {
            let by_budget = match (
                n.by_budget.iter().copied().reduce(f64::min),
                n.by_budget.iter().copied().reduce(f64::max),
            ) {
                (Some(lo), Some(hi)) if hi > lo => {
                    format!(", each budget's own from {lo:.4} to {hi:.4}")
                }
                _ => String::new(),
            };
            let shared = if n.shared_pairs > 0 {
                format!(
                    ", {:.0}% of it shared by a model's runs of one seed ({} pairs)",
                    100.0 * n.shared,
                    n.shared_pairs
                )
            } else {
                String::new()
            };
            let misfit = match ladder_fit::pooled_lack_of_fit(&a2.fit.profiles) {
                Some((f, p)) if n.model_misfit > 0.0 => format!(
                    ", and {:.4} per model: the profiles miss their sizes by more than the \
                     seeds scatter (pooled lack-of-fit F {f:.2}, p {p:.1e}), a misfit every \
                     seed of a size shares",
                    n.model_misfit
                ),
                _ => String::new(),
            };
            format!(
                "noise sd {:.4} per run from the {} ({} dof){by_budget}{shared}{misfit}",
                n.sd, n.from, n.dof
            )
        },
    );
    match &a2.bootstrap {
        Some(b) => line(
            f,
            format!(
                "  intervals: noise bootstrap, {} resamples ({} failed{}), {noise}",
                b.resamples,
                b.failed,
                if b.unreliable {
                    ": more than 5%, so the intervals are unreliable"
                } else {
                    ""
                }
            ),
        ),
        None => line(f, "  intervals: none (no bootstrap)"),
    }
}

fn approach1(f: &mut String, report: &FitReport) {
    match &report.approach1 {
        FormFit::Fitted(a1) => line(
            f,
            format!(
                "Chinchilla approach 1 (training-curve envelope, {} grid points, {} sizes on it): \
                 a = {:.4}, b = {:.4} (a mid-run point, taken before the learning rate has decayed, \
                 overstates the loss of a shorter run)",
                a1.envelope.len(),
                a1.sizes_on_envelope,
                a1.a,
                a1.b
            ),
        ),
        FormFit::Skipped { skipped } => {
            line(f, format!("Chinchilla approach 1: skipped: {skipped}"))
        }
    }
}

fn kaplan(f: &mut String, k: &KaplanFits) {
    line(f, "Kaplan et al. 2020 forms (log-space Huber fits)");
    for (name, pair) in [
        ("L(N), each N at its largest D", &k.l_n),
        ("L(D), each D at its largest N", &k.l_d),
        ("L(C), compute frontier", &k.l_c),
    ] {
        for (form, fit) in [
            ("E + (x_c/x)^alpha", &pair.with_e),
            ("(x_c/x)^alpha", &pair.without_e),
        ] {
            let _ = write!(f, "  {name:<30} {form:<18} ");
            match fit {
                FormFit::Fitted(p) => power_law(f, p),
                FormFit::Skipped { skipped } => line(f, format!("skipped: {skipped}")),
            }
        }
    }
    match &k.joint {
        FormFit::Fitted(j) => joint(f, j),
        FormFit::Skipped { skipped } => line(f, format!("  joint L(N, D): skipped: {skipped}")),
    }
}

fn power_law(f: &mut String, p: &PowerLaw) {
    let PowerLaw {
        e,
        x_c,
        alpha,
        r2_log,
        points,
        degenerate,
    } = p;
    let _ = write!(
        f,
        "alpha {alpha:.4}  x_c {x_c:.3e}  E {e:.4}  R² {r2_log:.4}  ({points} points)"
    );
    degenerate_note(f, degenerate.as_deref());
}

fn joint(f: &mut String, j: &KaplanJoint) {
    let _ = write!(
        f,
        "  L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D: alpha_N {:.4}  alpha_D {:.4}  \
         N_c {:.3e}  D_c {:.3e}  R² {:.4}",
        j.alpha_n, j.alpha_d, j.n_c, j.d_c, j.r2_log
    );
    degenerate_note(f, j.degenerate.as_deref());
}

/// Ends a fit's line, with why it is degenerate if it is.
fn degenerate_note(f: &mut String, why: Option<&str>) {
    match why {
        Some(why) => line(f, format!("  degenerate: {why}")),
        None => f.push('\n'),
    }
}

fn optimum_check(f: &mut String, check: &OptimumCheck) {
    line(
        f,
        format!(
            "held-out check of the optimum at the top budget C = {:.3e}: approach 3 on the {} \
             points of the {} budgets with C ≤ C_max/{}, against the minimum observed there \
             and a baseline (power laws in C through the smaller budgets' minima)",
            check.c, check.fitted_points, check.fitted_budgets, check.k
        ),
    );
    let tried = check.resamples + check.failed;
    if check.margin_spread.is_some() {
        line(
            f,
            format!(
                "  errors with 80% intervals ({tried} bootstrap resamples, {} failed)",
                check.failed
            ),
        );
    } else if tried > 0 {
        line(
            f,
            format!(
                "  no intervals: the check failed on {} of {tried} bootstrap resamples",
                check.failed
            ),
        );
    }
    line(
        f,
        format!(
            "  {:<12} {:>8} {:>24} {:>10} {:>24} {:>10} {:>24}",
            "", "loss*", "error", "N*", "error", "D*", "error"
        ),
    );
    let o = &check.observed;
    line(
        f,
        format!(
            "  {:<12} {:>8.4} {:>24} {:>10.3e} {:>24} {:>10.3e} {:>24}",
            "observed", o.loss, "", o.n, "", o.d, ""
        ),
    );
    let with = |e: f64, ci: Option<[f64; 2]>, digits: usize| {
        let e = signed_percent(e, digits);
        match ci {
            Some([lo, hi]) => format!(
                "{e} [{}, {}]",
                signed_percent(lo, digits),
                signed_percent(hi, digits)
            ),
            None => e,
        }
    };
    for (name, p) in [("approach 3", &check.law), ("baseline", &check.baseline)] {
        let (o, s) = (&p.optimum, p.error_spread);
        line(
            f,
            format!(
                "  {name:<12} {:>8.4} {:>24} {:>10.3e} {:>24} {:>10.3e} {:>24}",
                o.loss,
                with(p.loss_error, s.map(|s| s.loss.ci80), 2),
                o.n,
                with(p.n_error, s.map(|s| s.n.ci80), 1),
                o.d,
                with(p.d_error, s.map(|s| s.d.ci80), 1)
            ),
        );
    }
    if let Some([lo, hi]) = check.margin_spread.map(|s| s.ci80) {
        line(
            f,
            format!(
                "  |law error| − |baseline error| = {} [{}, {}]",
                signed_percent(check.margin, 2),
                signed_percent(lo, 2),
                signed_percent(hi, 2)
            ),
        );
    }
    line(f, format!("  the law {}", check.comparison()));
}

fn extrapolation(f: &mut String, x: &Extrapolation) {
    match (x.mean_rel_error, x.mean_abs_rel_error, &x.undefined) {
        (Some(mean), Some(mean_abs), _) => line(
            f,
            format!(
                "per run: approach 3 on the {} points with C ≤ C_max/{} = {:.3e} \
                 predicts the {} larger runs with mean relative error {:+.2}% \
                 (mean |error| {:.2}%)",
                x.fitted_points,
                x.k,
                x.c_cut,
                x.held_out.len(),
                100.0 * mean,
                100.0 * mean_abs
            ),
        ),
        (_, _, why) => line(
            f,
            format!(
                "extrapolation (C_max/{}): undefined: {}",
                x.k,
                why.as_deref().unwrap_or("a prediction is not finite")
            ),
        ),
    }
    for h in x.held_out.iter().take(10) {
        line(
            f,
            match (h.predicted, h.rel_error) {
                (Some(p), Some(e)) => format!(
                    "  {:<24} C {:.3e}  loss {:.4}  predicted {:.4}  {:+.2}%",
                    h.run,
                    h.c,
                    h.loss,
                    p,
                    100.0 * e
                ),
                _ => format!(
                    "  {:<24} C {:.3e}  loss {:.4}  predicted: none (not finite)",
                    h.run, h.c, h.loss
                ),
            },
        );
    }
    if x.held_out.len() > 10 {
        line(f, format!("  … {} more in the JSON", x.held_out.len() - 10));
    }
}

/// Where the law is rejected and its misfit runs smoothly across sizes (the test of an
/// independent misfit rejects at 0.05, the smooth one's size identified), what that does
/// to the intervals; `None` otherwise.
fn size_misfit_line(by_size: &ladder_fit::SizeMisfit) -> Option<String> {
    by_size.is_smooth().then(|| {
        format!(
            "misfit by size: it runs smoothly across sizes (correlation length {} in ln N, \
             {:.2}% per model, against {:.2}% if independent; likelihood-ratio test of an \
             independent misfit p {:.3}); the law's form absorbs part of such a misfit into \
             its exponents, so intervals that resample it as noise (the bootstrap's, \
             `--calibrate`'s) cover less than they claim; `ladder design CONFIG --law \
             fit.json --model-misfit-length auto` simulates a design under it",
            by_size.length,
            100.0 * by_size.sd,
            100.0 * by_size.independent_sd,
            by_size.p
        )
    })
}

fn verdicts(f: &mut String, report: &FitReport) {
    let d = &report.diagnostics;
    line(
        f,
        format!(
            "diagnostics: log-space R² {:.4}; residual trend vs N rho {:.2} (p {:.3}), vs D rho \
             {:.2} (p {:.3})",
            d.r2_log, d.trend_n.rho, d.trend_n.p, d.trend_d.rho, d.trend_d.p
        ),
    );
    if let Some(t) = &d.lack_of_fit {
        line(
            f,
            format!(
                "lack of fit: the point means miss the law by {:.2}% RMS, the seeds scatter by \
                 {:.2}% (pooled SD over {} runs at {} points); F {:.2} on ({}, {}) dof, p {:.2e}",
                100.0 * t.misfit_rms,
                100.0 * t.seed_sd,
                t.runs,
                t.points,
                t.f,
                t.points - t.params,
                t.runs - t.points,
                t.p
            ),
        );
        if t.p < 0.05 {
            let by_size = ladder_fit::NoiseModel::size_misfit_of_report(report);
            if let Some(text) = by_size.as_ref().and_then(size_misfit_line) {
                line(f, text);
            }
        }
    }
    for why in &d.degenerate {
        line(f, format!("degenerate: {why}"));
    }
    for why in &report.below_entropy_rate {
        line(f, format!("impossible: {why}"));
    }
    for v in &report.verdicts {
        let word = match v.holds {
            Some(true) => "holds",
            Some(false) => "does not hold",
            None => "cannot tell",
        };
        line(f, format!("verdict: {}: {word}: {}", v.claim, v.detail));
    }
}
