//! One lab from start to end: train its sweep, fit it (and under the non-embedding
//! convention when the lab asks), write its report, compute its own numbers (lab 3
//! trains its target first) and write `lab.json`.

use std::path::{Path, PathBuf};

use ladder_core::ParamCount;
use ladder_fit::FitReport;
use ladder_store::read_runs;
use ladder_sweep::Plan;
use serde::Serialize;

use super::inference::Lab4;
use super::isoflop::Lab2;
use super::kaplan::Lab1;
use super::predict::{predicted_text, targets, Lab3};
use super::{line, Extra, Lab, Size};
use crate::{write_json, FitOptions, LabError, Results};

/// What runs a lab on behalf of the pipeline: the command line trains with progress
/// bars and prints to the terminal; a test trains quietly and keeps the text.
pub trait Host {
    /// Trains every unfinished run of `plan` into `dir` and merges its sweep.h5.
    fn train(&mut self, plan: &Plan, dir: &Path) -> Result<(), LabError>;
    /// Shows a line while the lab runs (the prediction made before the target trains).
    fn print(&mut self, text: &str);
    /// Shows a note on the side (which lab, the runs a fit leaves out).
    fn note(&mut self, text: &str);
}

/// One lab to run.
#[derive(Debug, Clone)]
pub struct LabRun {
    /// Which lab.
    pub lab: &'static Lab,
    /// At which size.
    pub size: Size,
    /// With this seed instead of the config's.
    pub seed: Option<u64>,
    /// Where its results go.
    pub out: PathBuf,
    /// Bootstrap resamples of the fits.
    pub bootstrap: usize,
}

impl LabRun {
    /// Lab `lab` at `size`, into `out` (default `results/lab<N>-<size>[-seed<S>]`) with
    /// `bootstrap` resamples (default 1000; 100 at the smoke size).
    pub fn new(
        lab: &'static Lab,
        size: Size,
        seed: Option<u64>,
        out: Option<PathBuf>,
        bootstrap: Option<usize>,
    ) -> Self {
        let out = out.unwrap_or_else(|| {
            let seed = seed.map(|s| format!("-seed{s}")).unwrap_or_default();
            PathBuf::from("results").join(format!("lab{}-{}{seed}", lab.number, size.name()))
        });
        let bootstrap = bootstrap.unwrap_or(if size == Size::Smoke { 100 } else { 1000 });
        Self {
            lab,
            size,
            seed,
            out,
            bootstrap,
        }
    }
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

/// The lab's fits: total parameters, and non-embedding when the lab asks for it.
struct Fits {
    total: FitReport,
    nonemb: Option<FitReport>,
}

/// Runs `run` on `host` and returns the summary to print: where the fits, the numbers,
/// the report and the guide are.
pub fn run_lab(run: &LabRun, host: &mut dyn Host) -> Result<String, LabError> {
    let lab = run.lab;
    let config = lab.config(run.size);
    let plan = config.plan(run.seed)?;
    host.note(&format!(
        "lab {}: {} ({})",
        lab.number, lab.title, config.path
    ));
    host.train(&plan, &run.out)?;
    let target = match lab.extra {
        Extra::Predict(_) => Some(lab.target(run.size)?.plan(run.seed)?),
        _ => None,
    };
    let results = Results::open(&run.out)?;
    let mut summary = String::new();
    line(&mut summary, format!("lab {}: {}", lab.number, lab.title));
    let options = FitOptions {
        bootstrap: run.bootstrap,
        predict: target.as_ref().map(targets).unwrap_or_default(),
        ..FitOptions::default()
    };
    let fits = fit(lab, &results, &options, &run.out, &mut summary, host)?;
    let input = results.fit_input(&options)?;
    let written = results.write_report(&input, &fits.total, &options, &run.out.join("report"))?;
    line(&mut summary, String::new());
    let numbers = numbers(lab, &plan, target.as_ref(), &fits, run, host, &mut summary)?;
    let lab_json = run.out.join("lab.json");
    write_json(
        &lab_json,
        &LabJson {
            lab: lab.number,
            sweep: plan.name.clone(),
            config: config.path,
            entropy_rate: plan.source.entropy_rate(),
            numbers,
        },
    )?;
    line(
        &mut summary,
        format!("the lab's numbers: {}", lab_json.display()),
    );
    line(&mut summary, String::new());
    line(
        &mut summary,
        format!(
            "report: {} files in {}",
            written.files.len(),
            run.out.join("report").display()
        ),
    );
    line(&mut summary, format!("open {}", written.index.display()));
    line(&mut summary, format!("the lab's guide: {}", lab.doc));
    Ok(summary)
}

/// Fits the lab's sweep (`fit.json`, and `fit-nonemb.json` when the lab asks for it).
fn fit(
    lab: &Lab,
    results: &Results,
    options: &FitOptions,
    out: &Path,
    summary: &mut String,
    host: &mut dyn Host,
) -> Result<Fits, LabError> {
    let fit_as = |options: &FitOptions, file: &str, host: &mut dyn Host| {
        let input = results.fit_input(options)?;
        for why in &input.left_out {
            host.note(&format!("warning: {why}"));
        }
        let fit = crate::fit(&input.data, options, &results.sweep_h5)?;
        write_json(&out.join(file), &fit)?;
        Ok::<_, LabError>(fit)
    };
    let total = fit_as(options, "fit.json", host)?;
    line(
        summary,
        format!("fit (total parameters): {}", out.join("fit.json").display()),
    );
    let nonemb = if lab.non_embedding {
        let options = FitOptions {
            params: ParamCount::NonEmbedding,
            predict: Vec::new(),
            ..options.clone()
        };
        let fit = fit_as(&options, "fit-nonemb.json", host)?;
        line(
            summary,
            format!(
                "fit (non-embedding parameters): {}",
                out.join("fit-nonemb.json").display()
            ),
        );
        Some(fit)
    } else {
        None
    };
    Ok(Fits { total, nonemb })
}

/// The lab's own numbers, as lab.json holds them; their text goes to `summary`.
fn numbers(
    lab: &Lab,
    plan: &Plan,
    target: Option<&Plan>,
    fits: &Fits,
    run: &LabRun,
    host: &mut dyn Host,
    summary: &mut String,
) -> Result<serde_json::Value, LabError> {
    let fit = &fits.total;
    let value = match (lab.extra, target) {
        (Extra::Predict(_), Some(target)) => {
            host.print(&predicted_text(fit));
            let dir = run.out.join("target");
            host.train(target, &dir)?;
            let lab3 = Lab3::new(target, &read_runs(&dir.join("sweep.h5"))?, fit)?;
            summary.push_str(&lab3.text());
            serde_json::to_value(lab3)
        }
        (Extra::Inference, _) => {
            let lab4 = Lab4::new(fit)?;
            summary.push_str(&lab4.text());
            serde_json::to_value(lab4)
        }
        (Extra::Kaplan, _) => {
            let lab1 = Lab1::new(fit, fits.nonemb.as_ref(), plan.source.entropy_rate());
            summary.push_str(&lab1.text());
            serde_json::to_value(lab1)
        }
        // A lab without a target run fits and reports as the IsoFLOP lab does.
        (Extra::IsoFlop | Extra::Predict(_), _) => {
            let lab2 = Lab2::new(fit);
            summary.push_str(&lab2.text(fit));
            serde_json::to_value(lab2)
        }
    };
    value.map_err(|e| LabError::Runtime(format!("lab.json: {e}")))
}
