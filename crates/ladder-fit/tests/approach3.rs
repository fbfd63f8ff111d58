//! Known-answer tests of approach 3: synthetic points from a known law, and the
//! Chinchilla points with Epoch AI's published refit.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use ladder_fit::{
    bootstrap_approach3, fit_approach3, Approach3Options, BootstrapOptions, ChinchillaLaw, IsoFlop,
    Point, Points, Resampling,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// A law near Hoffmann et al.'s rounded fit, the truth of the synthetic tests.
const HOFFMANN_LIKE: ChinchillaLaw = ChinchillaLaw {
    e: 1.7,
    a: 400.0,
    b: 400.0,
    alpha: 0.34,
    beta: 0.28,
};

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
    let truth = HOFFMANN_LIKE;
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
    let truth = HOFFMANN_LIKE;
    let fit = fit_approach3(&synthetic(truth, 0.0, 0), &Approach3Options::default()).unwrap();
    assert!(fit.objective < 1e-12, "objective {}", fit.objective);
    assert!(
        (fit.law.alpha - 0.34).abs() < 1e-3 && (fit.law.beta - 0.28).abs() < 1e-3,
        "{:?}",
        fit.law
    );
}

/// Besiroglu et al. 2024 refit Hoffmann's approach 3 on 240 of the Chinchilla points:
/// alpha 0.34731, beta 0.36718, E 1.8172, objective 0.0010182740
/// (../shared/reference/README.md). The issue asks for 0.5% on alpha, beta and E.
#[test]
fn reproduces_epoch_refit_of_chinchilla_points() {
    let Some(points) = common::chinchilla_points() else {
        return;
    };
    let fit = fit_approach3(&points, &Approach3Options::default()).unwrap();
    let law = fit.law;
    for (name, got, want) in [
        ("alpha", law.alpha, 0.34731),
        ("beta", law.beta, 0.36718),
        ("E", law.e, 1.8172),
    ] {
        assert!((got / want - 1.0).abs() < 0.005, "{name} {got} vs {want}");
    }
    assert!((law.a.ln() - 477.85f64.ln()).abs() < 0.05, "A {}", law.a);
    assert!((law.b.ln() - 2143.0f64.ln()).abs() < 0.05, "B {}", law.b);
    assert!(fit.objective <= 0.0010183, "objective {}", fit.objective);
    assert!(
        (law.n_exponent() - 0.513).abs() < 0.0015,
        "a {}",
        law.n_exponent()
    );
}

/// Epoch's bootstrap SEs (4,000 resamples): alpha 0.0154, beta 0.0206; the issue asks
/// for 25%. Their 95% intervals: alpha (0.317, 0.373), beta (0.331, 0.415).
#[test]
fn bootstrap_standard_errors_match_epoch() {
    let Some(points) = common::chinchilla_points() else {
        return;
    };
    let options = Approach3Options::default();
    let fit = fit_approach3(&points, &options).unwrap();
    let boot = BootstrapOptions {
        resamples: 300,
        seed: 1,
        ..Default::default()
    };
    let b = bootstrap_approach3(
        &points,
        &singletons(&points),
        &fit,
        &options,
        &boot,
        &[IsoFlop::Line(1e21)],
        &[],
    );
    assert_eq!(b.failed, 0);
    let spread = |name: &str| b.params.iter().find(|(n, _)| *n == name).unwrap().1;
    for (name, se) in [("alpha", 0.0154), ("beta", 0.0206)] {
        let got = spread(name).se;
        assert!((got / se - 1.0).abs() < 0.25, "SE {name} {got} vs {se}");
    }
    let alpha = spread("alpha").ci95;
    assert!(
        (alpha[0] - 0.317).abs() < 0.01 && (alpha[1] - 0.373).abs() < 0.01,
        "{alpha:?}"
    );
    // a = 0.513 with SE 0.020 (Epoch).
    let a = spread("a");
    assert!(
        a.ci95[0] < 0.513 && 0.513 < a.ci95[1] && (a.se / 0.020 - 1.0).abs() < 0.35,
        "{a:?}"
    );
}

/// `--predict`: the bootstrap records the loss at each target without changing the
/// other draws, and on 1%-noise points from a known law the prediction of a run beyond
/// the grid is close to the truth and its 95% interval holds it.
#[test]
fn bootstrap_predicts_a_run_beyond_the_grid() {
    let truth = HOFFMANN_LIKE;
    let points = synthetic(truth, 0.01, 7);
    let options = Approach3Options::default();
    let fit = fit_approach3(&points, &options).unwrap();
    let boot = BootstrapOptions {
        resamples: 100,
        seed: 3,
        ..Default::default()
    };
    let target = (1e12, 3e13);
    let with = bootstrap_approach3(
        &points,
        &singletons(&points),
        &fit,
        &options,
        &boot,
        &[IsoFlop::Line(1e21)],
        &[target],
    );
    let without = bootstrap_approach3(
        &points,
        &singletons(&points),
        &fit,
        &options,
        &boot,
        &[IsoFlop::Line(1e21)],
        &[],
    );
    assert_eq!(with.params, without.params);
    assert_eq!(with.tokens_per_param, without.tokens_per_param);
    let spread = with.predicted[0].unwrap();
    let (predicted, true_loss) = (
        fit.law.loss(target.0, target.1),
        truth.loss(target.0, target.1),
    );
    assert!(
        (predicted / true_loss - 1.0).abs() < 0.01,
        "{predicted} vs {true_loss}"
    );
    assert!(
        spread.ci95[0] <= true_loss && true_loss <= spread.ci95[1],
        "{true_loss} outside {:?}",
        spread.ci95
    );
    assert!(spread.ci80[0] <= predicted && predicted <= spread.ci80[1]);
}

