//! Known-answer tests of approach 3: synthetic points from a known law, and the
//! Chinchilla points with Epoch AI's published refit.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use ladder_fit::{fit_approach3, Approach3Options, ChinchillaLaw, Point, Points};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Points on a log grid of N and D from `law`, with multiplicative Gaussian noise.
fn synthetic(law: ChinchillaLaw, noise: f64, seed: u64) -> Points {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, noise).expect("noise is a valid std");
    let mut pts = Vec::new();
    // N over 1e6..1e11 and D over 1e7..1e13: a ladder wide enough to pin down E.
    for i in 0..12 {
        for j in 0..12 {
            let n = 1e6 * 10f64.powf(5.0 * i as f64 / 11.0);
            let d = 1e7 * 10f64.powf(6.0 * j as f64 / 11.0);
            let loss = law.loss(n, d) * (1.0 + normal.sample(&mut rng));
            pts.push(Point { n, d, loss });
        }
    }
    Points::new(pts).expect("synthetic points are positive")
}

#[test]
fn recovers_known_law_from_points_with_one_percent_noise() {
    let truth = ChinchillaLaw {
        e: 1.7,
        a: 400.0,
        b: 400.0,
        alpha: 0.34,
        beta: 0.28,
    };
    for seed in 0..3 {
        let fit =
            fit_approach3(&synthetic(truth, 0.01, seed), &Approach3Options::default()).unwrap();
        let law = fit.law;
        assert!(
            (law.alpha - truth.alpha).abs() < 0.02,
            "seed {seed}: alpha {}",
            law.alpha
        );
        assert!(
            (law.beta - truth.beta).abs() < 0.02,
            "seed {seed}: beta {}",
            law.beta
        );
        assert!((law.e - truth.e).abs() < 0.02, "seed {seed}: E {}", law.e);
    }
}

#[test]
fn recovers_exact_law_from_noiseless_points() {
    let truth = ChinchillaLaw {
        e: 1.7,
        a: 400.0,
        b: 400.0,
        alpha: 0.34,
        beta: 0.28,
    };
    let fit = fit_approach3(&synthetic(truth, 0.0, 0), &Approach3Options::default()).unwrap();
    assert!(fit.objective < 1e-12, "objective {}", fit.objective);
    assert!(
        (fit.law.alpha - 0.34).abs() < 1e-3 && (fit.law.beta - 0.28).abs() < 1e-3,
        "{:?}",
        fit.law
    );
}

/// `../shared` beside the repository root, or `$LADDER_SHARED`.
fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LADDER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but the shared data folder {} is missing",
        dir.display()
    );
    eprintln!(
        "skipped: no shared data at {} (set LADDER_SHARED)",
        dir.display()
    );
    None
}

/// Besiroglu et al. 2024 refit Hoffmann's approach 3 on 240 of the Chinchilla points:
/// alpha 0.3473, beta 0.3672, E 1.8172, objective 0.001018274
/// (../shared/reference/README.md).
#[test]
fn reproduces_epoch_refit_of_chinchilla_points() {
    let Some(shared) = shared_dir() else { return };
    let text = std::fs::read_to_string(shared.join("reference/chinchilla_points_ND.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(header, "N_params,D_tokens,C_flops,loss,epoch_excluded");
    let csv: String = std::iter::once("N,D,C,loss,excluded".to_string())
        .chain(lines.filter(|l| l.ends_with(",0")).map(str::to_string))
        .collect::<Vec<_>>()
        .join("\n");
    let points = Points::from_csv(&csv, "chinchilla_points_ND.csv").unwrap();
    assert_eq!(points.len(), 240);
    let fit = fit_approach3(&points, &Approach3Options::default()).unwrap();
    let law = fit.law;
    assert!((law.alpha - 0.3473).abs() < 0.005, "alpha {}", law.alpha);
    assert!((law.beta - 0.3672).abs() < 0.005, "beta {}", law.beta);
    assert!((law.e - 1.8172).abs() < 0.005, "E {}", law.e);
    assert!((law.a.ln() - 477.85f64.ln()).abs() < 0.05, "A {}", law.a);
    assert!((law.b.ln() - 2143.0f64.ln()).abs() < 0.05, "B {}", law.b);
    assert!(
        (fit.objective - 0.001018274).abs() < 2e-9,
        "objective {}",
        fit.objective
    );
}
