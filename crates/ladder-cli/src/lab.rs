//! `ladder lab list | run N`: the teaching labs of `docs/labs/`, each a sweep, its fit,
//! its report and the lab's own numbers (`lab.json`) in one command.
//!
//! The labs' configs (`configs/labs/`) are built into the binary, so that `ladder lab
//! run` works from any directory; `ladder plan configs/labs/…` shows the same runs.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use ladder_fit::{
    analyse, chinchilla_for_loss, optimum_for_loss, preset, served_tokens_for_optimum, Allocation,
    ChinchillaLaw, FitReport, FormFit, PowerLaw, Spread, MODELS,
};
use ladder_store::read_runs;
use ladder_sweep::{DeviceChoice, Plan, SweepConfig};
use serde::Serialize;

use crate::exit::{emit, line, Failure, ResultExt};
use crate::fit::{dataset_from_runs, write_json, FitOptions, ParamConvention};
use crate::report::write_sweep_report;
use crate::run::train_plan;

/// Arguments of `ladder lab`.
#[derive(Debug, clap::Args)]
pub struct LabArgs {
    #[command(subcommand)]
    command: LabCommand,
}

#[derive(Debug, clap::Subcommand)]
enum LabCommand {
    /// List the labs, their documents and their configs.
    List,
    /// Train a lab's sweep, fit it, write its report and its numbers (lab.json), and
    /// print where they are.
    Run(LabRunArgs),
    /// Print a lab's sweep config as `lab run` uses it (with its seed replaced when one
    /// is given), e.g. for `ladder slurm` or `ladder plan`.
    Config(LabConfigArgs),
}

/// Which lab, at which size, with which seed.
#[derive(Debug, Clone, Copy, clap::Args)]
struct LabChoice {
    /// The lab's number (`ladder lab list`).
    number: usize,
    /// Which size of the lab's sweep.
    #[arg(long, value_enum, default_value_t = Size::Cpu)]
    size: Size,
    /// Use this seed (data order and initial weights) instead of the config's; `lab run`'s
    /// default output directory then ends in `-seed<S>`.
    #[arg(long)]
    seed: Option<u64>,
}

/// Arguments of `ladder lab config`.
#[derive(Debug, clap::Args)]
struct LabConfigArgs {
    #[command(flatten)]
    lab: LabChoice,
    /// Lab 3: print its target run's config instead of the ladder's.
    #[arg(long)]
    target: bool,
}

/// How large a lab's sweep is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    /// A laptop: at most 30 minutes on 2 CPU cores.
    Cpu,
    /// One 24 GB consumer GPU: at most 10 minutes (use with --device cuda).
    Gpu,
    /// Seconds, for CI: the same commands and plots, too small to mean anything.
    Smoke,
}

impl Size {
    const ALL: [Size; 3] = [Size::Cpu, Size::Gpu, Size::Smoke];

