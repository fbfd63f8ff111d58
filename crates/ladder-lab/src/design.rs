//! `ladder design`: a config's planned runs as a design, the law to simulate it under,
//! and the simulator's findings as text.

use std::path::Path;

use ladder_core::{BudgetRule, FlopCount, ParamCount};
use ladder_fit::{preset, ChinchillaLaw, DesignPoint, DesignReport, PRESETS};
use ladder_sweep::Plan;

use crate::text::line;
use crate::{read_fit, read_law, LabError};

/// The planned points of `plan` as design points, N and budget labels under the fit's
/// conventions (as [`crate::fit_input`] labels the trained runs): one per point, the
/// replicates of `[train] seeds` left to [`plan_seeds`].
pub fn design_points(plan: &Plan, params: ParamCount, flops: FlopCount) -> Vec<DesignPoint> {
    let rule = BudgetRule::new(flops, params);
    plan.runs
        .iter()
        .filter(|r| r.spec.replicate == 0)
        .map(|r| {
            let n = match params {
                ParamCount::Total => r.params.total,
                ParamCount::NonEmbedding => r.params.non_embedding,
            } as f64;
            let d = r.tokens() as f64;
            let own = match rule {
                BudgetRule::SixNd(_) => 6.0 * n * d,
                BudgetRule::Exact => r.flops.exact * d,
            };
            DesignPoint {
                n,
                d,
                c: match r.budget {
                    Some(c) if plan.budget_rule == Some(rule) => c,
                    _ => own,
                },
                planned: r.budget,
            }
        })
        .collect()
}

/// The runs `plan` trains per point (`[train] seeds`).
pub fn plan_seeds(plan: &Plan) -> usize {
    plan.runs
        .iter()
        .map(|r| r.spec.replicate as usize + 1)
        .max()
        .unwrap_or(1)
}

/// The law a design is simulated under, its name, and the noise measured with it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignLaw {
    /// The law.
    pub law: ChinchillaLaw,
    /// Where it comes from.
    pub name: String,
    /// For a fit.json: the pooled seed SD of its runs (in log loss) where they had
    /// several seeds, the noise a rerun of the design would see; else the RMS of its
    /// approach-3 residuals, the noise and misfit together.
    pub noise: Option<f64>,
}

/// A preset's name, or a fit.json (its approach-3 law and its seed SD, else its
/// residuals' RMS). On results/lab-cpu-knob the seed SD (0.72%) predicted the achieved
/// widths of D*/N* within 3% (×1.20 against ×1.23); the residual RMS of a one-seed pilot
/// (2.9%, misfit included) overstated them 2–4× (docs/LOG.md, 2026-12-04).
pub fn design_law(spec: &str) -> Result<DesignLaw, LabError> {
    if spec.ends_with(".json") {
        let path = Path::new(spec);
        let law = read_law(path)?;
        let noise = read_fit(path).ok().and_then(|f| {
            let r = &f.diagnostics.residuals;
            let rms = (!r.is_empty()).then(|| {
                (r.iter().map(|x| x.log_residual.powi(2)).sum::<f64>() / r.len() as f64).sqrt()
            });
            f.diagnostics.lack_of_fit.map(|t| t.seed_sd).or(rms)
        });
        return Ok(DesignLaw {
            law,
            name: format!("approach 3 of {spec}"),
            noise,
        });
    }
    let p = preset(spec)
        .filter(|p| p.data_constrained().is_none())
        .ok_or_else(|| {
            let names: Vec<&str> = PRESETS
                .iter()
                .filter(|p| p.data_constrained().is_none())
                .map(|p| p.name)
                .collect();
            LabError::Input(format!(
                "--law {spec}: not a preset of the form E + A/N^α + B/D^β; use one of {} or a \
             fit.json",
                names.join(", ")
            ))
        })?;
    Ok(DesignLaw {
        law: p.law,
        name: format!("{} ({})", p.name, p.source),
        noise: None,
    })
}

/// A design to simulate: its law, noise, seeds and sweeps.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignRequest {
    /// A preset's name or a fit.json (see [`design_law`]).
    pub law: String,
    /// Relative noise of each run's loss; default: a fit.json's residual RMS, else 1%.
    pub noise: Option<f64>,
    /// Relative noise shared by the runs of one model and seed (0: none).
    pub family_noise: f64,
    /// Runs per design point; default: the plan's `[train] seeds`.
    pub seeds: Option<usize>,
    /// Simulated sweeps.
    pub reps: usize,
    /// Seed of the noise.
    pub seed: u64,
    /// Also fit each seed's runs alone and count the seed checks' passes.
    pub per_seed: bool,
}

