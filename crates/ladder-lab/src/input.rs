//! A sweep's results as the fit's input: every finished run's N (under the chosen
//! parameter count), D, final loss, budget label and curve; or the rows of a CSV.

use std::path::{Path, PathBuf};

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
    /// The held-out factor k its sweep's config asks for (`[design] held_out`), when
    /// every run's config (every pooled sweep's) asks for the same one.
    pub held_out: Option<f64>,
}

/// The held-out factor k a sweep config's text asks for: its `[design] held_out`, the
/// factor its design was built to check at (the law fitted on the budgets up to
/// `C_max / k`). None when it has none, or the text does not parse.
pub fn held_out_factor(config: &str) -> Option<f64> {
    let table = config.parse::<toml::Table>().ok()?;
    let k = table.get("design")?.get("held_out")?;
    k.as_float()
        .or_else(|| k.as_integer().map(|i| i as f64))
        .filter(|k| k.is_finite() && *k > 1.0)
}

/// The one value every item gives, if they all give the same one (None for no items).
fn agreed(mut values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let first = values.next()??;
    values.all(|v| v == Some(first)).then_some(first)
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
        held_out: {
            let mut configs: Vec<&str> = runs.iter().map(|r| r.meta.config.as_str()).collect();
            configs.sort_unstable();
            configs.dedup();
            agreed(configs.into_iter().map(held_out_factor))
        },
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
                held_out: None,
            })
        }
        _ => Err(LabError::Input(format!(
            "{}: unknown input type: give a .h5 written by `ladder run` or a .csv with columns \
             N,D,loss",
            input.display()
        ))),
    }
}

/// Reads several inputs as one: each sweep file (`.h5`) as [`read_input`] reads it, then
/// their runs pooled ([`pool_inputs`]). One input is read as it is, CSV included.
pub fn read_inputs(
    inputs: &[PathBuf],
    options: &FitOptions,
    csv: &CsvOptions,
) -> Result<FitInput, LabError> {
    if let [one] = inputs {
        return read_input(one, options, csv);
    }
    if let Some(other) = inputs
        .iter()
        .find(|p| p.extension().is_none_or(|e| e != "h5"))
    {
        return Err(LabError::Input(format!(
            "{}: several inputs are pooled only as sweep files (.h5); pool CSVs into one file \
             first (scripts/pool_runs.py)",
            other.display()
        )));
    }
    // Before reading any of them: a sweep given twice is refused at once.
    given_once(inputs.iter().map(PathBuf::as_path))?;
    let mut parts = Vec::new();
    for path in inputs {
        parts.push((path.clone(), read_input(path, options, csv)?));
    }
    pool_inputs(parts)
}

/// An input error naming the first path that repeats an earlier one (the same file under
/// another name included).
fn given_once<'a>(paths: impl Iterator<Item = &'a Path>) -> Result<(), LabError> {
    let mut earlier: Vec<&Path> = Vec::new();
    for path in paths {
        if let Some(twice) = earlier.iter().find(|p| same_file(p, path)) {
            return Err(LabError::Input(format!(
                "{}: given twice (as {} too): each sweep counts once",
                path.display(),
                twice.display()
            )));
        }
        earlier.push(path);
    }
    Ok(())
}

