//! The design simulator: before spending compute on a ladder, draw its losses many times
//! from a known law with noise, fit every draw exactly as a real sweep is fitted, and
//! see what the design can tell: the bias and expected interval widths of the exponents
//! and of D*/N*, whether the intervals cover the truth as often as they claim, and how
//! often each verdict comes out.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::bootstrap::FAMILY_STREAMS;
use crate::{
    analyse, seed_agreement, AnalysisOptions, ChinchillaLaw, Dataset, FitReport, Point, Points,
    SeedAgreement, SeedRuns, Spread,
};

/// The first random stream of the misfit terms (one stream per simulated sweep).
const MISFIT_STREAMS: u64 = 2 << 32;

/// The first random stream of the per-model misfit terms (one stream per sweep).
const MODEL_MISFIT_STREAMS: u64 = 3 << 32;

/// One planned run of a design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DesignPoint {
    /// Parameters, under the fit's convention.
    pub n: f64,
    /// Training tokens.
    pub d: f64,
    /// Its budget label in FLOPs under the fit's convention.
    pub c: f64,
    /// The IsoFLOP budget it was planned for, if any.
    pub planned: Option<f64>,
}

/// How to simulate.
#[derive(Debug, Clone)]
pub struct SimulationOptions {
    /// Relative standard deviation of each run's loss (log-normal noise).
    pub noise: f64,
    /// Relative standard deviation of a noise term shared by the runs of one model (N)
    /// and seed across their budgets, as WSD branches of one stable phase share it: one
    /// draw per (seed, N), multiplying each of those runs' losses (0: none).
    pub family_noise: f64,
    /// Relative standard deviation of a deviation from the law per design point, drawn
    /// once per sweep and shared by every seed's run there: the part of a real sweep's
    /// point means that the law does not describe, which more seeds do not average away
    /// (0: none).
    pub misfit: f64,
    /// Relative standard deviation of a deviation from the law per model (N), drawn once
    /// per sweep and shared by all its runs, every seed and budget: a law that misses a
    /// size as a whole, as results/lab-cpu's misses its two largest by 1.3-1.7% (0: none).
    pub model_misfit: f64,
    /// Correlation length, in ln N, of the per-model misfit: 0 draws it independently per
    /// model; ℓ > 0 draws it smooth in size ([`crate::smooth_in_size`]), neighbouring
    /// sizes missing the law together.
    pub model_misfit_length: f64,
    /// Runs per design point (seeds), each with its own noise.
    pub seeds: usize,
    /// Simulated sweeps.
    pub reps: usize,
    /// Seed of the noise; sweep `r` uses stream `r`.
    pub seed: u64,
    /// How each simulated sweep is fitted (as `ladder fit` would).
    pub analysis: AnalysisOptions,
    /// Also fit each seed's runs of every sweep alone and count how often the seed
    /// checks pass ([`crate::seed_agreement`]); needs two seeds or more. Costs one fit
    /// per seed per sweep.
    pub per_seed: bool,
    /// Also calibrate each sweep's intervals by this many sweeps simulated from its own
    /// fit ([`crate::calibrate`]) and count how often the calibrated intervals hold the
    /// truth (0: off). Costs that many fits per sweep.
    pub calibrate: usize,
}

/// What the fits of the simulated sweeps say about one quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantitySummary {
    /// The quantity, as fit.json names it.
    pub name: String,
    /// Its value under the true law.
    #[serde(deserialize_with = "crate::json::number")]
    pub truth: f64,
    /// Sweeps whose fit gave an estimate.
    pub fitted: usize,
    /// Median estimate.
    #[serde(deserialize_with = "crate::json::number")]
    pub median: f64,
    /// `median − truth`, relative to the truth for a ratio.
    #[serde(deserialize_with = "crate::json::number")]
    pub bias: f64,
    /// Whether widths are ratios `hi/lo` (D*/N*) rather than differences `hi − lo`.
    pub ratio: bool,
    /// Median width of the 80% interval.
    pub width80: Option<f64>,
    /// The 10th and 90th percentiles of the sweeps' 80% widths: where one lab's width
    /// should fall eight times in ten if the simulation describes it.
    #[serde(default)]
    pub width80_range: Option<[f64; 2]>,
    /// Share of the intervals that held the truth: 80% and 95% intervals.
    pub coverage80: Option<f64>,
    /// The same for the 95% intervals.
    pub coverage95: Option<f64>,
    /// Sweeps whose fit gave an interval.
    pub with_interval: usize,
    /// Standard deviation of the estimates across the sweeps: the scatter an interval
    /// should describe.
    #[serde(default)]
    pub scatter: Option<f64>,
    /// Median of the sweeps' bootstrap standard errors. Over `scatter` it says whether
    /// the intervals are as wide as the scatter they claim (1), with an error of about
    /// `1/√(2·(sweeps−1))`: far finer than the coverage of a few dozen sweeps.
    #[serde(default)]
    pub se: Option<f64>,
    /// With calibration: share of the calibrated 80% intervals that held the truth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated_coverage80: Option<f64>,
    /// With calibration: median width of the calibrated 80% intervals (as `width80`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated_width80: Option<f64>,
    /// The 80th percentile over the sweeps of the factor each 80% interval needed to
    /// reach the truth ([`crate::needed_factor`]): the widening that makes 80% of this
    /// design's intervals hold the truth under the simulated law, noise and misfit. `None` without intervals, or
    /// when more than a fifth of them could not reach the truth by widening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor80: Option<f64>,
    /// The median width (as `width80`) of the sweeps' 80% intervals widened about their
    /// estimates by `max(1, factor80)`: how wide this design's 80% intervals must be to
    /// hold the truth as often as they claim. Not a forecast of what `ladder fit
    /// --calibrate` gives, which estimates the noise and misfit per sweep: on
    /// results/lab-cpu's design the two came within 10%, on configs/lab-gpu.toml's 16-60%
    /// apart, where that calibration itself covered 87% and 60% (docs/LOG.md,
    /// thirty-fourth session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widened_width80: Option<f64>,
}

