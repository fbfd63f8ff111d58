//! Approaches 2 and 3 under N = non-embedding, on runs planned iso in total FLOPs.
//!
//! The runs of a budget lie on `6·(N + emb)·D = C`, the law is true in N alone and the
//! losses carry no noise. Approach 2 finds its minimum along the runs; approach 3's
//! optimum along `6·N·D = C` is another optimum, and only the one taken along the runs'
//! own line (`optimum_on_profiles`) is approach 2's, whose D at the minimum is the runs'
//! own D there.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use ladder_fit::{
    analyse, AnalysisOptions, BootstrapOptions, ChinchillaLaw, Dataset, Point, Points,
};

const LAW: ChinchillaLaw = ChinchillaLaw {
    e: 0.9,
    a: 60.0,
    b: 600.0,
    alpha: 0.4,
    beta: 0.35,
};

/// The embedding of every model: a fixed count, so that it is 3-75% of the total.
const EMB: f64 = 3e4;

/// Four budgets of nine sizes each, 0.2 decades apart around each budget's optimum
/// along its runs; D from the total count. Also the top budget's true D*/N* along its
/// runs.
fn sweep() -> (Dataset, f64) {
    let (mut points, mut planned) = (Vec::new(), Vec::new());
    let mut truth = 0.0;
    for k in 0..4 {
        let c = 2e12 * 10f64.powf(0.5 * k as f64);
        let along = |n: f64| LAW.loss(n, c / (6.0 * (n + EMB)));
        let centre = (0..4000)
            .map(|i| 10f64.powf(3.0 + 4.0 * i as f64 / 4000.0))
            .min_by(|&x, &y| along(x).total_cmp(&along(y)))
            .unwrap();
        truth = c / (6.0 * (centre + EMB)) / centre;
        for j in -4..=4 {
            let n = centre * 10f64.powf(0.2 * j as f64);
            let d = c / (6.0 * (n + EMB));
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
    (data, truth)
}

#[test]
fn approach_3_on_the_runs_line_is_approach_2s_optimum() {
    let (data, truth) = sweep();
    let options = AnalysisOptions {
        bootstrap: BootstrapOptions {
            resamples: 0,
            ..BootstrapOptions::default()
        },
        ..AnalysisOptions::default()
    };
    let report = analyse(&data, &options).unwrap();
    let a2 = report.approach2.as_ref().unwrap();
    let top = a2.fit.top_budget();
    let profile = a2.fit.profiles.iter().find(|p| p.c == top).unwrap();
    let minimum = profile.d_opt.unwrap() / profile.n_opt.unwrap();
    let on_runs = report
        .optimum_on_profiles
        .iter()
        .find(|t| t.c == top)
        .unwrap();
    let on_six_nd = report.tokens_per_param.last().unwrap();
    // Approach 2's minimum is on the runs' line, near the true one...
    assert!((minimum / truth - 1.0).abs() < 0.01, "{minimum} vs {truth}");
    // ...along that line the law's optimum is the same...
    assert!(
        (on_runs.ratio / minimum - 1.0).abs() < 0.03,
        "{} vs {minimum}",
        on_runs.ratio
    );
    // ...and along 6·N·D = C the law's optimum is another one.
    assert!(
        (on_six_nd.ratio / minimum - 1.0).abs() > 0.2,
        "{} vs {minimum}",
        on_six_nd.ratio
    );
}