/// The runs of several sweeps (draws of one design on other seeds, say) as one input.
/// Each run's label is prefixed with its sweep's directory name, since draws of one design
/// repeat run ids; a family stays within its sweep. The sweeps must measure the same
/// thing (the same token unit and entropy rate), each must be given once, and no seed may
/// be trained in two of them: those runs would share initial weights and data order, so
/// neither the families nor the seeds would be independent.
pub fn pool_inputs(parts: Vec<(PathBuf, FitInput)>) -> Result<FitInput, LabError> {
    let Some((first_path, first)) = parts.first() else {
        return Err(LabError::Input("no input to fit".into()));
    };
    given_once(parts.iter().map(|(p, _)| p.as_path()))?;
    let names = labels(&parts);
    let mut seen: Vec<(u64, &Path)> = Vec::new();
    for (path, input) in &parts {
        let (unit, rate) = (input.data.unit, input.data.entropy_rate);
        if unit != first.data.unit || rate != first.data.entropy_rate {
            return Err(LabError::Input(format!(
                "{}: measures another source than {} (D in {:?} with entropy rate {:?}, \
                 against {:?} and {:?}): only sweeps of one source pool",
                path.display(),
                first_path.display(),
                unit,
                rate,
                first.data.unit,
                first.data.entropy_rate
            )));
        }
        let mut own: Vec<u64> = input.seeds.clone().unwrap_or_default();
        own.sort_unstable();
        own.dedup();
        for seed in own {
            if let Some((_, other)) = seen.iter().find(|(s, _)| *s == seed) {
                return Err(LabError::Input(format!(
                    "{}: seed {seed} is trained in {} too: pooled runs must come from \
                     different seeds (their initial weights and data order would be shared)",
                    path.display(),
                    other.display()
                )));
            }
            seen.push((seed, path));
        }
    }
    let mut points = Vec::new();
    let (mut budgets, mut planned, mut runs, mut families, mut curves, mut left_out, mut seeds) =
        (vec![], Some(vec![]), vec![], vec![], vec![], vec![], vec![]);
    for (k, ((_, input), name)) in parts.iter().zip(&names).enumerate() {
        let data = &input.data;
        points.extend_from_slice(data.points.as_slice());
        budgets.extend_from_slice(&data.budgets);
        planned = planned.zip(data.planned.as_ref()).map(|(mut all, own)| {
            all.extend_from_slice(own);
            all
        });
        runs.extend(data.runs.iter().map(|r| format!("{name}/{r}")));
        families.extend(data.families.iter().map(|&f| (k, f)));
        curves.extend(data.curves.iter().map(|c| Curve {
            run: format!("{name}/{}", c.run),
            ..c.clone()
        }));
        left_out.extend(input.left_out.iter().cloned());
        seeds.extend(input.seeds.iter().flatten().copied());
    }
    let all_seeded = parts.iter().all(|(_, input)| input.seeds.is_some());
    Ok(FitInput {
        data: Dataset {
            points: Points::new(points).map_err(|source| LabError::Fit {
                what: first_path.display().to_string(),
                source,
            })?,
            budgets,
            budgets_given: first.data.budgets_given,
            planned,
            entropy_rate: first.data.entropy_rate,
            unit: first.data.unit,
            runs,
            families: ladder_fit::family_ids(families),
            curves,
        },
        left_out,
        seeds: all_seeded.then_some(seeds),
        held_out: agreed(parts.iter().map(|(_, input)| input.held_out)),
    })
}