/// How often one verdict came out each way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictCount {
    /// The claim.
    pub claim: String,
    /// Sweeps where it held.
    pub holds: usize,
    /// Where it did not.
    pub does_not_hold: usize,
    /// Where the data could not tell.
    pub cannot_tell: usize,
}

/// What a design can tell, from its simulated sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignReport {
    /// The true law.
    pub law: ChinchillaLaw,
    /// Runs per sweep.
    pub runs: usize,
    /// Simulated sweeps, and how many could not be fitted at all.
    pub reps: usize,
    /// Sweeps whose approach-3 fit failed.
    pub failed: usize,
    /// Relative noise of each run's loss.
    #[serde(deserialize_with = "crate::json::number")]
    pub noise: f64,
    /// Relative noise shared by the runs of one model and seed (0: none).
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub family_noise: f64,
    /// Relative deviation from the law per design point, shared by its seeds (0: none).
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub misfit: f64,
    /// Relative deviation from the law per model, shared by all its runs (0: none).
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub model_misfit: f64,
    /// Its correlation length in ln N (0: independent per model).
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub model_misfit_length: f64,
    /// Seeds per design point.
    pub seeds: usize,
    /// The top budget, where D*/N* is read.
    #[serde(deserialize_with = "crate::json::number")]
    pub top_budget: f64,
    /// Each quantity.
    pub quantities: Vec<QuantitySummary>,
    /// Each verdict.
    pub verdicts: Vec<VerdictCount>,
    /// Approach 2's top D*/N* against approach 3's, under each reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreement: Vec<Agreement>,
    /// How often the seed checks passed, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_checks: Option<SeedChecks>,
    /// Fitted sweeps whose approach-2 bootstrap drew the profiles' misfit
    /// ([`crate::Approach2Misfit`]): where their pooled lack-of-fit test rejected, under
    /// the default.
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub approach2_misfit_drawn: usize,
}

/// How often each check of the seeds' own fits passed across the simulated sweeps of a
/// true law: the pass rate a correct sweep of this design has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedChecks {
    /// Sweeps whose seeds were all fitted, with intervals.
    pub sweeps: usize,
    /// Share in which every seed's top D*/N* lay inside the pooled 80% interval.
    pub every_seed_inside_pooled: f64,
    /// Share in which the pooled value lay inside every seed's own 80% interval.
    pub pooled_inside_every_seed: f64,
    /// Share in which Cochran's Q did not reject at 0.1.
    pub consistent: f64,
    /// Share of the seeds' own 80% intervals that held the true D*/N*.
    pub one_seed_coverage: f64,
}

/// How approach 2's top D*/N* compared with one of approach 3's across the sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Approach 3's quantity, as fit.json names it.
    pub reference: String,
    /// Sweeps in which both had an 80% interval.
    pub sweeps: usize,
    /// Share of those whose two 80% intervals overlapped.
    pub overlap80: Option<f64>,
    /// Median over the sweeps of approach 2's value over the reference's, minus 1.
    pub gap: Option<f64>,
}

/// One quantity of one fit: its estimate and 80% and 95% intervals.
pub(crate) type Estimate = Option<(f64, Option<Spread>)>;

/// How to read a quantity off a fit.
pub(crate) type Read = fn(&FitReport) -> Estimate;

/// The quantities the simulator follows, with their truth: name, truth, whether it is a
/// ratio, and how to read it off a fit.
pub(crate) fn quantities(law: &ChinchillaLaw, top: f64) -> Vec<(&'static str, f64, bool, Read)> {
    let (n, d) = law.compute_optimal(top);
    vec![
        ("approach3.alpha", law.alpha, false, |r| {
            approach3(r, "alpha", r.approach3.law.alpha)
        }),
        ("approach3.beta", law.beta, false, |r| {
            approach3(r, "beta", r.approach3.law.beta)
        }),
        ("approach3.a", law.n_exponent(), false, |r| {
            approach3(r, "a", r.approach3.a)
        }),
        ("approach3.b", law.d_exponent(), false, |r| {
            approach3(r, "b", r.approach3.b)
        }),
        ("tokens_per_param.-1.ratio", d / n, true, |r| {
            r.tokens_per_param.last().map(|t| (t.ratio, t.ratio_spread))
        }),
        ("approach2.a", law.n_exponent(), false, |r| {
            approach2(r, "a", |f| f.a)
        }),
        ("approach2.b", law.d_exponent(), false, |r| {
            approach2(r, "b", |f| f.b)
        }),
        ("approach2.ratio", d / n, true, |r| {
            approach2(r, "ratio", |f| f.optimum_at(f.top_budget())[2])
        }),
    ]
}

