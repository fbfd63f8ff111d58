//! `[design]`: an IsoFLOP design from the data and the clock (issue 24). Given the
//! candidate sizes (`[model] sizes` or `shapes`), their measured training speed, the
//! corpus's training tokens and the minutes the user gives, it lays out, for every number
//! of decades and of seeds it may consider, the largest top budget that fits:
//! - budgets a factor `spacing` apart, the top one as large as the clock allows;
//! - at each budget the `2·(bracket + margin) + 1` sizes nearest (in log N) to the prior
//!   law's optimum N*(C) (as `expected_ratio`, its D*/N* at the top budget, and
//!   `expected_exponent`, its a = β/(α+β), carry it), at least `bracket` of them on each
//!   side;
//! - every run single-epoch within the training split, and at least `min_steps` steps
//!   long;
//! - with `held_out = k`, two budgets or more at or below `C_max / k` (the held-out
//!   check's fit);
//! - the wall time, with WSD branching and the runner's schedule, within the minutes;
//!
//! then simulates each layout under the prior law ([`ladder_fit::simulate`], as `ladder
//! design` does) and picks the one whose top budget's D*/N* has the narrowest expected
//! 80% interval (ties: more decades). The choice is written into the config text as plain
//! `budgets`, `sizes_per_budget`, `expected_ratio`, `expected_exponent` and `seeds`, so that the sweep's stored
//! config says exactly what was trained.

use ladder_fit::{ChinchillaLaw, DesignPoint, DesignReport, SimulationOptions};
use ladder_sweep::{nearest_sizes, DesignConfig};

use crate::LabError;

/// A candidate model: its N (under the config's convention) and its training speed.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its shape, `d64-l2-h4`.
    pub label: String,
    /// Parameters under the config's convention.
    pub n: f64,
    /// Seconds per training token, evaluations included, on one job.
    pub seconds_per_token: f64,
    /// Training tokens per optimizer step.
    pub tokens_per_step: f64,
}

/// What a design may use: the candidates, the corpus, the clock and the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignSpace {
    /// Candidate models, smallest first.
    pub candidates: Vec<Candidate>,
    /// Training tokens the corpus holds (single epoch); infinite for a synthetic source.
    pub capacity: f64,
    /// Parallel jobs.
    pub jobs: usize,
    /// Wall-clock seconds allowed.
    pub seconds: f64,
    /// Seed counts to consider.
    pub seeds: Vec<u64>,
    /// Sizes required on each side of the expected optimum.
    pub bracket: usize,
    /// Sizes added on each side.
    pub margin: usize,
    /// Factor between neighbouring budgets.
    pub spacing: f64,
    /// Decades of compute to consider.
    pub decades: Vec<f64>,
    /// The fewest optimizer steps a run may take.
    pub min_steps: u64,
    /// When set, the held-out factor `k`: a layout needs two budgets `≤ C_max / k`.
    pub held_out: Option<f64>,
    /// Under WSD branching, the share of a shorter run's cost its cooldown branch takes.
    pub branch_share: Option<f64>,
    /// The prior law.
    pub law: ChinchillaLaw,
}

/// One laid-out design.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Budgets, smallest first.
    pub budgets: Vec<f64>,
    /// Seeds per point.
    pub seeds: u64,
    /// Decades from the smallest budget to the largest.
    pub decades: f64,
    /// Tokens per parameter that centre the top budget's sizes.
    pub ratio: f64,
    /// The a of `N* ∝ C^a` that carries that centre to the other budgets.
    pub exponent: f64,
    /// Sizes per budget.
    pub sizes_per_budget: usize,
    /// Runs of one seed: (candidate index, budget, tokens).
    pub runs: Vec<(usize, f64, f64)>,
    /// Estimated wall-clock seconds, all seeds.
    pub seconds: f64,
}

impl Layout {
    /// The design's points, one per run of one seed, for the simulator.
    pub fn points(&self, space: &DesignSpace) -> Vec<DesignPoint> {
        self.runs
            .iter()
            .map(|&(i, c, d)| DesignPoint {
                n: space.candidates[i].n,
                d,
                c,
                planned: Some(c),
            })
            .collect()
    }
}