/// Noise that a model's runs share (one offset per N, as the WSD branches of one stable
/// phase share theirs) is invisible to the residual bootstrap, which draws each run's
/// residual on its own; the wild bootstrap over families flips each family's residuals
/// together and sees it. Without a family term the two agree.
#[test]
fn the_family_bootstrap_sees_noise_a_models_runs_share() {
    let truth = HOFFMANN_LIKE;
    let options = Approach3Options::default();
    let boot = |resampling| BootstrapOptions {
        resamples: 100,
        seed: 5,
        resampling,
        ..Default::default()
    };
    let se_of_alpha = |family_sd: f64| {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let run = Normal::new(0.0, 0.002).unwrap();
        let family = Normal::new(0.0, family_sd.max(1e-12)).unwrap();
        let mut pts = Vec::new();
        let mut families = Vec::new();
        // 12 models × 3 seeds: each (model, seed) family trains 4 of the grid's 12 D.
        for i in 0..12 {
            let n = 1e6 * 10f64.powf(5.0 * i as f64 / 11.0);
            for seed in 0..3 {
                let shared = family.sample(&mut rng);
                let first = pts.len();
                for k in 0..4 {
                    let d = 1e7 * 10f64.powf(6.0 * (3 * k + seed) as f64 / 11.0);
                    let noise = shared + run.sample(&mut rng);
                    pts.push(Point {
                        n,
                        d,
                        loss: truth.loss(n, d) * noise.exp(),
                    });
                }
                families.push((first..pts.len()).collect::<Vec<usize>>());
            }
        }
        let points = Points::new(pts).unwrap();
        let fit = fit_approach3(&points, &options).unwrap();
        let se = |resampling| {
            let b = bootstrap_approach3(
                &points,
                &families,
                &fit,
                &options,
                &boot(resampling),
                &[],
                &[],
            );
            b.params.iter().find(|p| p.0 == "alpha").unwrap().1.se
        };
        (se(Resampling::Residuals), se(Resampling::WildFamilies))
    };
    let (plain, wild) = se_of_alpha(0.02);
    assert!(wild > 2.0 * plain, "residuals {plain}, families {wild}");
    let (plain, wild) = se_of_alpha(0.0);
    assert!(
        (wild / plain - 1.0).abs() < 0.4,
        "residuals {plain}, families {wild}"
    );
}

/// A misfit (one offset per point, shared by its seeds: the part of the point means the
/// law does not describe) is resampled by the family bootstrap as if it were seed noise,
/// with independent signs for a point's seeds, so its spread shrinks by the seeds; the
/// bootstrap by model flips a point's seeds together and keeps it. Without a misfit the
/// two agree.
#[test]
fn the_model_bootstrap_keeps_a_misfit_that_a_points_seeds_share() {
    let truth = HOFFMANN_LIKE;
    let options = Approach3Options::default();
    let se_of_alpha = |misfit_sd: f64| {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let run = Normal::new(0.0, 0.002).unwrap();
        let misfit = Normal::new(0.0, misfit_sd.max(1e-12)).unwrap();
        let (mut pts, mut families, mut models) = (Vec::new(), Vec::new(), Vec::new());
        // 12 models × 4 D, each point trained with 3 seeds; a family is a model's seed.
        for i in 0..12 {
            let n = 1e6 * 10f64.powf(5.0 * i as f64 / 11.0);
            let ds: Vec<f64> = (0..4)
                .map(|k| 1e7 * 10f64.powf(6.0 * (3 * k + i % 3) as f64 / 11.0))
                .collect();
            let offsets: Vec<f64> = ds.iter().map(|_| misfit.sample(&mut rng)).collect();
            let first = pts.len();
            for _seed in 0..3 {
                let family = pts.len();
                for (&d, &offset) in ds.iter().zip(&offsets) {
                    let noise = offset + run.sample(&mut rng);
                    pts.push(Point {
                        n,
                        d,
                        loss: truth.loss(n, d) * noise.exp(),
                    });
                }
                families.push((family..pts.len()).collect::<Vec<usize>>());
            }
            models.push((first..pts.len()).collect::<Vec<usize>>());
        }
        let points = Points::new(pts).unwrap();
        let fit = fit_approach3(&points, &options).unwrap();
        let se = |clusters: &[Vec<usize>], resampling| {
            let boot = BootstrapOptions {
                resamples: 100,
                seed: 5,
                resampling,
                ..Default::default()
            };
            let b = bootstrap_approach3(&points, clusters, &fit, &options, &boot, &[], &[]);
            b.params.iter().find(|p| p.0 == "alpha").unwrap().1.se
        };
        (
            se(&families, Resampling::WildFamilies),
            se(&models, Resampling::WildModels),
        )
    };
    // A misfit 5× the seed noise: √3 times the family bootstrap's SE, for three seeds, if
    // the misfit were all; measured 2.3×.
    let (families, models) = se_of_alpha(0.01);
    assert!(
        models > 1.5 * families,
        "families {families}, models {models}"
    );
    let (families, models) = se_of_alpha(0.0);
    assert!(
        (models / families - 1.0).abs() < 0.4,
        "families {families}, models {models}"
    );
}

/// One cluster per point: every run its own.
fn singletons(points: &Points) -> Vec<Vec<usize>> {
    (0..points.len()).map(|i| vec![i]).collect()
}