/// The held-out check's quantities ([`crate::check_optimum`]): the law's error on the
/// top budget's optimal loss and the margin `|law error| − |baseline error|`, each with
/// its truth, the check's value on `law`'s own losses at `data`'s runs (the parabola reads
/// an asymmetric profile off centre, so that is not 0). None when the check cannot run
/// on them.
pub(crate) fn held_out(
    data: &Dataset,
    law: &ChinchillaLaw,
    analysis: &AnalysisOptions,
) -> Vec<(&'static str, f64, bool, Read)> {
    let Ok(points) = data.points.on_law(law) else {
        return Vec::new();
    };
    let exact = Dataset {
        points,
        curves: Vec::new(),
        ..data.clone()
    };
    let Ok(truth) = crate::check_optimum(
        &exact,
        analysis.extrapolation_k,
        analysis.budget_tolerance,
        analysis.minimum,
        &analysis.approach3,
        None,
    ) else {
        return Vec::new();
    };
    fn check(r: &FitReport) -> Option<&crate::OptimumCheck> {
        match &r.optimum_check {
            crate::FormFit::Fitted(c) => Some(c),
            crate::FormFit::Skipped { .. } => None,
        }
    }
    vec![
        ("held_out.law_error", truth.law.loss_error, false, |r| {
            check(r).map(|c| (c.law.loss_error, c.law.error_spread.map(|s| s.loss)))
        }),
        ("held_out.margin", truth.margin, false, |r| {
            check(r).map(|c| (c.margin, c.margin_spread))
        }),
    ]
}

/// Approach 3's parameter `name`, of value `v`, with its intervals.
fn approach3(r: &FitReport, name: &str, v: f64) -> Estimate {
    Some((v, spread_of(&r.approach3.intervals, name)))
}

/// The intervals of `name`, when the bootstrap gave them.
fn spread_of(i: &crate::Intervals, name: &str) -> Option<Spread> {
    match (i.se.get(name), i.ci80.get(name), i.ci95.get(name)) {
        (Some(&se), Some(&ci80), Some(&ci95)) => Some(Spread { se, ci80, ci95 }),
        _ => None,
    }
}

/// Approach 2's quantity `name` (read by `value`) with its intervals.
fn approach2(r: &FitReport, name: &str, value: fn(&crate::Approach2Fit) -> f64) -> Estimate {
    let a2 = r.approach2.as_ref()?;
    Some((value(&a2.fit), spread_of(&a2.intervals, name)))
}

/// One simulated sweep: every design point `seeds` times, its loss drawn from `law`
/// with relative noise `noise`, times a term shared by each (seed, N) family when
/// `family_noise` is set, a term per point shared by its seeds when `misfit` is, and a
/// term per model shared by all its runs when `model_misfit` is.
fn draw(
    points: &[DesignPoint],
    law: &ChinchillaLaw,
    options: &SimulationOptions,
    rep: usize,
) -> Option<Dataset> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    rng.set_stream(rep as u64);
    let mut family_rng = ChaCha8Rng::seed_from_u64(options.seed);
    family_rng.set_stream(FAMILY_STREAMS + rep as u64);
    // Drawn from streams of their own, so that the other terms draw as without them.
    let mut misfit_rng = ChaCha8Rng::seed_from_u64(options.seed);
    misfit_rng.set_stream(MISFIT_STREAMS + rep as u64);
    let misfit: Vec<f64> = points
        .iter()
        .map(|_| {
            if options.misfit > 0.0 {
                let z: f64 = StandardNormal.sample(&mut misfit_rng);
                options.misfit * z
            } else {
                0.0
            }
        })
        .collect();
    // One term per model (N), in order of first appearance, from a stream of its own.
    let mut model_rng = ChaCha8Rng::seed_from_u64(options.seed);
    model_rng.set_stream(MODEL_MISFIT_STREAMS + rep as u64);
    let model = crate::family_ids(points.iter().map(|p| p.n.to_bits()));
    let models = model.iter().max().map_or(0, |m| m + 1);
    let by_model: Vec<f64> = if options.model_misfit > 0.0 {
        let z: Vec<f64> = (0..models)
            .map(|_| StandardNormal.sample(&mut model_rng))
            .collect();
        let mut log_n = vec![0.0; models];
        for (p, &m) in points.iter().zip(&model) {
            log_n[m] = p.n.ln();
        }
        crate::smooth_in_size(
            &log_n,
            options.model_misfit,
            options.model_misfit_length,
            &z,
        )
    } else {
        vec![0.0; models]
    };
    let misfit: Vec<f64> = misfit
        .iter()
        .zip(&model)
        .map(|(point, &m)| point + by_model[m])
        .collect();
    let seeds = options.seeds.max(1);
    let families = crate::family_ids((0..seeds).flat_map(|s| points.iter().map(move |p| (s, p.n))));
    // One shared term per family, drawn in order of first appearance.
    let mut shared: Vec<f64> = Vec::new();
    let mut out = Vec::new();
    for ((p, &f), &off) in points
        .iter()
        .cycle()
        .zip(&families)
        .zip(misfit.iter().cycle())
    {
        if options.family_noise > 0.0 && f == shared.len() {
            let z: f64 = StandardNormal.sample(&mut family_rng);
            shared.push(options.family_noise * z);
        }
        let z: f64 = StandardNormal.sample(&mut rng);
        let term = shared.get(f).copied().unwrap_or(0.0);
        out.push((
            p,
            law.loss(p.n, p.d) * (options.noise * z + term + off).exp(),
        ));
    }
    let planned: Option<Vec<f64>> = out.iter().map(|(p, _)| p.planned).collect();
    Some(Dataset {
        points: Points::new(
            out.iter()
                .map(|(p, loss)| Point {
                    n: p.n,
                    d: p.d,
                    loss: *loss,
                })
                .collect(),
        )
        .ok()?,
        budgets: out.iter().map(|(p, _)| p.c).collect(),
        budgets_given: false,
        planned,
        entropy_rate: None,
        unit: crate::TokenUnit::Tokens,
        runs: (1..=out.len()).map(|i| i.to_string()).collect(),
        families,
        curves: Vec::new(),
    })
}

