//! The nonparametric bootstrap (Efron & Tibshirani 1993): resample the points with
//! replacement, refit, and read standard errors and percentile intervals off the
//! refits. Besiroglu et al. 2024 did this for approach 3 with 4,000 resamples.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::Spread;

/// What approach 3's bootstrap resamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resampling {
    /// The points themselves, with replacement (Efron & Tibshirani 1993, §9.5; what
    /// Besiroglu et al. 2024 did for Chinchilla's points).
    #[default]
    Pairs,
    /// The residuals of the fit in log loss, rescaled for the five fitted parameters and
    /// added back to the fitted values, so that every resample keeps the design's (N, D)
    /// (the bootstrap for a fixed design; Davison & Hinkley 1997, §6.2.3).
    Residuals,
    /// The same residuals, each family's (the runs of one model and seed, which share
    /// their noise: WSD branches of one stable phase) multiplied by one random sign per
    /// resample: the wild cluster bootstrap (Cameron, Gelbach & Miller 2008), which keeps
    /// the design and the noise that a family's runs share.
    WildFamilies,
    /// The same residuals, all runs of one model (one N: every seed and budget) times one
    /// random sign per resample. A point's seeds then keep what they share, which the
    /// law's misfit at that point is: under [`Resampling::WildFamilies`] their signs are
    /// independent, so a point mean varies as (τ² + σ²)/K where the truth is τ² + σ²/K
    /// (τ the misfit, σ the seed noise, K seeds). It carries a family's shared noise too,
    /// across fewer clusters (the sizes, not the sizes × seeds). With one seed a model is
    /// a family, and it draws as [`Resampling::WildFamilies`].
    WildModels,
    /// For a sweep's runs, whose design the plan fixed: [`Resampling::WildFamilies`] when
    /// some of its runs share a family (WSD branches of one model and seed), else
    /// [`Resampling::Residuals`]. With one seed a sweep has only as many families as sizes
    /// (6-11), few clusters for five parameters, but the residual bootstrap is worse
    /// there: it cannot carry what a family's runs share, and the simulator found its
    /// one-seed 80% intervals covering 61% (wild-families, its family residuals adjusted
    /// for leverage: 74%; docs/LOG.md, 2026-12-05). [`crate::analyse`] resolves it from the
    /// data and records the method it used.
    Sweep,
}

impl Resampling {
    /// The method this stands for on `data`: itself, or for [`Resampling::Sweep`] the one
    /// its seeds and families call for.
    pub fn resolve(self, data: &crate::Dataset) -> Resampling {
        if self != Resampling::Sweep {
            return self;
        }
        if data.family_groups().len() < data.points.len() {
            Resampling::WildFamilies
        } else {
            Resampling::Residuals
        }
    }
}

/// The first stream of the terms drawn per family (the simulator's family noise, approach
/// 2's shared noise): apart from the per-draw streams `0, 1, …`, so that the draws of each
/// run do not change when family terms are added beside them.
pub(crate) const FAMILY_STREAMS: u64 = 1 << 32;

/// The first stream of approach 2's terms drawn per model ([`Approach2Misfit::PerModel`]),
/// apart from the others for the same reason.
pub(crate) const MODEL_STREAMS: u64 = 4 << 32;

/// Whether approach 2's bootstrap draws, besides the seeds' noise, the misfit its
/// profiles show beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Approach2Misfit {
    /// The seeds' noise only.
    Off,
    /// Also a term per model (one N: every seed and budget of it), one draw per
    /// resample, of the SD the profiles' parabolas miss their sizes by beyond the seeds'
    /// scatter (pooled over the profiles' lack-of-fit tests); only with seeds.
    PerModel,
    /// As `PerModel` where the profiles' pooled lack-of-fit test rejects at 0.05
    /// ([`crate::profiles_reject`]), else as `Off`: a law that holds pays for
    /// the term about one time in twenty. The default: on simulated sweeps with a
    /// misfit per model it brought approach 2's 80% intervals from 37-48% coverage to
    /// 77-87%, and on sweeps of a law that holds it left their widths within 2%
    /// (docs/LOG.md, thirty-fourth session).
    #[default]
    Auto,
}

