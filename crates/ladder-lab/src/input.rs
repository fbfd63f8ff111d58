//! A sweep's results as the fit's input: every finished run's N (under the chosen
//! parameter count), D, final loss, budget label and curve; or the rows of a CSV.

use std::path::Path;

use ladder_core::{BudgetRule, FlopCount, ParamCount};
use ladder_fit::{CsvOptions, Curve, Dataset, Point, Points, TokenUnit};
use ladder_store::{read_runs, RunRecord, Status};

use crate::{FitOptions, LabError};

/// The fit's data, and the runs that were left out of it (diverged or unfinished).
#[derive(Debug, Clone)]
pub struct FitInput {
    /// The points, their budgets, labels and curves.
    pub data: Dataset,
    /// One line per run left out, saying why.
    pub left_out: Vec<String>,
    /// Each point's seed, when the input records it (a sweep file does).
    pub seeds: Option<Vec<u64>>,
}

/// The fit's input from the runs of the sweep file `path`, already read: N under
/// `params`, and each run's budget under `flops` (an IsoFLOP run's planned budget when
/// its plan counted FLOPs the same way).
pub fn fit_input(
    runs: &[RunRecord],
    path: &Path,
    params: ParamCount,
    flops: FlopCount,
) -> Result<FitInput, LabError> {
    let rule = BudgetRule::new(flops, params);
    let left_out = runs
        .iter()
        .filter(|r| !r.is_finished())
        .map(|run| {
            format!(
                "{}: run {} is left out of the fit: status {}{}",
                path.display(),
                run.id,
                run.status.name(),
                match run.status {
                    Status::Diverged { step } => format!(" at step {step}"),
                    _ => String::new(),
                }
            )
        })
        .collect();
    let (mut points, mut budgets, mut labels, mut curves) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut planned = Vec::new();
    // A run's family: its model's N and its seed (a model's runs of one seed share their
    // initial weights, data order and, under WSD branching, their stable phase).
    let mut family_keys: Vec<(f64, u64)> = Vec::new();
    let mut seeds = Vec::new();
    for run in runs.iter().filter(|r| r.is_finished()) {
        let m = &run.meta;
        let n = m.n(params) as f64;
        let loss = run.final_val_loss().ok_or_else(|| LabError::Format {
            path: path.to_path_buf(),
            message: format!("run {} has no evaluation", run.id),
        })?;
        points.push(Point {
            n,
            d: m.d as f64,
            loss,
        });
        // An IsoFLOP run's planned budget labels it exactly (its D is rounded to whole
        // steps, so its own C is off by up to half a step), when the fit counts C as the
        // plan did.
        budgets.push(match m.c_budget {
            Some(c) if m.budget_rule == Some(rule) => c,
            _ => m.compute(rule),
        });
        planned.push(m.c_budget);
        family_keys.push((n, m.seed));
        seeds.push(m.seed);
        labels.push(run.id.clone());
        curves.push(Curve {
            run: run.id.clone(),
            n,
            tokens: run.curves.tokens.clone(),
            loss: run.curves.val_loss.clone(),
            seed: m.seed,
            warmup_tokens: (m.warmup_steps * m.batch_size * m.context) as f64,
            decay_tokens: (m.decay_start_step * m.batch_size * m.context) as f64,
        });
    }
    let points = Points::new(points).map_err(|source| LabError::Fit {
        what: path.display().to_string(),
        source,
    })?;
    Ok(FitInput {
        data: Dataset {
            points,
            budgets,
            budgets_given: false,
            // Every run of an IsoFLOP plan has its planned budget.
            planned: planned.into_iter().collect(),
            entropy_rate: runs.first().and_then(|r| r.meta.entropy_rate),
            unit: match runs.first().map(|r| r.meta.tokenizer.as_str()) {
                Some("byte") => TokenUnit::Bytes,
                _ => TokenUnit::Tokens,
            },
            runs: labels,
            families: ladder_fit::family_ids(family_keys),
            curves,
        },
        left_out,
        seeds: Some(seeds),
    })
}

/// Reads the fit's input from `input` by its extension: a sweep or run file (`.h5`)
/// written by `ladder run`, or a CSV of N, D and loss (see [`CsvOptions`]).
pub fn read_input(
    input: &Path,
    options: &FitOptions,
    csv: &CsvOptions,
) -> Result<FitInput, LabError> {
    match input.extension().and_then(|e| e.to_str()) {
        Some("h5") if *csv != CsvOptions::default() => Err(LabError::Input(format!(
            "{}: --column and --where apply to CSV input only",
            input.display()
        ))),
        Some("h5") => fit_input(&read_runs(input)?, input, options.params, options.flops),
        Some("csv") => {
            let text = std::fs::read_to_string(input).map_err(|source| LabError::Read {
                path: input.to_path_buf(),
                source,
            })?;
            let data = Dataset::from_csv_with(&text, &input.display().to_string(), csv)
                .map_err(LabError::Csv)?;
            Ok(FitInput {
                data,
                left_out: Vec::new(),
                seeds: None,
            })
        }
        _ => Err(LabError::Input(format!(
            "{}: unknown input type: give a .h5 written by `ladder run` or a .csv with columns \
             N,D,loss",
            input.display()
        ))),
    }
}