/// Simulates `options.reps` sweeps of the design `points` under `law` and summarises
/// their fits.
pub fn simulate(
    points: &[DesignPoint],
    law: &ChinchillaLaw,
    options: &SimulationOptions,
) -> DesignReport {
    let top = points.iter().map(|p| p.c).fold(0.0, f64::max);
    let seeds = options.seeds.max(1);
    let per_seed = options.per_seed && seeds > 1;
    // The simulated sweeps are read for the Chinchilla quantities and verdicts only.
    let analysis = AnalysisOptions {
        kaplan: false,
        ..options.analysis.clone()
    };
    let fits: Vec<Option<(FitReport, Option<SeedAgreement>)>> = (0..options.reps)
        .map(|r| {
            let data = draw(points, law, options, r)?;
            let mut pooled = analyse(&data, &analysis).ok()?;
            if options.calibrate > 0 {
                // Each sweep's calibration draws from streams of its own seed.
                let own = crate::CalibrationOptions {
                    sweeps: options.calibrate,
                    seed: options.seed.wrapping_add(1 + r as u64),
                    analysis: analysis.clone(),
                };
                pooled.calibration = crate::calibrate(&data, &pooled, &own);
            }
            // Seed s's runs are the s-th copy of the design (see `draw`).
            let agreement = per_seed
                .then(|| {
                    let own: Vec<SeedRuns> = (0..seeds)
                        .map(|s| {
                            let keep: Vec<usize> =
                                (s * points.len()..(s + 1) * points.len()).collect();
                            let report = analyse(&data.subset(&keep).ok()?, &analysis).ok()?;
                            Some(SeedRuns {
                                seed: s as u64,
                                runs: keep.len(),
                                top,
                                report,
                            })
                        })
                        .collect::<Option<_>>()?;
                    seed_agreement(&pooled, &own)
                })
                .flatten();
            Some((pooled, agreement))
        })
        .collect();
    let ok: Vec<&FitReport> = fits.iter().flatten().map(|(f, _)| f).collect();
    let (n_opt, d_opt) = law.compute_optimal(top);
    let seed_checks = per_seed.then(|| {
        seed_checks(
            &fits
                .iter()
                .flatten()
                .filter_map(|(_, a)| a.as_ref())
                .collect::<Vec<_>>(),
            d_opt / n_opt,
        )
    });
    let mut named = quantities(law, top);
    if let Some(data) = draw(points, law, options, 0) {
        named.extend(held_out(&data, law, &options.analysis));
    }
    let quantities = named
        .into_iter()
        .map(|(name, truth, ratio, read)| {
            let calibrated: Vec<[f64; 2]> = ok
                .iter()
                .filter_map(|r| r.calibration.as_ref()?.get(name)?.calibrated80)
                .collect();
            summarise(
                name,
                truth,
                ratio,
                &ok.iter().filter_map(|r| read(r)).collect::<Vec<_>>(),
                &calibrated,
            )
        })
        .collect();
    DesignReport {
        law: *law,
        runs: points.len() * options.seeds.max(1),
        reps: options.reps,
        failed: options.reps - ok.len(),
        noise: options.noise,
        family_noise: options.family_noise,
        misfit: options.misfit,
        model_misfit: options.model_misfit,
        model_misfit_length: options.model_misfit_length,
        seeds: options.seeds.max(1),
        top_budget: top,
        quantities,
        verdicts: count_verdicts(&ok),
        agreement: vec![
            agreement("optimum_on_profiles.-1", &ok, |r| {
                r.optimum_on_profiles.last()
            }),
            agreement("approach2_of_law", &ok, |r| r.approach2_of_law.as_ref()),
        ],
        seed_checks,
        approach2_misfit_drawn: ok
            .iter()
            .filter(|r| {
                r.approach2
                    .as_ref()
                    .and_then(|a| a.noise.as_ref())
                    .is_some_and(|n| n.model_misfit > 0.0)
            })
            .count(),
    }
}