/// Whether two paths name one file (by their canonical paths when both exist).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A short label per input: its directory's name, or its whole path where two would be
/// alike.
fn labels(parts: &[(PathBuf, FitInput)]) -> Vec<String> {
    let short: Vec<String> = parts
        .iter()
        .map(|(path, _)| {
            path.parent().and_then(|d| d.file_name()).map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            )
        })
        .collect();
    let mut unique = short.clone();
    unique.sort();
    unique.dedup();
    if unique.len() == short.len() {
        short
    } else {
        parts.iter().map(|(p, _)| p.display().to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sweep's input from `path`: four runs of `seed`, two sizes each a family.
    fn part(path: &str, seed: u64, unit: TokenUnit) -> (PathBuf, FitInput) {
        let points = Points::new(
            (0..4)
                .map(|i| Point {
                    n: 1e4 * (1 + i / 2) as f64,
                    d: 1e6 * (1 + i % 2) as f64,
                    loss: 3.0 - 0.1 * i as f64,
                })
                .collect(),
        )
        .unwrap();
        let mut data = Dataset::unlabelled(points);
        data.families = vec![0, 0, 1, 1];
        data.unit = unit;
        let seeds = Some(vec![seed; 4]);
        let input = FitInput {
            data,
            left_out: Vec::new(),
            seeds,
            held_out: Some(8.0),
        };
        (PathBuf::from(path), input)
    }

    #[test]
    fn a_config_names_its_held_out_factor() {
        let config = |design: &str| format!("name = \"x\"\n[train]\nsteps = 3\n{design}");
        assert_eq!(
            held_out_factor(&config("[design]\nheld_out = 8\n")),
            Some(8.0)
        );
        assert_eq!(
            held_out_factor(&config("[design]\nheld_out = 5.5\n")),
            Some(5.5)
        );
        assert_eq!(held_out_factor(&config("[design]\nminutes = 60\n")), None);
        assert_eq!(held_out_factor(&config("")), None);
        // A factor that names no held-out budget, or text that is not TOML.
        assert_eq!(held_out_factor(&config("[design]\nheld_out = 1\n")), None);
        assert_eq!(held_out_factor("[design\nheld_out = 8"), None);
    }

    #[test]
    fn pooled_sweeps_keep_a_held_out_factor_only_when_they_agree() {
        let one = || part("a/lab-one/sweep.h5", 1, TokenUnit::Bytes);
        let mut other = part("a/lab-two/sweep.h5", 2, TokenUnit::Bytes);
        assert_eq!(
            pool_inputs(vec![one(), other.clone()]).unwrap().held_out,
            Some(8.0)
        );
        other.1.held_out = Some(4.0);
        assert_eq!(
            pool_inputs(vec![one(), other.clone()]).unwrap().held_out,
            None
        );
        other.1.held_out = None;
        assert_eq!(pool_inputs(vec![one(), other]).unwrap().held_out, None);
    }

    #[test]
    fn pooled_sweeps_keep_their_families_and_label_their_runs() {
        let pooled = pool_inputs(vec![
            part("a/lab-one/sweep.h5", 1, TokenUnit::Bytes),
            part("a/lab-two/sweep.h5", 2, TokenUnit::Bytes),
        ])
        .unwrap();
        assert_eq!(pooled.data.points.len(), 8);
        assert_eq!(pooled.seeds, Some(vec![1, 1, 1, 1, 2, 2, 2, 2]));
        // Family 0 of each sweep stays its own family.
        assert_eq!(pooled.data.families, vec![0, 0, 1, 1, 2, 2, 3, 3]);
        assert_eq!(pooled.data.runs[0], "lab-one/1");
        assert_eq!(pooled.data.runs[4], "lab-two/1");
        // Two directories of one name: the whole paths label the runs.
        let alike = pool_inputs(vec![
            part("x/lab/sweep.h5", 1, TokenUnit::Bytes),
            part("y/lab/sweep.h5", 2, TokenUnit::Bytes),
        ])
        .unwrap();
        assert_eq!(alike.data.runs[4], "y/lab/sweep.h5/1");
    }

    #[test]
    fn sweeps_that_cannot_pool_are_input_errors() {
        let message = |parts| match pool_inputs(parts) {
            Err(LabError::Input(m)) => m,
            other => panic!("expected an input error, got {other:?}"),
        };
        let m = message(vec![
            part("a/one/sweep.h5", 3, TokenUnit::Bytes),
            part("a/two/sweep.h5", 3, TokenUnit::Bytes),
        ]);
        assert!(m.contains("seed 3") && m.contains("a/one/sweep.h5"), "{m}");
        let m = message(vec![
            part("a/one/sweep.h5", 1, TokenUnit::Bytes),
            part("a/two/sweep.h5", 2, TokenUnit::Tokens),
        ]);
        assert!(m.contains("another source"), "{m}");
        let m = message(vec![
            part("a/one/sweep.h5", 1, TokenUnit::Bytes),
            part("a/one/sweep.h5", 2, TokenUnit::Bytes),
        ]);
        assert!(m.contains("given twice"), "{m}");
    }

    /// A sweep given twice is refused before any input is read: these files do not exist,
    /// so reading first would have failed on the first one instead.
    #[test]
    fn a_sweep_given_twice_is_refused_before_reading() {
        let missing = PathBuf::from("no/such/dir/sweep.h5");
        let inputs = [missing.clone(), missing];
        let err = read_inputs(&inputs, &FitOptions::default(), &CsvOptions::default());
        match err {
            Err(LabError::Input(m)) => assert!(m.contains("given twice"), "{m}"),
            other => panic!("expected an input error, got {other:?}"),
        }
    }
}
