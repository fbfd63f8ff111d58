//! A small version of the calibration check (the full one, 200 sweeps at the lab-cpu
//! design, is in docs/LOG.md): sweeps drawn from a known law with 2% noise at a 25-run
//! IsoFLOP design, each fitted with the residual bootstrap; the 80% intervals of α, β
//! and a must hold the truth about 80% of the time.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use ladder_fit::{
    simulate, AnalysisOptions, BootstrapOptions, ChinchillaLaw, DesignPoint, Resampling,
    SimulationOptions,
};

/// The lab-cpu law (results/lab-cpu/fit.json, approach 3).
const LAW: ChinchillaLaw = ChinchillaLaw {
    e: 2.4492,
    a: 25.296,
    alpha: 0.2949,
    b: 307.07,
    beta: 0.3794,
};

/// Five IsoFLOP budgets from 6e11 to 1.6e13 (as the lab's), five sizes each around the
/// law's optimum, 0.15 decades apart.
fn design() -> Vec<DesignPoint> {
    let mut points = Vec::new();
    for k in 0..5 {
        let c = 6e11 * 10f64.powf(1.43 * k as f64 / 4.0);
        let (n_opt, _) = LAW.compute_optimal(c);
        for j in -2..=2 {
            let n = n_opt * 10f64.powf(0.15 * j as f64);
            points.push(DesignPoint {
                n,
                d: c / (6.0 * n),
                c,
                planned: Some(c),
            });
        }
    }
    points
}

#[test]
fn residual_bootstrap_intervals_cover_about_as_often_as_they_claim() {
    let options = SimulationOptions {
        noise: 0.02,
        seeds: 1,
        reps: 40,
        seed: 11,
        analysis: AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 100,
                resampling: Resampling::Residuals,
                ..BootstrapOptions::default()
            },
            ..AnalysisOptions::default()
        },
    };
    let report = simulate(&design(), &LAW, &options);
    assert_eq!(report.failed, 0);
    for name in ["approach3.alpha", "approach3.beta", "approach3.a"] {
        let q = report.quantities.iter().find(|q| q.name == name).unwrap();
        let covered = q.coverage80.unwrap();
        // 40 sweeps: a coverage of 80% is seen between about 67% and 93% (2 SE).
        assert!(
            (0.6..=0.95).contains(&covered),
            "{name}: the 80% intervals held the truth in {:.0}% of 40 sweeps",
            100.0 * covered
        );
    }
}