/// Settings of a bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    /// Number of resamples (default 1,000).
    pub resamples: usize,
    /// Seed of the resampling; draw `i` uses stream `i` of ChaCha8 seeded with it, so
    /// the draws do not depend on the number of threads.
    pub seed: u64,
    /// Approach 3 refits: L-BFGS runs from this many of the grid's best starts (by
    /// objective at the start) and from the full-data fit.
    pub screen_keep: usize,
    /// What approach 3's bootstrap resamples.
    pub resampling: Resampling,
    /// Whether approach 2's bootstrap draws its profiles' misfit.
    pub approach2_misfit: Approach2Misfit,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            resamples: 1000,
            seed: 0,
            screen_keep: 16,
            resampling: Resampling::Pairs,
            approach2_misfit: Approach2Misfit::Auto,
        }
    }
}

/// The draws of a bootstrap: one row of quantities per successful resample.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    /// `rows[r][q]`: quantity `q` of resample `r`.
    pub rows: Vec<Vec<f64>>,
    /// Resamples whose refit failed (for example too few distinct points).
    pub failed: usize,
}

impl Draws {
    /// The spread of quantity `q` over the successful draws.
    pub fn spread(&self, q: usize) -> Option<Spread> {
        let column: Vec<f64> = self.rows.iter().map(|r| r[q]).collect();
        Spread::of(&column)
    }
}

/// Runs `refit` on `options.resamples` resamples, in parallel. Each resample draws,
/// within every stratum of `strata` (lists of point indices), as many indices as the
/// stratum holds, with replacement; `refit` gets the concatenated indices and returns
/// the quantities of interest, or `None` if that resample cannot be fitted.
pub fn bootstrap<F>(strata: &[Vec<usize>], options: &BootstrapOptions, refit: F) -> Draws
where
    F: Fn(&[usize]) -> Option<Vec<f64>> + Sync,
{
    resample(
        options,
        |rng| {
            strata
                .iter()
                .flat_map(|s| {
                    (0..s.len())
                        .map(|_| s[rng.random_range(0..s.len())])
                        .collect::<Vec<_>>()
                })
                .collect()
        },
        |indices: &Vec<usize>| refit(indices),
    )
}

/// The bootstraps' common loop: resample `r` draws its input with `draw` from stream `r`
/// of ChaCha8 seeded with `options.seed` (so that the draws do not depend on the number
/// of threads) and refits it, in parallel.
fn resample<T, D, F>(options: &BootstrapOptions, draw: D, refit: F) -> Draws
where
    D: Fn(&mut ChaCha8Rng) -> T + Sync,
    F: Fn(&T) -> Option<Vec<f64>> + Sync,
{
    let results: Vec<Option<Vec<f64>>> = (0..options.resamples)
        .into_par_iter()
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
            rng.set_stream(r as u64);
            refit(&draw(&mut rng))
        })
        .collect();
    let failed = results.iter().filter(|r| r.is_none()).count();
    Draws {
        rows: results.into_iter().flatten().collect(),
        failed,
    }
}

/// Runs `refit` on `options.resamples` cluster resamples, in parallel: each draws as
/// many clusters as there are, with replacement, and passes the members of every drawn
/// cluster. Runs that differ only by seed form one cluster, so a resample keeps or drops
/// all of a point's seeds together (their losses are not independent draws of the law).
/// With one point per cluster this is the plain bootstrap, draw for draw.
pub fn bootstrap_clusters<F>(clusters: &[Vec<usize>], options: &BootstrapOptions, refit: F) -> Draws
where
    F: Fn(&[usize]) -> Option<Vec<f64>> + Sync,
{
    resample(
        options,
        |rng| {
            (0..clusters.len())
                .flat_map(|_| {
                    clusters[rng.random_range(0..clusters.len())]
                        .iter()
                        .copied()
                })
                .collect()
        },
        |indices: &Vec<usize>| refit(indices),
    )
}