/// Checks `[design]` and turns it into the rules of a [`DesignSpace`] (without the
/// candidates, the corpus and the law, which the caller measures and reads).
pub fn check_design(d: &DesignConfig) -> Result<(), LabError> {
    let bad =
        |field: &str, message: String| Err(LabError::Input(format!("design.{field}: {message}")));
    if !(d.minutes.is_finite() && d.minutes > 0.0) {
        return bad(
            "minutes",
            format!("{} must be a number of minutes > 0", d.minutes),
        );
    }
    if let Some(f) = d.flops_per_second {
        if !(f.is_finite() && f > 0.0) {
            return bad(
                "flops_per_second",
                format!("{f} must be a speed > 0, e.g. 2e13"),
            );
        }
    }
    if d.jobs == Some(0) {
        return bad("jobs", "must be at least 1".into());
    }
    if let Some(s) = &d.seeds {
        if s.is_empty() || s.iter().any(|&k| !(1..=100).contains(&k)) {
            return bad("seeds", format!("{s:?}: give seed counts from 1 to 100"));
        }
    }
    if let Some(s) = d.spacing {
        if !(s.is_finite() && s > 1.05) {
            return bad("spacing", format!("{s} must be a factor > 1.05, e.g. 3.16"));
        }
    }
    if let Some(dec) = &d.decades {
        if dec.is_empty()
            || dec
                .iter()
                .any(|&x| !(x.is_finite() && (0.0..=6.0).contains(&x)))
        {
            return bad("decades", format!("{dec:?}: give decades from 0 to 6"));
        }
    }
    if let Some(k) = d.held_out {
        if !(k.is_finite() && k > 1.0) {
            return bad(
                "held_out",
                format!("{k} must be a factor > 1, e.g. 8 (fit on budgets ≤ C_max/8)"),
            );
        }
    }
    if d.bracket == Some(0) {
        return bad(
            "bracket",
            "must be at least 1 (approach 2 needs a size on each side)".into(),
        );
    }
    if let Some(n) = d.noise {
        if !(n.is_finite() && n >= 0.0) {
            return bad("noise", format!("{n} must be a relative SD ≥ 0, e.g. 0.01"));
        }
    }
    if let Some(rho) = d.shared {
        if !(rho.is_finite() && (0.0..=1.0).contains(&rho)) {
            return bad(
                "shared",
                format!("{rho} must be a share of the variance from 0 to 1, e.g. 0.5"),
            );
        }
    }
    for (field, value) in [("misfit", d.misfit), ("model_misfit", d.model_misfit)] {
        if let Some(m) = value {
            if !(m.is_finite() && m >= 0.0) {
                return bad(field, format!("{m} must be a relative SD ≥ 0, e.g. 0.005"));
            }
        }
    }
    if d.reps == Some(0) {
        return bad("reps", "must be at least 1".into());
    }
    Ok(())
}

/// The wall time of `runs` (one seed) trained `seeds` times on `space.jobs` jobs: each
/// model's runs as one unit (its longest run plus its shorter runs' cooldown branches
/// under branching), units scheduled largest first to the job that frees first.
fn wall_seconds(space: &DesignSpace, runs: &[(usize, f64, f64)], seeds: u64) -> f64 {
    let mut units: Vec<f64> = Vec::new();
    for i in 0..space.candidates.len() {
        let mut own: Vec<f64> = runs
            .iter()
            .filter(|r| r.0 == i)
            .map(|r| r.2 * space.candidates[i].seconds_per_token)
            .collect();
        own.sort_by(f64::total_cmp);
        let Some(&longest) = own.last() else { continue };
        let rest: f64 = own[..own.len() - 1].iter().sum();
        let unit = match space.branch_share {
            Some(share) => longest + share * rest,
            None => longest + rest,
        };
        units.extend(std::iter::repeat_n(unit, seeds as usize));
    }
    units.sort_by(|a, b| b.total_cmp(a));
    let mut free_at = vec![0.0f64; space.jobs.max(1)];
    for u in units {
        let slot = (0..free_at.len())
            .min_by(|&a, &b| free_at[a].total_cmp(&free_at[b]))
            .unwrap_or(0);
        free_at[slot] += u;
    }
    free_at.into_iter().fold(0.0, f64::max)
}