/// Simulates `plan` as `request` asks, each sweep fitted with `fit`; returns the
/// findings and the law's name.
pub fn simulate_plan(
    plan: &Plan,
    request: &DesignRequest,
    fit: &crate::FitOptions,
) -> Result<(DesignReport, String), LabError> {
    let seeds = request.seeds.unwrap_or_else(|| plan_seeds(plan));
    if request.reps == 0 || seeds == 0 {
        return Err(LabError::Input(
            "--reps and --seeds: must be at least 1".into(),
        ));
    }
    let law = design_law(&request.law)?;
    let noise = request.noise.or(law.noise).unwrap_or(0.01);
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(LabError::Input(format!(
            "--noise: {noise} must be a relative standard deviation ≥ 0, e.g. 0.01"
        )));
    }
    let family_noise = request.family_noise;
    if !(family_noise.is_finite() && family_noise >= 0.0) {
        return Err(LabError::Input(format!(
            "--family-noise: {family_noise} must be a relative standard deviation ≥ 0, e.g. 0.005"
        )));
    }
    let points = design_points(plan, fit.params, fit.flops);
    let options = ladder_fit::SimulationOptions {
        noise,
        family_noise,
        seeds,
        reps: request.reps,
        seed: request.seed,
        analysis: fit.analysis(),
        per_seed: request.per_seed,
    };
    Ok((ladder_fit::simulate(&points, &law.law, &options), law.name))
}

/// The simulator's findings, as `ladder design` prints them.
pub fn design_text(report: &DesignReport, law: &str) -> String {
    let mut out = String::new();
    let l = &report.law;
    line(
        &mut out,
        format!(
            "design: {} runs per sweep ({} seed{} per point), {} simulated sweeps ({} failed to \
             fit), relative noise {:.2}% per run",
            report.runs,
            report.seeds,
            if report.seeds == 1 { "" } else { "s" },
            report.reps,
            report.failed,
            100.0 * report.noise
        ),
    );
    if report.family_noise > 0.0 {
        line(
            &mut out,
            format!(
                "  and {:.2}% shared by the runs of each model and seed (one draw per family)",
                100.0 * report.family_noise
            ),
        );
    }
    line(
        &mut out,
        format!(
            "true law: {law}: E {:.4}, A {:.4e}, alpha {:.4}, B {:.4e}, beta {:.4}; D*/N* read at \
             the top budget C = {:.3e}",
            l.e, l.a, l.alpha, l.b, l.beta, report.top_budget
        ),
    );
    out.push('\n');
    line(
        &mut out,
        format!(
            "  {:<26} {:>9} {:>9} {:>9} {:>11} {:>9} {:>9} {:>6}",
            "quantity", "truth", "median", "bias", "80% width", "cover 80", "cover 95", "SE/SD"
        ),
    );
    for q in &report.quantities {
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.0}%", 100.0 * v));
        let (bias, width) = if q.ratio {
            (
                format!("{:+.1}%", 100.0 * q.bias),
                q.width80.map_or("-".into(), |w| format!("×{w:.2}")),
            )
        } else {
            (
                format!("{:+.4}", q.bias),
                q.width80.map_or("-".into(), |w| format!("{w:.4}")),
            )
        };
        if q.fitted == 0 {
            line(
                &mut out,
                format!("  {:<26} {:>9.4}   no fit gave it", q.name, q.truth),
            );
            continue;
        }
        line(
            &mut out,
            format!(
                "  {:<26} {:>9.4} {:>9.4} {bias:>9} {width:>11} {:>9} {:>9} {:>6}",
                q.name,
                q.truth,
                q.median,
                pct(q.coverage80),
                pct(q.coverage95),
                match (q.se, q.scatter) {
                    (Some(se), Some(sd)) if sd > 0.0 => format!("{:.2}", se / sd),
                    _ => "-".into(),
                }
            ),
        );
    }
    for a in &report.agreement {
        let pct = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("-".into(), f);
        line(
            &mut out,
            format!(
                "  approach 2's top D*/N* against {}: overlap at 80% in {} of {} sweeps, median \
                 gap {}",
                a.reference,
                pct(a.overlap80, &|v| format!("{:.0}%", 100.0 * v)),
                a.sweeps,
                pct(a.gap, &|v| format!("{:+.1}%", 100.0 * v)),
            ),
        );
    }
    if let Some(c) = &report.seed_checks {
        let pct = |v: f64| format!("{:.0}%", 100.0 * v);
        line(
            &mut out,
            format!(
                "  each seed alone ({} sweeps): every seed inside the pooled 80% interval in {}, \
                 the pooled value inside every seed's own in {}, Cochran's Q consistent at 0.1 \
                 in {}; one seed's 80% interval holds the truth in {}",
                c.sweeps,
                pct(c.every_seed_inside_pooled),
                pct(c.pooled_inside_every_seed),
                pct(c.consistent),
                pct(c.one_seed_coverage)
            ),
        );
    }
    out.push('\n');
    for v in &report.verdicts {
        line(
            &mut out,
            format!(
                "verdict \"{}\": holds {}, does not hold {}, cannot tell {}",
                v.claim, v.holds, v.does_not_hold, v.cannot_tell
            ),
        );
    }
    out
}