    fn name(self) -> &'static str {
        match self {
            Size::Cpu => "cpu",
            Size::Gpu => "gpu",
            Size::Smoke => "smoke",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Arguments of `ladder lab run`.
#[derive(Debug, clap::Args)]
struct LabRunArgs {
    #[command(flatten)]
    lab: LabChoice,
    /// Output directory (default: results/lab<N>-<size>[-seed<S>]; the project's own
    /// results, which the guides quote, are committed in results/labs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs trained in parallel (default: one per core, as `ladder run`).
    #[arg(long)]
    jobs: Option<usize>,
    /// Where to train: cpu, cuda or cuda:N (CUDA needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// Bootstrap resamples of the fit (default 1000; 100 for the smoke size).
    #[arg(long)]
    bootstrap: Option<usize>,
}

/// A config built into the binary: its path in the repository and its text.
#[derive(Debug, Clone, Copy)]
struct Config {
    path: &'static str,
    text: &'static str,
}

macro_rules! config {
    ($file:literal) => {
        Config {
            path: concat!("configs/labs/", $file),
            text: include_str!(concat!("../../../configs/labs/", $file)),
        }
    };
}

/// What a lab computes after its fit.
#[derive(Debug, Clone, Copy)]
enum Extra {
    /// Kaplan's exponents, from fit.json and fit-nonemb.json.
    Kaplan,
    /// Each IsoFLOP minimum and its tokens per parameter (lab.json).
    IsoFlop,
    /// Predict the target run from the fit, then train it and compare.
    Predict([Config; 3]),
    /// Inference-aware sizing with the fitted law and Chinchilla's.
    Inference,
}

/// One lab.
#[derive(Debug, Clone, Copy)]
struct Lab {
    number: usize,
    title: &'static str,
    doc: &'static str,
    /// The sweep per size, in the order of [`Size::ALL`].
    configs: [Config; 3],
    /// Also fit with non-embedding parameters (fit-nonemb.json).
    non_embedding: bool,
    extra: Extra,
}

const LABS: [Lab; 4] = [
    Lab {
        number: 1,
        title: "Kaplan's power laws: L(N) at a large D, L(D) at a large N",
        doc: "docs/labs/lab1-kaplan.md",
        configs: [
            config!("lab1-kaplan-cpu.toml"),
            config!("lab1-kaplan-gpu.toml"),
            config!("lab1-kaplan-smoke.toml"),
        ],
        non_embedding: true,
        extra: Extra::Kaplan,
    },
    Lab {
        number: 2,
        title: "Chinchilla IsoFLOPs: three budgets, five sizes each",
        doc: "docs/labs/lab2-isoflop.md",
        configs: [
            config!("lab2-isoflop-cpu.toml"),
            config!("lab2-isoflop-gpu.toml"),
            config!("lab2-isoflop-smoke.toml"),
        ],
        non_embedding: false,
        extra: Extra::IsoFlop,
    },
    Lab {
        number: 3,
        title: "Approach 3 and its uncertainty: predict a larger run, then train it",
        doc: "docs/labs/lab3-approach3.md",
        configs: [
            config!("lab3-approach3-cpu.toml"),
            config!("lab3-approach3-gpu.toml"),
            config!("lab3-approach3-smoke.toml"),
        ],
        non_embedding: false,
        extra: Extra::Predict([
            config!("lab3-target-cpu.toml"),
            config!("lab3-target-gpu.toml"),
            config!("lab3-target-smoke.toml"),
        ]),
    },
    Lab {
        number: 4,
        title:
            "Inference-aware sizing: Sardana's shift and Llama 3 8B's 1,875 tokens per parameter",
        doc: "docs/labs/lab4-inference.md",
        configs: [
            config!("lab4-inference-cpu.toml"),
            config!("lab4-inference-gpu.toml"),
            config!("lab4-inference-smoke.toml"),
        ],
        non_embedding: false,
        extra: Extra::Inference,
    },
];

fn find_lab(number: usize) -> Result<&'static Lab, Failure> {
    LABS.iter().find(|l| l.number == number).ok_or_else(|| {
        Failure::Input(anyhow!(
            "lab {number}: no such lab: the labs are 1 to {} (`ladder lab list`)",
            LABS.len()
        ))
    })
}

pub(crate) fn lab(args: &LabArgs) -> Result<(), Failure> {
    match &args.command {
        LabCommand::List => list(),
        LabCommand::Run(run) => run_lab(run),
        LabCommand::Config(args) => show_config(args),
    }
}

fn show_config(args: &LabConfigArgs) -> Result<(), Failure> {
    let LabChoice { number, size, seed } = args.lab;
    let lab = find_lab(number)?;
    let config = match (args.target, lab.extra) {
        (false, _) => lab.configs[size.index()],
        (true, Extra::Predict(targets)) => targets[size.index()],
        (true, _) => {
            return Err(Failure::Input(anyhow!(
                "--target: lab {} has no target run (only lab 3 has)",
                lab.number
            )))
        }
    };
    // Planned first, so that what is printed is a config `ladder run` accepts.
    let text = config_text(config, seed)?;
    plan_of(config, seed)?;
    emit(&text)
}

fn list() -> Result<(), Failure> {
    let mut out = String::new();
    for lab in &LABS {
        line(&mut out, format!("lab {}: {}", lab.number, lab.title));
        line(&mut out, format!("  guide:   {}", lab.doc));
        for size in Size::ALL {
            line(
                &mut out,
                format!("  {:<6}   {}", size.name(), lab.configs[size.index()].path),
            );
        }
        line(
            &mut out,
            format!(
                "  run:     ladder lab run {} [--size cpu|gpu|smoke]",
                lab.number
            ),
        );
    }
    emit(&out)
}

/// `text` with its top-level `seed` set to `seed` and `-seed<S>` appended to its name,
/// comments and layout kept. Both keys must be set on their own line before any table.
fn with_seed(text: &str, seed: u64) -> Result<String, String> {
    let (mut seen_seed, mut seen_name) = (false, false);
    let mut out = String::with_capacity(text.len() + 16);
    let mut top = true;
    for l in text.lines() {
        let trimmed = l.trim_start();
        top &= !trimmed.starts_with('[');
        let key = trimmed.split('=').next().unwrap_or("").trim();
        if top && key == "seed" {
            out.push_str(&format!("seed = {seed}\n"));
            seen_seed = true;
        } else if top && key == "name" {
            let value = trimmed.split_once('=').map_or("", |(_, v)| v).trim();
            let name = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or("the name is not a plain quoted string")?;
            out.push_str(&format!("name = \"{name}-seed{seed}\"\n"));
            seen_name = true;
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    match (seen_name, seen_seed) {
        (true, true) => Ok(out),
        _ => Err("it has no top-level `name = …` and `seed = …` lines".into()),
    }
}

/// The text of `config`, with its seed replaced when one is given.
fn config_text(config: Config, seed: Option<u64>) -> Result<String, Failure> {
    match seed {
        Some(s) => with_seed(config.text, s)
            .map_err(|e| anyhow!("{}: cannot set the seed: {e}", config.path))
            .runtime(),
        None => Ok(config.text.to_string()),
    }
}

/// Plans `config`, with its seed replaced when one is given.
fn plan_of(config: Config, seed: Option<u64>) -> Result<Plan, Failure> {
    let text = config_text(config, seed)?;
    let path = Path::new(config.path);
    let cfg = SweepConfig::parse(&text, path).runtime()?;
    Plan::new(&cfg, &text, path)
        .with_context(|| format!("built-in config {}", config.path))
        .runtime()
}

/// The fit options of a lab: the command line's defaults, with `params` parameters,
/// `bootstrap` resamples and the runs to predict.
fn fit_options(params: ParamConvention, bootstrap: usize, predict: Vec<(f64, f64)>) -> FitOptions {
    FitOptions {
        params,
        bootstrap,
        predict,
        ..FitOptions::defaults()
    }
}

fn run_lab(args: &LabRunArgs) -> Result<(), Failure> {
    let LabChoice { number, size, seed } = args.lab;
    let lab = find_lab(number)?;
    let config = lab.configs[size.index()];
    let plan = plan_of(config, seed)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let seed = seed.map(|s| format!("-seed{s}")).unwrap_or_default();
        PathBuf::from("results").join(format!("lab{}-{}{seed}", lab.number, size.name()))
    });
    let bootstrap = args
        .bootstrap
        .unwrap_or(if size == Size::Smoke { 100 } else { 1000 });
    eprintln!("lab {}: {} ({})", lab.number, lab.title, config.path);
    train_plan(&plan, &out, args.device, args.jobs, true)?;

    let target = match lab.extra {
        Extra::Predict(configs) => Some(plan_of(configs[size.index()], seed)?),
        _ => None,
    };
    let predict = target
        .iter()
        .flat_map(|t| &t.runs)
        .map(|r| (r.params.total as f64, r.tokens() as f64))
        .collect();
    let sweep_h5 = out.join("sweep.h5");
    let runs = read_runs(&sweep_h5).input()?;
    let options = fit_options(ParamConvention::Total, bootstrap, predict);
    let data = dataset_from_runs(&runs, &sweep_h5, &options)?;
    let fit = analyse(&data, &options.analysis()).input()?;
    write_json(&out.join("fit.json"), &fit)?;
    let mut summary = String::new();
    line(&mut summary, format!("lab {}: {}", lab.number, lab.title));
    line(
        &mut summary,
        format!("fit (total parameters): {}", out.join("fit.json").display()),
    );
    let nonemb = if lab.non_embedding {
        let options = fit_options(ParamConvention::NonEmbedding, bootstrap, Vec::new());
        let data = dataset_from_runs(&runs, &sweep_h5, &options)?;
        let fit = analyse(&data, &options.analysis()).input()?;
        write_json(&out.join("fit-nonemb.json"), &fit)?;
        line(
            &mut summary,
            format!(
                "fit (non-embedding parameters): {}",
                out.join("fit-nonemb.json").display()
            ),
        );
        Some(fit)
    } else {
        None
    };
    let written = write_sweep_report(&sweep_h5, &runs, &data, &fit, &options, &out.join("report"))?;
    line(&mut summary, String::new());
    let numbers = match (lab.extra, &target) {
        (Extra::Predict(_), Some(target)) => {
            emit(&predicted_lines(&fit))?;
            let lab3 = train_target(target, &fit, &out, args)?;
            summary.push_str(&prediction_lines(&lab3));
            serde_json::to_value(lab3)
        }
        (Extra::Inference, _) => {
            let lab4 = inference_sizing(&fit)?;
            summary.push_str(&inference_lines(&lab4));
            serde_json::to_value(lab4)
        }
        (Extra::Kaplan, _) => {
            let lab1 = kaplan_rows(&fit, nonemb.as_ref(), plan.source.entropy_rate());
            summary.push_str(&kaplan_lines(&lab1));
            serde_json::to_value(lab1)
        }
        // A lab without a target run fits and reports as the IsoFLOP lab does.
        (Extra::IsoFlop | Extra::Predict(_), _) => {
            let lab2 = isoflop_minima(&fit);
            summary.push_str(&isoflop_lines(&fit, &lab2));
            serde_json::to_value(lab2)
        }
    }
    .runtime()?;
    let lab_json = LabJson {
        lab: lab.number,
        sweep: plan.name.clone(),
        config: config.path,
        entropy_rate: plan.source.entropy_rate(),
        numbers,
    };
    write_json(&out.join("lab.json"), &lab_json)?;
    line(
        &mut summary,
        format!("the lab's numbers: {}", out.join("lab.json").display()),
    );
    line(&mut summary, String::new());
    line(
        &mut summary,
        format!(
            "report: {} files in {}",
            written.files.len(),
            out.join("report").display()
        ),
    );
    line(&mut summary, format!("open {}", written.index.display()));
    line(&mut summary, format!("the lab's guide: {}", lab.doc));
    emit(&summary)
}

/// `lab.json`: what every lab records, and the lab's own numbers.
#[derive(Debug, Serialize)]
struct LabJson {
    lab: usize,
    sweep: String,
    /// The built-in config (with `seed` replaced when `--seed` was given).
    config: &'static str,
    /// The source's exact entropy rate (nats/token): the lowest loss any model reaches.
    entropy_rate: Option<f64>,
    #[serde(flatten)]
    numbers: serde_json::Value,
}

fn ci80(spread: Option<Spread>, precision: usize) -> String {
    spread.map_or_else(
        || "no interval".into(),
        |s| format!("80% [{:.p$}, {:.p$}]", s.ci80[0], s.ci80[1], p = precision),
    )
}

/// One of Kaplan's single-variable forms, fitted with and without E.
#[derive(Debug, Serialize)]
struct KaplanRow {
    /// `L(N)` or `L(D)`.
    law: &'static str,
    /// Parameter convention of N: `total` or `non-embedding`.
    params: &'static str,
    alpha_without_e: Option<f64>,
    alpha_with_e: Option<f64>,
    #[serde(rename = "E")]
    e: Option<f64>,
    /// R² (log space) of the form with E.
    r2_log_with_e: Option<f64>,
    /// `(E − H) / H`, against the source's entropy rate H.
    e_vs_entropy: Option<f64>,
    /// Kaplan et al. 2020's exponent (eqs. 1.1 and 1.2).
    published: f64,
}

/// Lab 1's numbers.
#[derive(Debug, Serialize)]
struct Lab1 {
    kaplan: Vec<KaplanRow>,
}

fn kaplan_rows(fit: &FitReport, nonemb: Option<&FitReport>, entropy: Option<f64>) -> Lab1 {
    let fitted = |f: &FormFit<PowerLaw>| match f {
        FormFit::Fitted(p) => Some(p.clone()),
        FormFit::Skipped { .. } => None,
    };
    let mut kaplan = Vec::new();
    for (params, report) in [("total", Some(fit)), ("non-embedding", nonemb)] {
        let Some(report) = report else { continue };
        let k = &report.kaplan;
        for (law, pair, published) in [("L(N)", &k.l_n, 0.076), ("L(D)", &k.l_d, 0.095)] {
            let (without, with) = (fitted(&pair.without_e), fitted(&pair.with_e));
            kaplan.push(KaplanRow {
                law,
                params,
                alpha_without_e: without.map(|p| p.alpha),
                alpha_with_e: with.as_ref().map(|p| p.alpha),
                e: with.as_ref().map(|p| p.e),
                e_vs_entropy: with.as_ref().zip(entropy).map(|(p, h)| (p.e - h) / h),
                r2_log_with_e: with.map(|p| p.r2_log),
                published,
            });
        }
    }
    Lab1 { kaplan }
}

/// Lab 1: the Kaplan exponents against the paper's.
fn kaplan_lines(lab: &Lab1) -> String {
    let mut out = String::new();
    line(
        &mut out,
        "Kaplan's forms (L = (x_c/x)^α without E; L = E + (x_c/x)^α with E):",
    );
    let num = |v: Option<f64>| v.map_or("not fitted".into(), |v| format!("{v:.3}"));
    for r in &lab.kaplan {
        line(
            &mut out,
            format!(
                "  {} with N {:<13}: α = {} without E, {} with E (E = {}); Kaplan et al.: {}",
                r.law,
                r.params,
                num(r.alpha_without_e),
                num(r.alpha_with_e),
                num(r.e),
                r.published
            ),
        );
    }
    out
}

/// One IsoFLOP budget's minimum.
#[derive(Debug, Serialize)]
struct Minimum {
    #[serde(rename = "C")]
    c: f64,
    n_opt: Option<f64>,
    d_opt: Option<f64>,
    /// `D_opt / N_opt`.
    ratio: Option<f64>,
    loss_min: Option<f64>,
    /// Whether the minimum lies inside the sampled sizes (the profile is a U).
    inside: bool,
    warnings: Vec<String>,
}

/// Lab 2's numbers: each budget's minimum, and approach 2's exponents.
#[derive(Debug, Serialize)]
struct Lab2 {
    minima: Vec<Minimum>,
    /// Budgets whose minimum lies inside the sampled sizes.
    u_shaped: usize,
    a: Option<f64>,
    b: Option<f64>,
    a_ci80: Option<[f64; 2]>,
    skipped: Option<String>,
}

fn isoflop_minima(fit: &FitReport) -> Lab2 {
    let profiles = fit
        .approach2
        .as_ref()
        .map_or(&[][..], |a2| &a2.fit.profiles[..]);
    let minima: Vec<Minimum> = profiles
        .iter()
        .map(|p| Minimum {
            c: p.c,
            n_opt: p.n_opt,
            d_opt: p.d_opt,
            ratio: p.n_opt.zip(p.d_opt).map(|(n, d)| d / n),
            loss_min: p.loss_min,
            inside: p
                .n_opt
                .is_some_and(|n| p.n_range[0] <= n && n <= p.n_range[1]),
            warnings: p.warnings.clone(),
        })
        .collect();
    Lab2 {
        u_shaped: minima.iter().filter(|m| m.inside).count(),
        minima,
        a: fit.approach2.as_ref().map(|a2| a2.fit.a),
        b: fit.approach2.as_ref().map(|a2| a2.fit.b),
        a_ci80: fit
            .approach2
            .as_ref()
            .and_then(|a2| a2.intervals.ci80.get("a").copied()),
        skipped: fit.approach2_skipped.clone(),
    }
}

/// Lab 2: each IsoFLOP minimum and approach 2's exponents.
fn isoflop_lines(fit: &FitReport, lab: &Lab2) -> String {
    let mut out = String::new();
    if let Some(why) = &lab.skipped {
        line(&mut out, format!("approach 2 did not run: {why}"));
        return out;
    }
    line(&mut out, "IsoFLOP minima (parabolas in ln N):");
    for m in &lab.minima {
        match (m.n_opt, m.d_opt, m.ratio) {
            (Some(n), Some(d), Some(r)) => line(
                &mut out,
                format!(
                    "  C = {:.2e}: N_opt = {n:.3e}, D_opt = {d:.3e}, D/N = {r:.1}{}",
                    m.c,
                    if m.inside {
                        String::new()
                    } else {
                        format!(" ({})", m.warnings.join("; "))
                    }
                ),
            ),
            _ => line(
                &mut out,
                format!("  C = {:.2e}: no minimum ({})", m.c, m.warnings.join("; ")),
            ),
        }
    }
    if let (Some(a), Some(b)) = (lab.a, lab.b) {
        line(
            &mut out,
            format!(
                "N_opt ∝ C^a: a = {a:.3} ({}); D_opt ∝ C^b: b = {b:.3}; Chinchilla: a ≈ b ≈ 0.5",
                lab.a_ci80.map_or("no interval".into(), |c| format!(
                    "80% [{:.3}, {:.3}]",
                    c[0], c[1]
                ))
            ),
        );
    }
    if let Some(t) = fit.tokens_per_param.last() {
        line(
            &mut out,
            format!(
                "approach 3 at C = {:.2e}: D*/N* = {:.1} ({}); Chinchilla: about 20",
                t.c,
                t.ratio,
                ci80(t.ratio_spread, 1)
            ),
        );
    }
    out
}

/// Lab 3: what approach 3 predicts for the target, before it trains.
fn predicted_lines(fit: &FitReport) -> String {
    let mut out = String::new();
    for p in &fit.predictions {
        line(
            &mut out,
            format!(
                "prediction before training the target (N = {:.3e}, D = {:.3e}): loss {:.4}, {}",
                p.n,
                p.d,
                p.loss,
                ci80(p.loss_spread, 4)
            ),
        );
    }
    out
}

/// Lab 3's numbers: the target run, predicted and trained.
#[derive(Debug, Serialize)]
struct PredictionCheck {
    /// The target run's id.
    run: String,
    #[serde(rename = "N")]
    n: f64,
    #[serde(rename = "D")]
    d: f64,
    /// `C = 6·N·D` of the target over the largest budget of the ladder.
    compute_over_ladder: f64,
    predicted: f64,
    ci80: Option<[f64; 2]>,
    ci95: Option<[f64; 2]>,
    observed: f64,
    /// `(observed − predicted) / observed`.
    rel_error: f64,
    inside_ci80: Option<bool>,
    inside_ci95: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Lab3 {
    target: Vec<PredictionCheck>,
}

/// Trains lab 3's target runs into `out/target` and sets them against the prediction.
fn train_target(
    target: &Plan,
    fit: &FitReport,
    out: &Path,
    args: &LabRunArgs,
) -> Result<Lab3, Failure> {
    let dir = out.join("target");
    train_plan(target, &dir, args.device, args.jobs, true)?;
    let runs = read_runs(&dir.join("sweep.h5")).input()?;
    let top = fit.tokens_per_param.last().map_or(f64::NAN, |t| t.c);
    let mut checks = Vec::new();
    for (planned, p) in target.runs.iter().zip(&fit.predictions) {
        let observed = runs
            .iter()
            .find(|r| r.id == planned.id)
            .and_then(|r| r.final_val_loss())
            .ok_or_else(|| {
                anyhow!(
                    "{}: the target run {} has no loss",
                    dir.display(),
                    planned.id
                )
            })
            .runtime()?;
        let inside = |ci: [f64; 2]| ci[0] <= observed && observed <= ci[1];
        checks.push(PredictionCheck {
            run: planned.id.clone(),
            n: p.n,
            d: p.d,
            compute_over_ladder: p.c / top,
            predicted: p.loss,
            ci80: p.loss_spread.map(|s| s.ci80),
            ci95: p.loss_spread.map(|s| s.ci95),
            observed,
            rel_error: (observed - p.loss) / observed,
            inside_ci80: p.loss_spread.map(|s| inside(s.ci80)),
            inside_ci95: p.loss_spread.map(|s| inside(s.ci95)),
        });
    }
    Ok(Lab3 { target: checks })
}

fn prediction_lines(lab: &Lab3) -> String {
    let mut out = String::new();
    for t in &lab.target {
        let inside = |v: Option<bool>| match v {
            Some(true) => "inside",
            Some(false) => "outside",
            None => "no interval for",
        };
        line(
            &mut out,
            format!(
                "target {} ({:.0}x the ladder's top budget): predicted {:.4}, trained {:.4} \
                 ({:+.2}%), {} the 80% interval, {} the 95% interval",
                t.run,
                t.compute_over_ladder,
                t.predicted,
                t.observed,
                100.0 * t.rel_error,
                inside(t.inside_ci80),
                inside(t.inside_ci95)
            ),
        );
    }
    out
}

/// One inference-sizing scenario: the cheapest model for `loss` when it will serve
/// `tokens_served` tokens, against Chinchilla's compute-optimal model of the same loss.
#[derive(Debug, Serialize)]
struct Scenario {
    law: String,
    loss: f64,
    tokens_served: f64,
    inference_optimal: Allocation,
    inference_optimal_ratio: f64,
    chinchilla: Allocation,
    chinchilla_ratio: f64,
    /// `N_chinchilla / N_inference`.
    smaller_by: f64,
    /// `(total FLOPs, inference-optimal) / (total FLOPs, Chinchilla) − 1`.
    total_cost_change: f64,
    /// The share of Chinchilla's total FLOPs that the inference-aware model saves
    /// (`−total_cost_change`).
    saving: f64,
}

/// Llama 3 8B under Chinchilla's law.
#[derive(Debug, Serialize)]
struct Llama {
    #[serde(rename = "N")]
    n: f64,
    #[serde(rename = "D")]
    d: f64,
    ratio: f64,
    /// The loss Chinchilla's law predicts for it.
    loss: f64,
    /// The Chinchilla-optimal model of that loss.
    chinchilla: Allocation,
    chinchilla_ratio: f64,
    /// Lifetime tokens served for which Llama 3 8B is the cheapest way to its loss.
    tokens_served_for_optimum: f64,
    /// Those tokens over its training tokens.
    served_over_trained: f64,
}

#[derive(Debug, Serialize)]
struct Lab4 {
    scenarios: Vec<Scenario>,
    llama3_8b: Llama,
}

fn scenario(law: &ChinchillaLaw, name: &str, loss: f64, t: f64) -> Result<Scenario, Failure> {
    let unreachable = || {
        Failure::Runtime(anyhow!(
            "the {name} law cannot reach loss {loss:.4} (its E is {:.4})",
            law.e
        ))
    };
    let best = optimum_for_loss(law, loss, t).ok_or_else(unreachable)?;
    let chin = chinchilla_for_loss(law, loss, t).ok_or_else(unreachable)?;
    Ok(Scenario {
        law: name.into(),
        loss,
        tokens_served: t,
        inference_optimal: best,
        inference_optimal_ratio: best.d / best.n,
        chinchilla: chin,
        chinchilla_ratio: chin.d / chin.n,
        smaller_by: chin.n / best.n,
        total_cost_change: best.total_flops() / chin.total_flops() - 1.0,
        saving: 1.0 - best.total_flops() / chin.total_flops(),
    })
}

/// Lab 4's numbers: the fitted law's optimum at its largest budget serving 0, 1, 10 and
/// 100 times its training tokens, and Chinchilla's law at Llama 3 8B's loss.
fn inference_sizing(fit: &FitReport) -> Result<Lab4, Failure> {
    let fitted = fit.approach3.law;
    let top = fit
        .tokens_per_param
        .last()
        .ok_or_else(|| anyhow!("the fit has no budget"))
        .runtime()?;
    let mut scenarios = Vec::new();
    for multiple in [0.0, 1.0, 10.0, 100.0] {
        scenarios.push(scenario(&fitted, "fitted", top.loss, multiple * top.d_opt)?);
    }
    let chinchilla = preset("chinchilla")
        .ok_or_else(|| anyhow!("no chinchilla preset"))
        .runtime()?
        .law;
    let (_, n, d, _) = MODELS
        .iter()
        .find(|m| m.0 == "Llama 3 8B")
        .copied()
        .ok_or_else(|| anyhow!("no Llama 3 8B in the model table"))
        .runtime()?;
    let loss = chinchilla.loss(n, d);
    let chin = chinchilla_for_loss(&chinchilla, loss, 0.0)
        .ok_or_else(|| anyhow!("Chinchilla's law cannot reach {loss}"))
        .runtime()?;
    let served = served_tokens_for_optimum(&chinchilla, loss, n)
        .ok_or_else(|| anyhow!("Llama 3 8B is not below Chinchilla's size for its loss"))
        .runtime()?;
    for t in [1e12, 2e13, served] {
        scenarios.push(scenario(&chinchilla, "chinchilla", loss, t)?);
    }
    Ok(Lab4 {
        scenarios,
        llama3_8b: Llama {
            n,
            d,
            ratio: d / n,
            loss,
            chinchilla: chin,
            chinchilla_ratio: chin.d / chin.n,
            tokens_served_for_optimum: served,
            served_over_trained: served / d,
        },
    })
}

fn inference_lines(lab: &Lab4) -> String {
    let mut out = String::new();
    line(
        &mut out,
        "inference-aware sizing (Sardana et al. 2024): the cheapest model for a loss that \
         will serve T tokens",
    );
    for s in &lab.scenarios {
        line(
            &mut out,
            format!(
                "  {:<10} loss {:.4}, T = {:.2e}: N = {:.3e} (D/N {:.0}) vs Chinchilla's {:.3e} \
                 (D/N {:.0}); {:.2}x smaller, total cost {:+.1}%",
                s.law,
                s.loss,
                s.tokens_served,
                s.inference_optimal.n,
                s.inference_optimal_ratio,
                s.chinchilla.n,
                s.chinchilla_ratio,
                s.smaller_by,
                100.0 * s.total_cost_change
            ),
        );
    }
    let l = &lab.llama3_8b;
    line(
        &mut out,
        format!(
            "Llama 3 8B: {:.0} tokens per parameter; Chinchilla's law gives it loss {:.4}, which \
             a Chinchilla-optimal {:.3e}-parameter model reaches on {:.3e} tokens; 8B is the \
             cheapest way there if it serves {:.2e} tokens ({:.1}x its training tokens)",
            l.ratio,
            l.loss,
            l.chinchilla.n,
            l.chinchilla.d,
            l.tokens_served_for_optimum,
            l.served_over_trained
        ),
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_built_in_config_plans() {
        for lab in &LABS {
            let mut configs = lab.configs.to_vec();
            if let Extra::Predict(targets) = lab.extra {
                configs.extend(targets);
            }
            for config in configs {
                let plan = plan_of(config, None).unwrap();
                assert!(!plan.runs.is_empty(), "{}", config.path);
                let reseeded = plan_of(config, Some(7)).unwrap();
                assert!(reseeded.name.ends_with("-seed7"), "{}", config.path);
                assert_eq!(reseeded.runs.len(), plan.runs.len(), "{}", config.path);
            }
        }
    }

    #[test]
    fn with_seed_replaces_the_top_level_keys_only() {
        let text = "# a comment\nname = \"x\"\nseed = 0\n\n[data]\nseed = 3\n";
        let out = with_seed(text, 2).unwrap();
        assert_eq!(
            out,
            "# a comment\nname = \"x-seed2\"\nseed = 2\n\n[data]\nseed = 3\n"
        );
        assert!(with_seed("name = \"x\"\n[data]\nseed = 1\n", 2).is_err());
    }

    #[test]
    fn an_unknown_lab_is_bad_input() {
        assert!(matches!(find_lab(9), Err(Failure::Input(_))));
    }
}