/// The layout with top budget `top` over `decades`, or `None` when it breaks a rule
/// other than the clock (a budget's sizes do not bracket its optimum, or a run does not
/// fit the corpus or is shorter than `min_steps`, or too few budgets lie at or below
/// `C_max / held_out`).
fn layout_at(space: &DesignSpace, top: f64, decades: f64, seeds: u64) -> Option<Layout> {
    let steps = (decades / space.spacing.log10()).round() as i32;
    let budgets: Vec<f64> = (0..=steps)
        .rev()
        .map(|i| top / space.spacing.powi(i))
        .collect();
    if let Some(k) = space.held_out {
        // The fit's own cut, so that a budget planned at exactly top / k counts.
        let small = budgets.iter().filter(|&&c| ladder_fit::held_in(c, top, k));
        if small.count() < 2 {
            return None;
        }
    }
    let (n_top, d_top) = space.law.compute_optimal(top);
    let ratio = d_top / n_top;
    // Rounded as the resolved config writes it, so that the sweep trains these sizes.
    let exponent = (space.law.n_exponent() * 1e4).round() / 1e4;
    let k = 2 * (space.bracket + space.margin) + 1;
    let ns: Vec<f64> = space.candidates.iter().map(|c| c.n).collect();
    let mut runs = Vec::new();
    for &c in &budgets {
        let centre = ladder_sweep::expected_optimum(c, top, ratio, exponent);
        let chosen = nearest_sizes(&ns, centre, k);
        let optimum = space.law.compute_optimal(c).0;
        let below = chosen
            .iter()
            .filter(|&&i| space.candidates[i].n < optimum)
            .count();
        let above = chosen
            .iter()
            .filter(|&&i| space.candidates[i].n > optimum)
            .count();
        if chosen.len() < k || below < space.bracket || above < space.bracket {
            return None;
        }
        for i in chosen {
            let d = c / (6.0 * space.candidates[i].n);
            let steps = d / space.candidates[i].tokens_per_step;
            if d > space.capacity || steps < space.min_steps as f64 {
                return None;
            }
            runs.push((i, c, d));
        }
    }
    let seconds = wall_seconds(space, &runs, seeds);
    Some(Layout {
        decades: (budgets[budgets.len() - 1] / budgets[0]).log10(),
        budgets,
        seeds,
        ratio,
        exponent,
        sizes_per_budget: k,
        runs,
        seconds,
    })
}

/// For every (decades, seeds) the layout with the largest top budget that keeps every
/// rule and the clock, scanning top budgets 40 per decade from 10⁶ to 10²⁴ FLOPs.
pub fn layouts(space: &DesignSpace) -> Vec<Layout> {
    let mut found = Vec::new();
    for &decades in &space.decades {
        for &seeds in &space.seeds {
            let best = (0..=18 * 40)
                .rev()
                .map(|i| 1e6 * 10f64.powf(i as f64 / 40.0))
                .filter_map(|top| layout_at(space, top, decades, seeds))
                .find(|l| l.seconds <= space.seconds);
            found.extend(best);
        }
    }
    found
}

/// For every (decades, seeds), the quickest layout that keeps the rules other than the
/// clock, to say how far a design that does not fit is from fitting.
pub fn quickest(space: &DesignSpace) -> Vec<Layout> {
    let mut found = Vec::new();
    for &decades in &space.decades {
        for &seeds in &space.seeds {
            let quick = (0..=18 * 40)
                .map(|i| 1e6 * 10f64.powf(i as f64 / 40.0))
                .filter_map(|top| layout_at(space, top, decades, seeds))
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds));
            found.extend(quick);
        }
    }
    found
}

/// Each layout simulated under the space's law; returns the reports and the index of the
/// chosen layout: the narrowest expected 80% interval of the top budget's D*/N* (ties
/// within 2%: more decades), among layouts whose simulated fits gave one.
pub fn choose(
    space: &DesignSpace,
    layouts: &[Layout],
    options: &SimulationOptions,
    on_layout: &mut dyn FnMut(usize, &Layout),
) -> (Vec<DesignReport>, Option<usize>) {
    let reports: Vec<DesignReport> = layouts
        .iter()
        .enumerate()
        .map(|(i, l)| {
            on_layout(i, l);
            simulate_layout(space, l, options)
        })
        .collect();
    let width = |r: &DesignReport| top_ratio_width(r).unwrap_or(f64::INFINITY);
    let best = (0..layouts.len())
        .filter(|&i| width(&reports[i]).is_finite())
        .min_by(|&a, &b| {
            let (wa, wb) = (width(&reports[a]), width(&reports[b]));
            if (wa / wb - 1.0).abs() <= 0.02 {
                layouts[b].decades.total_cmp(&layouts[a].decades)
            } else {
                wa.total_cmp(&wb)
            }
        });
    (reports, best)
}

