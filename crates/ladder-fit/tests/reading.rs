//! Approach 2's reading of a law ([`ladder_fit::Reading`]) on noise-free runs of an
//! asymmetric law, sizes 1.5× apart as in lab-cpu-d2-wide: the reading is exactly what
//! approach 2 finds on those runs, and both sit off the law's true optimum by the
//! parabola's known pull, `≈ 2·(β − α)·m₄/(6·m₂)` in ln(D*/N*).

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use ladder_fit::{
    analyse, fit_approach2, group_planned, AnalysisOptions, BootstrapOptions, ChinchillaLaw,
    Dataset, MinimumRule, Point, Points, Reading,
};

/// lab-cpu-d2-confirm's fit (N = total), rounded: β − α = 0.56.
const LAW: ChinchillaLaw = ChinchillaLaw {
    e: 1.1,
    a: 13.2,
    b: 78_000.0,
    alpha: 0.29,
    beta: 0.85,
};

/// Sizes 1.5× apart.
const SPACING: f64 = 1.5;

/// Nine budgets √2 apart from 4.4e11; at each the five sizes nearest the law's optimum.
fn sweep() -> Dataset {
    let sizes: Vec<f64> = (0..16).map(|j| 8e3 * SPACING.powi(j)).collect();
    let (mut points, mut planned) = (Vec::new(), Vec::new());
    for k in 0..9 {
        let c = 4.4e11 * 2f64.sqrt().powi(k);
        let (n_opt, _) = LAW.compute_optimal(c);
        let mut nearest = sizes.clone();
        nearest.sort_by(|x, y| (x / n_opt).ln().abs().total_cmp(&(y / n_opt).ln().abs()));
        for &n in &nearest[..5] {
            let d = c / (6.0 * n);
            points.push(Point {
                n,
                d,
                loss: LAW.loss(n, d),
            });
            planned.push(c);
        }
    }
    let mut data = Dataset::unlabelled(Points::new(points).unwrap());
    data.planned = Some(planned);
    data
}

#[test]
fn the_reading_of_the_true_law_is_what_approach_2_finds_on_its_losses() {
    let data = sweep();
    let planned = data.planned.clone().unwrap();
    let budgets = group_planned(&planned, &planned, 1e-3);
    let fit = fit_approach2(&data.points, &budgets, MinimumRule::Local).unwrap();
    let top = fit.top_budget();
    let [n, d, _] = fit.optimum_at(top);
    let reading = Reading::new(&data.points, &budgets, &fit).unwrap();
    let (n_read, d_read) = reading.optimum(&LAW).unwrap();
    assert!((n_read / n - 1.0).abs() < 1e-9, "N* {n_read} vs {n}");
    assert!((d_read / d - 1.0).abs() < 1e-9, "D* {d_read} vs {d}");

    // Both read D*/N* high, by about the parabola's pull through five sizes 1.5× apart.
    let (n_true, d_true) = LAW.compute_optimal(top);
    let pull = (d_read / n_read) / (d_true / n_true) - 1.0;
    let s = SPACING.ln();
    let expected = (2.0 * (LAW.beta - LAW.alpha) * 3.4 * s * s / 6.0).exp() - 1.0;
    assert!(
        pull > 0.05 && (pull / expected - 1.0).abs() < 0.5,
        "pull {pull:+.3}, expected about {expected:+.3}"
    );
}

#[test]
fn the_report_compares_approach_2_with_its_reading_of_the_fitted_law() {
    let options = AnalysisOptions {
        bootstrap: BootstrapOptions {
            resamples: 0,
            ..BootstrapOptions::default()
        },
        ..AnalysisOptions::default()
    };
    let report = analyse(&sweep(), &options).unwrap();
    let a2 = &report.approach2.as_ref().unwrap().fit;
    let approach2 = a2.optimum_at(a2.top_budget())[2];
    let reading = report.approach2_of_law.as_ref().unwrap();
    let optimum = report.optimum_on_profiles.last().unwrap();
    // Approach 3 recovers the noise-free law, so its reading is approach 2's value...
    assert!(
        (reading.ratio / approach2 - 1.0).abs() < 0.01,
        "reading {} vs approach 2 {approach2}",
        reading.ratio
    );
    // ...while the law's own optimum on the same profile is some 10% lower.
    assert!(
        approach2 / optimum.ratio - 1.0 > 0.05,
        "approach 2 {approach2} vs the law's optimum {}",
        optimum.ratio
    );
}