/// Runs `refit` on `options.resamples` wild resamples, in parallel: each draws one
/// Rademacher sign (±1, even odds) per group of `groups` and passes them.
pub fn bootstrap_signs<F>(groups: usize, options: &BootstrapOptions, refit: F) -> Draws
where
    F: Fn(&[f64]) -> Option<Vec<f64>> + Sync,
{
    resample(
        options,
        |rng| {
            (0..groups)
                .map(|_| if rng.random_bool(0.5) { 1.0 } else { -1.0 })
                .collect()
        },
        |signs: &Vec<f64>| refit(signs),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_with_families_is_bootstrapped_by_family_with_one_seed_too() {
        let points = crate::Points::new(
            (0..6)
                .map(|i| crate::Point {
                    n: 1e4 * (1 + i / 3) as f64,
                    d: 1e6 * (1 + i % 3) as f64,
                    loss: 2.0 + 0.1 * i as f64,
                })
                .collect(),
        )
        .unwrap();
        let mut data = crate::Dataset::unlabelled(points);
        // Every run its own family (no branching): the residual bootstrap.
        assert_eq!(Resampling::Sweep.resolve(&data), Resampling::Residuals);
        // One seed whose two sizes each branch at three token counts.
        data.families = vec![0, 0, 0, 1, 1, 1];
        assert_eq!(Resampling::Sweep.resolve(&data), Resampling::WildFamilies);
        // An explicit method is kept.
        assert_eq!(Resampling::Pairs.resolve(&data), Resampling::Pairs);
        // A model is every run of one N, whatever its family.
        data.families = vec![0, 1, 2, 3, 4, 5];
        assert_eq!(data.model_groups(), vec![vec![0, 1, 2], vec![3, 4, 5]]);
    }

    #[test]
    fn standard_error_of_a_mean_matches_theory() {
        // The bootstrap SE of the mean of n points is sd·√((n−1)/n)/√n.
        let x: Vec<f64> = (0..50).map(|i| ((i * 37) % 50) as f64).collect();
        let all: Vec<usize> = (0..x.len()).collect();
        let options = BootstrapOptions {
            resamples: 4000,
            seed: 7,
            ..Default::default()
        };
        let draws = bootstrap(&[all], &options, |idx| {
            Some(vec![
                idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64,
            ])
        });
        let (_, sd) = crate::stats::mean_sd(&x);
        let n = x.len() as f64;
        let theory = sd * ((n - 1.0) / n).sqrt() / n.sqrt();
        let se = draws.spread(0).unwrap().se;
        assert!((se / theory - 1.0).abs() < 0.05, "se {se} theory {theory}");
    }

    #[test]
    fn draws_do_not_depend_on_thread_count() {
        let strata = vec![(0..10).collect::<Vec<_>>(), (10..13).collect()];
        let options = BootstrapOptions {
            resamples: 20,
            ..Default::default()
        };
        let run = |threads| {
            on_threads(threads, || {
                bootstrap(&strata, &options, |idx| {
                    // Strata are respected: the last 3 indices come from 10..13.
                    assert!(idx[10..].iter().all(|&i| i >= 10));
                    Some(idx.iter().map(|&i| i as f64).collect())
                })
            })
        };
        assert_eq!(run(1), run(2));
    }

    /// `f` on a rayon pool of `threads` threads.
    fn on_threads(threads: usize, f: impl FnOnce() -> Draws + Send) -> Draws {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn wild_signs_are_even_odds_and_do_not_depend_on_thread_count() {
        let options = BootstrapOptions {
            resamples: 400,
            ..Default::default()
        };
        let run = |threads| {
            on_threads(threads, || {
                bootstrap_signs(5, &options, |signs| Some(signs.to_vec()))
            })
        };
        let draws = run(1);
        assert_eq!(draws, run(2));
        assert_eq!(draws.rows.len(), 400);
        let signs: Vec<f64> = draws.rows.concat();
        assert!(signs.iter().all(|&s| s == 1.0 || s == -1.0));
        // 2000 fair signs: a mean beyond ±0.1 is 4.5 SE away.
        let mean = signs.iter().sum::<f64>() / signs.len() as f64;
        assert!(mean.abs() < 0.1, "{mean}");
    }

    #[test]
    fn singleton_clusters_draw_as_the_plain_bootstrap() {
        let all: Vec<usize> = (0..7).collect();
        let singletons: Vec<Vec<usize>> = all.iter().map(|&i| vec![i]).collect();
        let options = BootstrapOptions {
            resamples: 30,
            ..Default::default()
        };
        let idx = |i: &[usize]| Some(i.iter().map(|&v| v as f64).collect());
        assert_eq!(
            bootstrap(&[all], &options, idx),
            bootstrap_clusters(&singletons, &options, idx)
        );
        // Pairs stay together.
        let pairs = vec![vec![0, 1], vec![2, 3], vec![4, 5]];
        let draws = bootstrap_clusters(&pairs, &options, |i| {
            assert!(i.chunks(2).all(|c| c[1] == c[0] + 1 && c[0] % 2 == 0));
            Some(vec![i.len() as f64])
        });
        assert!(draws.rows.iter().all(|r| r[0] == 6.0));
    }

    #[test]
    fn failed_refits_are_counted() {
        let all: Vec<usize> = (0..5).collect();
        let options = BootstrapOptions {
            resamples: 10,
            ..Default::default()
        };
        let draws = bootstrap(&[all], &options, |idx| {
            (idx[0] != idx[1]).then(|| vec![1.0])
        });
        assert_eq!(draws.rows.len() + draws.failed, 10);
    }
}