/// `layout`'s sweeps simulated under the space's law (`options` with the layout's seeds).
fn simulate_layout(
    space: &DesignSpace,
    layout: &Layout,
    options: &SimulationOptions,
) -> DesignReport {
    let options = SimulationOptions {
        seeds: layout.seeds as usize,
        ..options.clone()
    };
    ladder_fit::simulate(&layout.points(space), &space.law, &options)
}

/// The median expected 80% width (hi/lo) of the top budget's D*/N* in `report`.
pub fn top_ratio_width(report: &DesignReport) -> Option<f64> {
    report
        .quantities
        .iter()
        .find(|q| q.name == "tokens_per_param.-1.ratio")
        .and_then(|q| q.width80)
}

/// `original` with the layout's choices written into `[tokens]` and `[train]`, under a
/// comment that names the source hash `source` (so a rerun finds its resolved design).
pub fn resolved_text(original: &str, layout: &Layout, source: &str, seeds_given: bool) -> String {
    let budgets: Vec<String> = layout.budgets.iter().map(|c| format!("{c:.4e}")).collect();
    let tokens = format!(
        "# [design] resolved (config {source}): {:.2} decades, {} seed(s), estimated {:.0} min\n\
         budgets = [{}]\nsizes_per_budget = {}\nexpected_ratio = {:.4}\nexpected_exponent = {:.4}\n",
        layout.decades,
        layout.seeds,
        layout.seconds / 60.0,
        budgets.join(", "),
        layout.sizes_per_budget,
        layout.ratio,
        layout.exponent
    );
    let mut out = String::new();
    for line in original.lines() {
        out.push_str(line);
        out.push('\n');
        let header = line.trim_start();
        if header.starts_with("[tokens]") {
            out.push_str(&tokens);
        } else if header.starts_with("[train]") && !seeds_given {
            out.push_str(&format!("seeds = {}\n", layout.seeds));
        }
    }
    out
}

/// A config whose `[design]` was resolved: the text to plan, and what the search found.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The config with the chosen budgets, sizes and seeds written in.
    pub text: String,
    /// The search, as text: every layout with its estimated time and expected width.
    pub summary: String,
}

/// The hash that ties a resolved design to the config it came from: of the config's
/// content, so that an edit to its comments or layout (spacing, key order, `5.66e-3`
/// spelled `0.00566`) still finds the design stored for it; the raw text's hash when the
/// text is not TOML (the parse reports that).
pub fn source_hash(text: &str) -> String {
    match text.parse::<toml::Table>() {
        Ok(table) => {
            let mut canonical = String::new();
            write_canonical(&toml::Value::Table(table), &mut canonical);
            ladder_store::config_hash(&canonical)
        }
        Err(_) => ladder_store::config_hash(text),
    }
}

/// The hashes a stored resolution of the config `text` may carry: [`source_hash`], then
/// that of the raw text, which resolutions written before content hashes carry.
pub fn source_hashes(text: &str) -> [String; 2] {
    [source_hash(text), ladder_store::config_hash(text)]
}