/// The pass rates of the seed checks over `agreements` (one per sweep), with `truth` the
/// law's top D*/N*. Sweeps where a seed lacks an interval are left out.
fn seed_checks(agreements: &[&SeedAgreement], truth: f64) -> SeedChecks {
    let full: Vec<&&SeedAgreement> = agreements
        .iter()
        .filter(|a| a.left_out.is_empty() && a.seeds.iter().all(|s| s.ratio_spread.is_some()))
        .collect();
    let share = |pass: &dyn Fn(&SeedAgreement) -> bool| {
        full.iter().filter(|a| pass(a)).count() as f64 / full.len().max(1) as f64
    };
    let own: Vec<[f64; 2]> = full
        .iter()
        .flat_map(|a| {
            a.seeds
                .iter()
                .filter_map(|s| s.ratio_spread.map(|r| r.ci80))
        })
        .collect();
    SeedChecks {
        sweeps: full.len(),
        every_seed_inside_pooled: share(&|a| a.every_seed_inside_pooled == Some(true)),
        pooled_inside_every_seed: share(&|a| a.pooled_inside_every_seed == Some(true)),
        consistent: share(&|a| a.consistency.is_some_and(|c| c.p >= 0.1)),
        one_seed_coverage: own
            .iter()
            .filter(|c| c[0] <= truth && truth <= c[1])
            .count() as f64
            / own.len().max(1) as f64,
    }
}