/// `value` written with its tables' keys sorted, so that equal content gives equal text
/// whatever order the map keeps.
fn write_canonical(value: &toml::Value, out: &mut String) {
    match value {
        toml::Value::Table(table) => {
            let mut keys: Vec<&String> = table.keys().collect();
            keys.sort();
            out.push('{');
            for key in keys {
                out.push_str(&format!("{key:?}="));
                write_canonical(&table[key.as_str()], out);
                out.push(',');
            }
            out.push('}');
        }
        toml::Value::Array(items) => {
            out.push('[');
            for item in items {
                write_canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Resolves the `[design]` of the config `text` (read from `path`): measures every
/// candidate size's training speed on `device` (unless `flops_per_second` assumes one),
/// lays out and simulates the designs, and writes the best into the text. `Ok(None)` when the config has no `[design]` to
/// resolve. `on_step` hears what is being done (timing a size, simulating a layout).
pub fn resolve_design(
    text: &str,
    path: &std::path::Path,
    device: ladder_sweep::DeviceChoice,
    on_step: &mut dyn FnMut(&str),
) -> Result<Option<Resolved>, LabError> {
    let cfg = ladder_sweep::SweepConfig::parse(text, path)?;
    let Some(design) = cfg.design.clone() else {
        return Ok(None);
    };
    if cfg.tokens.budgets.is_some() {
        return Ok(None);
    }
    check_design(&design)?;
    check_tokens(&cfg.tokens)?;
    let base = path.parent().unwrap_or(std::path::Path::new("."));
    let probe = probe_plan(&cfg, text, path)?;
    // The jobs `run --device` trains on, one device each to time on: GPUs opened only
    // where the speed is timed or the jobs are one per GPU.
    let timers = match (device, design.jobs, design.flops_per_second) {
        (ladder_sweep::DeviceChoice::Cuda(_), Some(jobs), Some(_)) => {
            vec![candle_core::Device::Cpu; jobs]
        }
        (choice, jobs, _) => crate::job_devices(choice, jobs)?,
    };
    let jobs = timers.len();
    let capacity = probe
        .source
        .train_capacity(cfg.model.context)
        .map_or(f64::INFINITY, |c| c as f64);
    let params: ladder_core::ParamCount = cfg
        .tokens
        .params
        .parse()
        .map_err(|e: ladder_core::UnknownName| LabError::Input(format!("tokens.params: {e}")))?;
    let mut candidates = Vec::new();
    for run in &probe.runs {
        let label = ladder_sweep::shape_name(&run.spec.model);
        let eval_share = probe.eval_tokens as f64 / cfg.eval.every_tokens as f64;
        let seconds_per_token = match design.flops_per_second {
            Some(fps) => run.params.total as f64 * (6.0 + 2.0 * eval_share) / fps,
            None => {
                on_step(&format!("timing {label} (batch {})", run.spec.batch_size));
                let times = crate::plans::time_shape(run, &timers)?;
                let per_step = run.spec.tokens_per_step() as f64;
                times.step_seconds() / per_step
                    + times.forward_seconds(probe.eval_tokens) / cfg.eval.every_tokens as f64
            }
        };
        let n = match params {
            ladder_core::ParamCount::Total => run.params.total,
            ladder_core::ParamCount::NonEmbedding => run.params.non_embedding,
        } as f64;
        candidates.push(Candidate {
            label,
            n,
            seconds_per_token,
            tokens_per_step: run.spec.tokens_per_step() as f64,
        });
    }
    candidates.sort_by(|a, b| a.n.total_cmp(&b.n));
    let law_spec = if design.law.ends_with(".json") {
        base.join(&design.law).to_string_lossy().into_owned()
    } else {
        design.law.clone()
    };
    let law = crate::design_law(&law_spec)?;
    let seeds_given = cfg.train.seeds;
    let space = DesignSpace {
        candidates,
        capacity,
        jobs,
        seconds: design.minutes * 60.0,
        seeds: seeds_given.map_or_else(
            || design.seeds.clone().unwrap_or(vec![1, 2, 3]),
            |k| vec![k],
        ),
        bracket: design.bracket.unwrap_or(2),
        margin: design.margin.unwrap_or(1),
        spacing: design.spacing.unwrap_or(10f64.sqrt()),
        decades: design
            .decades
            .clone()
            .unwrap_or(vec![1.0, 1.5, 2.0, 2.5, 3.0]),
        min_steps: design.min_steps.unwrap_or(0),
        held_out: design.held_out,
        branch_share: (cfg.train.schedule == "wsd" && cfg.train.branching)
            .then_some(cfg.train.cooldown),
        law: law.law,
    };
    let found = layouts(&space);
    if found.is_empty() {
        let nearest: Vec<String> = quickest(&space)
            .iter()
            .map(|l| {
                format!(
                    "{:.1} decades × {} seed(s) needs {} (top budget {:.2e})",
                    l.decades,
                    l.seeds,
                    crate::duration(l.seconds),
                    l.budgets.last().copied().unwrap_or(0.0)
                )
            })
            .collect();
        return Err(LabError::Input(format!(
            "design: no layout fits {} min on {} job(s) with {} sizes on each side of every \
             budget's optimum ({}): allow more minutes, fewer decades or seeds, or smaller \
             sizes (and a smaller vocabulary, whose embedding sets the smallest model)",
            design.minutes,
            space.jobs,
            space.bracket,
            if nearest.is_empty() {
                let mut why = String::from(
                    "no layout keeps the rules at any budget: the sizes do not bracket the \
                     prior's optima, or where they do the corpus cannot hold the smallest \
                     size's run",
                );
                if space.min_steps > 0 {
                    why += &format!(
                        " or the largest size's run is under design.min_steps = {} steps",
                        space.min_steps
                    );
                }
                if let Some(k) = space.held_out {
                    why += &format!(
                        "; design.held_out = {k} also needs two budgets at or below \
                         C_max/{k}: allow more decades or a smaller spacing"
                    );
                }
                why
            } else {
                format!("at best: {}", nearest.join("; "))
            }
        )));
    }
    let fit = crate::FitOptions {
        params,
        bootstrap: design.bootstrap.unwrap_or(200),
        extrapolate_k: design.held_out.unwrap_or(ladder_fit::DEFAULT_K),
        ..crate::FitOptions::default()
    };
    let total = design.noise.or(law.noise).unwrap_or(0.01);
    let shared = match space.branch_share {
        Some(_) => design.shared.or(law.shared).unwrap_or(0.0),
        None => 0.0,
    };
    let (noise, family_noise) = crate::split_noise(total, shared);
    let [misfit, model_misfit] = crate::drawn_misfit([design.misfit, design.model_misfit], &law);
    let options = SimulationOptions {
        noise,
        family_noise,
        misfit,
        model_misfit,
        model_misfit_length: 0.0,
        seeds: 1,
        reps: design.reps.unwrap_or(8),
        seed: 0,
        // The search reads only the top budget's D*/N*: the held-out check's bootstrap
        // (a third of `ladder fit` on results/lab-cpu at k = 8 and 200 resamples) is
        // skipped.
        analysis: ladder_fit::AnalysisOptions {
            check_bootstrap: false,
            ..fit.analysis()
        },
        per_seed: false,
        calibrate: 0,
    };
    let (reports, best) = choose(&space, &found, &options, &mut |i, l| {
        on_step(&format!(
            "simulating layout {}/{}: {:.1} decades, {} seed(s)",
            i + 1,
            found.len(),
            l.decades,
            l.seeds
        ))
    });
    let Some(best) = best else {
        return Err(LabError::Input(
            "design: no simulated layout gave an interval for the top budget's D*/N*: \
             check the law (design.law) and the noise"
                .into(),
        ));
    };
    let mut reports = reports;
    if space.held_out.is_some() {
        // The chosen layout again, its held-out check bootstrapped, for the check's
        // expected widths; the same sweeps, so everything else comes out the same.
        on_step("simulating the chosen layout's held-out check");
        let options = SimulationOptions {
            analysis: ladder_fit::AnalysisOptions {
                check_bootstrap: true,
                ..options.analysis.clone()
            },
            ..options.clone()
        };
        reports[best] = simulate_layout(&space, &found[best], &options);
    }
    let summary = crate::text::design_search(
        &space,
        &found,
        &reports,
        best,
        &law,
        (total, shared, options.misfit, options.model_misfit),
    );
    let text = resolved_text(
        text,
        &found[best],
        &source_hash(text),
        seeds_given.is_some(),
    );
    Ok(Some(Resolved { text, summary }))
}

/// `[tokens]` under a `[design]`: only the conventions; the design sets the rest.
fn check_tokens(t: &ladder_sweep::TokensConfig) -> Result<(), LabError> {
    for (field, set) in [
        ("counts", t.counts.is_some()),
        ("per_param", t.per_param.is_some()),
        ("sizes_per_budget", t.sizes_per_budget.is_some()),
        ("expected_ratio", t.expected_ratio.is_some()),
        ("expected_exponent", t.expected_exponent.is_some()),
    ] {
        if set {
            return Err(LabError::Input(format!(
                "tokens.{field}: [design] chooses the budgets and their sizes: remove it, or \
                 remove [design] to give budgets yourself"
            )));
        }
    }
    if t.flops != ladder_core::FlopCount::SixNd.name() {
        return Err(LabError::Input(format!(
            "tokens.flops: [design] lays budgets out as C = 6·N·D; `{}` is not supported with it",
            t.flops
        )));
    }
    Ok(())
}

/// Every candidate model once, on one step's tokens at the full batch, to be timed.
fn probe_plan(
    cfg: &ladder_sweep::SweepConfig,
    text: &str,
    path: &std::path::Path,
) -> Result<ladder_sweep::Plan, LabError> {
    let mut probe = cfg.clone();
    probe.design = None;
    probe.train.seeds = None;
    probe.train.min_steps = None;
    probe.train.min_batch_size = None;
    probe.tokens.counts = Some(vec![(cfg.train.batch_size * cfg.model.context) as f64]);
    ladder_sweep::Plan::new(&probe, text, path).map_err(|source| LabError::Config {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes 1.4× apart from 1e4 to 1e7, training at a speed proportional to N.
    fn space(minutes: f64) -> DesignSpace {
        let candidates = (0..21)
            .map(|i| {
                let n = 1e4 * 1.4f64.powi(i);
                Candidate {
                    label: format!("m{i}"),
                    n,
                    seconds_per_token: 6.0 * n / 3e10,
                    tokens_per_step: 1024.0,
                }
            })
            .collect();
        DesignSpace {
            candidates,
            capacity: 1e9,
            jobs: 2,
            seconds: minutes * 60.0,
            seeds: vec![1, 3],
            bracket: 2,
            margin: 1,
            spacing: 10f64.sqrt(),
            decades: vec![1.0, 2.0],
            min_steps: 0,
            held_out: None,
            branch_share: Some(0.2),
            law: ChinchillaLaw {
                e: 1.5,
                a: 400.0,
                b: 400.0,
                alpha: 0.34,
                beta: 0.28,
            },
        }
    }

    #[test]
    fn layouts_fill_the_clock_and_keep_every_rule() {
        let s = space(60.0);
        let found = layouts(&s);
        assert_eq!(found.len(), 4, "every (decades, seeds) fits somewhere");
        for l in &found {
            assert!(l.seconds <= s.seconds, "within the clock");
            assert!(l.runs.iter().all(|r| r.2 <= s.capacity), "single epoch");
            assert_eq!(l.runs.len(), l.budgets.len() * 7);
            // One step (10^(1/40)) larger breaks the clock or a rule.
            let top = l.budgets[l.budgets.len() - 1] * 10f64.powf(1.0 / 40.0);
            let bigger = layout_at(&s, top, l.decades, l.seeds);
            assert!(bigger.is_none_or(|b| b.seconds > s.seconds), "{l:?}");
        }
        let pick = |decades: f64, seeds: u64| {
            found
                .iter()
                .find(|l| (l.decades - decades).abs() < 0.01 && l.seeds == seeds)
                .map(|l| l.budgets[l.budgets.len() - 1])
                .unwrap_or(0.0)
        };
        assert!(
            pick(1.0, 3) < pick(1.0, 1),
            "three seeds cost a smaller top budget"
        );
        // Lower budgets cost little more (under branching their sizes' runs are mostly
        // cooldown branches of longer ones), never less.
        assert!(pick(2.0, 1) <= pick(1.0, 1));
        // A small corpus caps the top budget: its smallest size's run must fit.
        let small = DesignSpace {
            capacity: 1e6,
            ..space(60.0)
        };
        for l in layouts(&small) {
            assert!(l.runs.iter().all(|r| r.2 <= 1e6));
        }
    }

    #[test]
    fn short_runs_are_kept_out_and_lift_the_bottom_budget() {
        let free = layouts(&space(60.0));
        let shortest = |l: &Layout| l.runs.iter().map(|r| r.2 / 1024.0).fold(f64::MAX, f64::min);
        let min_steps = 300;
        assert!(
            free.iter().any(|l| shortest(l) < min_steps as f64),
            "without the rule some layout has runs under {min_steps} steps"
        );
        let ruled = DesignSpace {
            min_steps,
            ..space(60.0)
        };
        let kept = layouts(&ruled);
        assert!(!kept.is_empty());
        for l in &kept {
            assert!(shortest(l) >= min_steps as f64, "{l:?}");
            // The same (decades, seeds) without the rule starts no higher.
            let same = free
                .iter()
                .find(|f| f.seeds == l.seeds && (f.decades - l.decades).abs() < 0.01)
                .unwrap();
            assert!(same.budgets[0] <= l.budgets[0]);
            if shortest(same) < min_steps as f64 {
                assert!(same.budgets[0] < l.budgets[0], "the rule moved it up");
            }
        }
    }

    #[test]
    fn the_held_out_rule_keeps_two_budgets_below_c_max_over_k() {
        let small = |l: &Layout| {
            let top = l.budgets[l.budgets.len() - 1];
            l.budgets
                .iter()
                .filter(|&&c| ladder_fit::held_in(c, top, 8.0))
                .count()
        };
        // √10 apart: 1 decade has one budget ≤ C_max/8, so the rule drops it; 2 keep it.
        let free = layouts(&space(60.0));
        assert!(free.iter().any(|l| small(l) < 2));
        let ruled = DesignSpace {
            held_out: Some(8.0),
            ..space(60.0)
        };
        let kept = layouts(&ruled);
        assert!(!kept.is_empty());
        assert!(
            kept.iter().all(|l| small(l) >= 2 && l.decades > 1.5),
            "{kept:?}"
        );
        // √2 apart, 1.05 decades (8 budgets): top/8 is the seventh, and it counts.
        let close = DesignSpace {
            spacing: 2f64.sqrt(),
            decades: vec![1.05],
            ..ruled
        };
        let kept = layouts(&close);
        assert!(!kept.is_empty());
        assert!(kept.iter().all(|l| l.budgets.len() == 8 && small(l) == 2));
    }

    #[test]
    fn every_budget_centres_its_sizes_on_the_prior_laws_optimum() {
        // A law whose optimum moves as C^0.8, far from the constant ratio's C^0.5: over
        // two decades the two paths part by 0.6 decades of N, four sizes 1.4× apart.
        let steep = DesignSpace {
            law: ChinchillaLaw {
                alpha: 0.1,
                beta: 0.4,
                ..space(60.0).law
            },
            ..space(60.0)
        };
        let found = layouts(&steep);
        assert!(found.iter().any(|l| l.decades > 1.5));
        for l in &found {
            assert!((l.exponent - 0.8).abs() < 1e-9);
            for &c in &l.budgets {
                let optimum = steep.law.compute_optimal(c).0;
                let sizes: Vec<f64> = l
                    .runs
                    .iter()
                    .filter(|r| r.1 == c)
                    .map(|r| steep.candidates[r.0].n)
                    .collect();
                let below = sizes.iter().filter(|&&n| n < optimum).count();
                let above = sizes.len() - below;
                let edge = |i: usize| sizes.contains(&steep.candidates[i].n);
                if !edge(0) && !edge(steep.candidates.len() - 1) {
                    assert!(
                        below.abs_diff(above) <= 1,
                        "{c:e}: {sizes:?} around {optimum:e}"
                    );
                }
            }
        }
    }

    #[test]
    fn too_little_time_gives_no_layout() {
        assert!(layouts(&space(1e-6)).is_empty());
    }

    #[test]
    fn the_source_hash_follows_the_content_not_the_text() {
        let text = "name = \"x\"\n[train]\nlr = 5.66e-3\nbatch_size = 8\n";
        let edited = "# a note\nname = \"x\"\n\n[train]\nbatch_size = 8   # per step\n\
                      lr = 0.00566\n";
        assert_eq!(source_hash(text), source_hash(edited));
        assert_ne!(
            source_hash(text),
            source_hash(&text.replace("5.66e-3", "5.67e-3"))
        );
        assert_ne!(
            source_hash(text),
            source_hash(&text.replace("[train]", "[eval]"))
        );
        // Resolutions stored before content hashes carry the raw text's.
        assert_eq!(source_hashes(text)[1], ladder_store::config_hash(text));
        assert_ne!(source_hashes(text)[1], source_hashes(edited)[1]);
    }

    #[test]
    fn the_resolved_text_adds_the_design() {
        let text = "name = \"x\"\n[tokens]\nparams = \"total\"\n[train]\nlr = 1e-3\n";
        let layout = Layout {
            budgets: vec![1e12, 1e13],
            seeds: 3,
            decades: 1.0,
            ratio: 25.0,
            exponent: 0.62,
            sizes_per_budget: 7,
            runs: Vec::new(),
            seconds: 600.0,
        };
        let out = resolved_text(text, &layout, "abc", false);
        assert!(
            out.contains("[tokens]\n# [design] resolved (config abc)"),
            "{out}"
        );
        assert!(out.contains(
            "budgets = [1.0000e12, 1.0000e13]\nsizes_per_budget = 7\nexpected_ratio = 25.0000\n\
             expected_exponent = 0.6200\n"
        ));
        assert!(out.contains("[train]\nseeds = 3\nlr = 1e-3"), "{out}");
        assert!(!resolved_text(text, &layout, "abc", true).contains("seeds"));
    }
}