/// Approach 2's top D*/N* against the reference `read` gives, over the fits `ok`.
fn agreement(
    reference: &str,
    ok: &[&FitReport],
    read: fn(&FitReport) -> Option<&crate::TokensPerParam>,
) -> Agreement {
    let pairs: Vec<(f64, [f64; 2], f64, [f64; 2])> = ok
        .iter()
        .filter_map(|r| {
            let (ratio, spread) = approach2(r, "ratio", |f| f.optimum_at(f.top_budget())[2])?;
            let t = read(r)?;
            Some((ratio, spread?.ci80, t.ratio, t.ratio_spread?.ci80))
        })
        .collect();
    let overlapping = pairs
        .iter()
        .filter(|(_, a, _, b)| a[0] <= b[1] && b[0] <= a[1])
        .count();
    let any = !pairs.is_empty();
    Agreement {
        reference: reference.into(),
        sweeps: pairs.len(),
        overlap80: any.then(|| overlapping as f64 / pairs.len() as f64),
        gap: any.then(|| median(pairs.iter().map(|p| p.0 / p.2 - 1.0).collect())),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    crate::quantile_sorted(&v, 0.5)
}

/// The estimates of one quantity against its truth, and its calibrated 80% intervals
/// (none without calibration).
fn summarise(
    name: &str,
    truth: f64,
    ratio: bool,
    estimates: &[(f64, Option<Spread>)],
    calibrated: &[[f64; 2]],
) -> QuantitySummary {
    let values: Vec<f64> = estimates.iter().map(|e| e.0).collect();
    let med = median(values.clone());
    let spreads: Vec<Spread> = estimates.iter().filter_map(|e| e.1).collect();
    let share = |pick: fn(&Spread) -> [f64; 2]| {
        (!spreads.is_empty()).then(|| {
            let inside = spreads
                .iter()
                .filter(|s| pick(s)[0] <= truth && truth <= pick(s)[1])
                .count();
            inside as f64 / spreads.len() as f64
        })
    };
    let width = |ci: &[f64; 2]| {
        if ratio {
            ci[1] / ci[0]
        } else {
            ci[1] - ci[0]
        }
    };
    let mut widths: Vec<f64> = spreads.iter().map(|s| width(&s.ci80)).collect();
    widths.sort_by(f64::total_cmp);
    let intervals: Vec<(f64, [f64; 2])> = estimates
        .iter()
        .filter_map(|(e, s)| s.map(|s| (*e, s.ci80)))
        .collect();
    let mut factors: Vec<f64> = intervals
        .iter()
        .map(|&(e, ci)| crate::needed_factor(e, ci, truth, ratio))
        .collect();
    factors.sort_by(f64::total_cmp);
    let factor80 = (!factors.is_empty())
        .then(|| crate::quantile_sorted(&factors, 0.8))
        .filter(|k| k.is_finite());
    let widened_width80 = factor80.map(|k| {
        median(
            intervals
                .iter()
                .map(|&(e, ci)| width(&crate::widen(e, ci, k.max(1.0), ratio)))
                .collect(),
        )
    });
    QuantitySummary {
        name: name.into(),
        truth,
        fitted: estimates.len(),
        median: med,
        bias: if ratio {
            med / truth - 1.0
        } else {
            med - truth
        },
        ratio,
        width80: (!widths.is_empty()).then(|| crate::quantile_sorted(&widths, 0.5)),
        width80_range: (!widths.is_empty()).then(|| {
            [
                crate::quantile_sorted(&widths, 0.1),
                crate::quantile_sorted(&widths, 0.9),
            ]
        }),
        coverage80: share(|s| s.ci80),
        coverage95: share(|s| s.ci95),
        with_interval: spreads.len(),
        scatter: (estimates.len() > 1).then(|| crate::stats::mean_sd(&values).1),
        se: (!spreads.is_empty()).then(|| median(spreads.iter().map(|s| s.se).collect())),
        calibrated_coverage80: (!calibrated.is_empty()).then(|| {
            calibrated
                .iter()
                .filter(|c| c[0] <= truth && truth <= c[1])
                .count() as f64
                / calibrated.len() as f64
        }),
        calibrated_width80: (!calibrated.is_empty())
            .then(|| median(calibrated.iter().map(width).collect())),
        factor80,
        widened_width80,
    }
}

/// How often each verdict of `fits` came out each way, in the order first seen.
fn count_verdicts(fits: &[&FitReport]) -> Vec<VerdictCount> {
    let mut counts: Vec<VerdictCount> = Vec::new();
    for v in fits.iter().flat_map(|f| &f.verdicts) {
        let i = match counts.iter().position(|c| c.claim == v.claim) {
            Some(i) => i,
            None => {
                counts.push(VerdictCount {
                    claim: v.claim.clone(),
                    holds: 0,
                    does_not_hold: 0,
                    cannot_tell: 0,
                });
                counts.len() - 1
            }
        };
        match v.holds {
            Some(true) => counts[i].holds += 1,
            Some(false) => counts[i].does_not_hold += 1,
            None => counts[i].cannot_tell += 1,
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BootstrapOptions;

    /// One sweep of `seeds` per point with no noise term set, from noise seed `seed`.
    fn noiseless(seeds: usize, seed: u64) -> SimulationOptions {
        SimulationOptions {
            noise: 0.0,
            family_noise: 0.0,
            misfit: 0.0,
            model_misfit: 0.0,
            model_misfit_length: 0.0,
            seeds,
            reps: 1,
            seed,
            analysis: AnalysisOptions::default(),
            per_seed: false,
            calibrate: 0,
        }
    }

    /// Each run's ln(loss / law) in the first sweep `options` draws of `points`.
    fn log_offsets(
        points: &[DesignPoint],
        law: &ChinchillaLaw,
        options: &SimulationOptions,
    ) -> Vec<f64> {
        let data = draw(points, law, options, 0).unwrap();
        data.points
            .as_slice()
            .iter()
            .map(|p| (p.loss / law.loss(p.n, p.d)).ln())
            .collect()
    }

    /// Four sizes at each of three IsoFLOP budgets around the optimum of Hoffmann et al.'s
    /// law.
    fn design(law: &ChinchillaLaw) -> Vec<DesignPoint> {
        let mut points = Vec::new();
        for c in [1e18, 1e19, 1e20] {
            let (n_opt, _) = law.compute_optimal(c);
            for j in [-3.0, -1.0, 1.0, 3.0] {
                let n = n_opt * 10f64.powf(0.2 * j);
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
    fn family_noise_is_shared_by_a_models_runs_of_one_seed() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        // Three models, each at three budgets.
        let points: Vec<DesignPoint> = [1e8, 2e8, 4e8]
            .iter()
            .flat_map(|&n| {
                [1e18, 3e18, 1e19].map(|c| DesignPoint {
                    n,
                    d: c / (6.0 * n),
                    c,
                    planned: Some(c),
                })
            })
            .collect();
        let options = |noise: f64, family_noise: f64| SimulationOptions {
            noise,
            family_noise,
            ..noiseless(2, 7)
        };
        let offsets = |o: &SimulationOptions| log_offsets(&points, &law, o);
        // Family noise alone: one offset per (seed, model), the same at its three budgets,
        // different between models and between seeds.
        let shared = offsets(&options(0.0, 0.01));
        let families: Vec<&[f64]> = shared.chunks(3).collect();
        assert_eq!(families.len(), 6);
        for f in &families {
            assert!(
                f.iter().all(|&x| (x - f[0]).abs() < 1e-12) && f[0].abs() > 1e-6,
                "{f:?}"
            );
        }
        for i in 0..6 {
            for j in i + 1..6 {
                assert!((families[i][0] - families[j][0]).abs() > 1e-9);
            }
        }
        // Without it the per-run noise draws exactly as before; with it each run's
        // offset is that same per-run noise plus its family's term.
        let alone = offsets(&options(0.01, 0.0));
        let both = offsets(&options(0.01, 0.01));
        for ((a, b), s) in alone.iter().zip(&both).zip(&shared) {
            assert!((a + s - b).abs() < 1e-12);
        }
    }

    #[test]
    fn the_misfit_is_one_offset_per_point_shared_by_its_seeds() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let points: Vec<DesignPoint> = [1e8, 2e8, 4e8]
            .iter()
            .map(|&n| DesignPoint {
                n,
                d: 1e19 / (6.0 * n),
                c: 1e19,
                planned: Some(1e19),
            })
            .collect();
        let options = |noise: f64, misfit: f64| SimulationOptions {
            noise,
            misfit,
            ..noiseless(3, 11)
        };
        let offsets = |o: &SimulationOptions| log_offsets(&points, &law, o);
        // The misfit alone: each point's three seeds share one offset; points differ.
        let alone = offsets(&options(0.0, 0.01));
        for (i, x) in alone.iter().enumerate() {
            assert!((x - alone[i % 3]).abs() < 1e-12, "{alone:?}");
        }
        assert!(alone[0] != alone[1] && alone[1] != alone[2] && alone[0].abs() > 1e-6);
        // With run noise: the run noise draws as without the misfit, plus the offsets.
        let noise = offsets(&options(0.01, 0.0));
        let both = offsets(&options(0.01, 0.01));
        for ((a, b), m) in noise.iter().zip(&both).zip(&alone) {
            assert!((a + m - b).abs() < 1e-12);
        }
    }

    #[test]
    fn the_model_misfit_is_one_offset_per_size_shared_by_all_its_runs() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        // Two sizes, each at two token counts.
        let points: Vec<DesignPoint> = [(1e8, 1e10), (1e8, 2e10), (2e8, 1e10), (2e8, 2e10)]
            .iter()
            .map(|&(n, d)| DesignPoint {
                n,
                d,
                c: 6.0 * n * d,
                planned: None,
            })
            .collect();
        let options = SimulationOptions {
            model_misfit: 0.01,
            model_misfit_length: 0.0,
            ..noiseless(2, 5)
        };
        let offsets = log_offsets(&points, &law, &options);
        // Runs 0, 1, 4, 5 are the first size (two budgets, two seeds); 2, 3, 6, 7 the second.
        for (i, x) in offsets.iter().enumerate() {
            let first = if (i % 4) < 2 { offsets[0] } else { offsets[2] };
            assert!((x - first).abs() < 1e-12, "{offsets:?}");
        }
        assert!(offsets[0] != offsets[2] && offsets[0].abs() > 1e-6);
    }

    /// Drawn smooth in size, two sizes 0.3 apart in ln N share most of their misfit
    /// (correlation e^(−0.18) ≈ 0.84 at ℓ = 0.5) and sizes 2.3 apart almost none; drawn
    /// independently (ℓ = 0), none. The same sweeps (streams) in both.
    #[test]
    fn a_misfit_smooth_in_size_moves_neighbouring_sizes_together() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let sizes = [1e8, 1.35e8, 1e9];
        let points: Vec<DesignPoint> = sizes
            .iter()
            .map(|&n| DesignPoint {
                n,
                d: 2e10,
                c: 1.2e11 * n,
                planned: None,
            })
            .collect();
        let correlations = |length: f64| {
            let options = SimulationOptions {
                model_misfit: 0.01,
                model_misfit_length: length,
                ..noiseless(1, 9)
            };
            let sweeps: Vec<Vec<f64>> = (0..2000)
                .map(|rep| {
                    let data = draw(&points, &law, &options, rep).unwrap();
                    data.points
                        .as_slice()
                        .iter()
                        .map(|p| (p.loss / law.loss(p.n, p.d)).ln())
                        .collect()
                })
                .collect();
            let moment = |i: usize, j: usize| {
                sweeps.iter().map(|x| x[i] * x[j]).sum::<f64>() / sweeps.len() as f64
            };
            let corr = |i: usize, j: usize| moment(i, j) / (moment(i, i) * moment(j, j)).sqrt();
            (corr(0, 1), corr(0, 2), moment(2, 2).sqrt())
        };
        let (near, far, sd) = correlations(0.5);
        assert!((near - (-0.18f64).exp()).abs() < 0.05, "near {near}");
        assert!(far.abs() < 0.1, "far {far}");
        assert!((sd / 0.01 - 1.0).abs() < 0.05, "sd {sd}");
        let (near, far, _) = correlations(0.0);
        assert!(near.abs() < 0.1 && far.abs() < 0.1, "{near} {far}");
    }

    #[test]
    fn a_quiet_design_recovers_the_law_and_counts_every_verdict() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let options = SimulationOptions {
            noise: 0.002,
            family_noise: 0.0,
            misfit: 0.0,
            model_misfit: 0.0,
            model_misfit_length: 0.0,
            seeds: 2,
            reps: 6,
            seed: 3,
            analysis: AnalysisOptions {
                bootstrap: BootstrapOptions {
                    resamples: 30,
                    ..BootstrapOptions::default()
                },
                ..AnalysisOptions::default()
            },
            per_seed: true,
            calibrate: 3,
        };
        let report = simulate(&design(&law), &law, &options);
        assert_eq!((report.runs, report.failed), (24, 0));
        // Each sweep's two seeds fitted alone: every check counted over all six sweeps.
        let checks = report.seed_checks.as_ref().unwrap();
        assert_eq!(checks.sweeps, 6, "{checks:?}");
        for share in [
            checks.every_seed_inside_pooled,
            checks.pooled_inside_every_seed,
            checks.consistent,
            checks.one_seed_coverage,
        ] {
            assert!((0.0..=1.0).contains(&share), "{checks:?}");
        }
        assert!(checks.one_seed_coverage > 0.0, "{checks:?}");
        let a = report
            .quantities
            .iter()
            .find(|q| q.name == "approach3.a")
            .unwrap();
        assert!((a.truth - law.n_exponent()).abs() < 1e-12);
        assert!(a.bias.abs() < 0.05, "{a:?}");
        assert_eq!((a.fitted, a.with_interval), (6, 6));
        // Each sweep calibrated: a share of its calibrated intervals and their width,
        // never narrower than the bootstrap's.
        let cover = a.calibrated_coverage80.unwrap();
        assert!((0.0..=1.0).contains(&cover) && cover >= a.coverage80.unwrap() - 1e-12);
        assert!(
            a.calibrated_width80.unwrap() >= a.width80.unwrap() - 1e-12,
            "{a:?}"
        );
        for v in &report.verdicts {
            assert!(v.holds + v.does_not_hold + v.cannot_tell <= 6, "{v:?}");
        }
        let power_law = &report.verdicts[0];
        assert_eq!(
            power_law.holds + power_law.does_not_hold + power_law.cannot_tell,
            6
        );
    }

    /// A misfit by model well beyond the seed noise: every sweep's profiles reject, so
    /// approach 2's bootstrap draws it in each (under the default), and in none when off.
    #[test]
    fn the_report_counts_the_sweeps_whose_approach_2_drew_the_misfit() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let options = |misfit: crate::Approach2Misfit| SimulationOptions {
            noise: 0.002,
            family_noise: 0.0,
            misfit: 0.0,
            model_misfit: 0.01,
            model_misfit_length: 0.0,
            seeds: 3,
            reps: 3,
            seed: 5,
            analysis: AnalysisOptions {
                bootstrap: BootstrapOptions {
                    resamples: 20,
                    approach2_misfit: misfit,
                    ..BootstrapOptions::default()
                },
                kaplan: false,
                ..AnalysisOptions::default()
            },
            per_seed: false,
            calibrate: 0,
        };
        let auto = simulate(&design(&law), &law, &options(crate::Approach2Misfit::Auto));
        assert_eq!(auto.failed, 0);
        assert_eq!(auto.approach2_misfit_drawn, 3);
        let off = simulate(&design(&law), &law, &options(crate::Approach2Misfit::Off));
        assert_eq!(off.approach2_misfit_drawn, 0);
    }

    #[test]
    fn coverage_counts_the_intervals_that_hold_the_truth() {
        let spread = |lo: f64, hi: f64| Spread {
            se: 0.0,
            ci80: [lo, hi],
            ci95: [lo - 1.0, hi + 1.0],
        };
        let estimates = [
            (1.0, Some(spread(0.5, 1.5))),
            (2.0, Some(spread(1.8, 2.5))),
            (3.0, None),
        ];
        let s = summarise("x", 1.2, false, &estimates, &[]);
        assert_eq!((s.fitted, s.with_interval), (3, 2));
        assert_eq!(s.coverage80, Some(0.5));
        assert_eq!(s.coverage95, Some(1.0));
        assert_eq!(s.median, 2.0);
        assert!((s.bias - 0.8).abs() < 1e-12);
        // Widths 1.0 and 0.7: their 10th and 90th percentiles, interpolated.
        let [lo, hi] = s.width80_range.unwrap();
        assert!(
            (lo - 0.73).abs() < 1e-12 && (hi - 0.97).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(
            (s.calibrated_coverage80, s.calibrated_width80),
            (None, None)
        );
        // Calibrated intervals: one holds the truth, their widths 0.6 and 1.3.
        let s = summarise("x", 1.2, false, &estimates, &[[0.9, 1.5], [1.3, 2.6]]);
        assert_eq!(s.calibrated_coverage80, Some(0.5));
        assert!((s.calibrated_width80.unwrap() - 0.95).abs() < 1e-12);
        // The factors to reach 1.2: 0.2/0.5 = 0.4 (upper side of [0.5, 1.5] about 1.0)
        // and 0.8/0.2 = 4 (lower side of [1.8, 2.5] about 2.0); their 80th percentile,
        // interpolated, 3.28; the widths 1.0 and 0.7 widened by it, median 2.788.
        let k = s.factor80.unwrap();
        assert!((k - 3.28).abs() < 1e-12, "{k}");
        assert!((s.widened_width80.unwrap() - 2.788).abs() < 1e-12, "{s:?}");
        // Intervals that already hold the truth are not narrowed.
        let wide = [(1.0, Some(spread(0.0, 2.0))), (1.1, Some(spread(0.1, 2.1)))];
        let s = summarise("x", 1.2, false, &wide, &[]);
        assert!(s.factor80.unwrap() < 1.0);
        assert!((s.widened_width80.unwrap() - 2.0).abs() < 1e-12, "{s:?}");
        // A ratio widens in log: ×2 widened by 2 is ×4.
        let ratio = [(1.0, Some(spread(0.5_f64.sqrt(), 2.0_f64.sqrt())))];
        let s = summarise("r", 4.0, true, &ratio, &[]);
        assert!((s.factor80.unwrap() - 4.0).abs() < 1e-12, "{s:?}");
        assert!((s.widened_width80.unwrap() - 16.0).abs() < 1e-9, "{s:?}");
        // An interval with no width towards the truth cannot reach it.
        let flat = [(1.0, Some(spread(1.0, 1.0)))];
        let s = summarise("x", 1.2, false, &flat, &[]);
        assert_eq!((s.factor80, s.widened_width80), (None, None));
    }
}
