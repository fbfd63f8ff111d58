//! `ladder run CONFIG [--out DIR] [--jobs J] [--device cpu|cuda|cuda:N]`, and the
//! training with progress display that `run`, `tune` and `lab run` share.

use std::path::{Path, PathBuf};

use ladder_lab::{load_plan_in, LabError, Results, Session, TrainOptions};
use ladder_sweep::{claim_dir, DeviceChoice, Plan, SweepOutcome};

use crate::exit::{emit, Failure};
use crate::fit::{fit_and_print, warn_left_out, FitOptions};
use crate::progress::Progress;

/// Arguments of `ladder run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Sweep config (TOML).
    pub config: PathBuf,
    /// Output directory (default: results/<sweep name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs trained in parallel (default: one single-threaded run per core on the CPU,
    /// one run per GPU with CUDA; more than the GPUs puts several runs on each, side by
    /// side, for small models whose steps wait on kernel launches). With --only: how many
    /// such processes share this machine, so that this one takes its share of the cores
    /// and trains its unit as `ladder run --jobs J` would.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where to train: cpu, cuda (every visible GPU, one run each) or cuda:N. CUDA needs
    /// a build with `--features cuda`.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Train one unit only: its index (a Slurm array task id), its name, or one of its
    /// runs' ids; a unit is a run, or with WSD branching every run of one model.
    /// sweep.h5 is left to `ladder merge DIR`, so that many such processes can share DIR.
    /// Its one job gets every core unless --jobs says how many processes share them.
    #[arg(long)]
    pub only: Option<String>,
    /// Start no unit after this many minutes: units in progress finish, finished runs are
    /// merged, and the same command later resumes with the rest (a lab slot, a time
    /// limit). The sweep is fitted only once every run has trained.
    #[arg(long, value_name = "MINUTES", allow_negative_numbers = true)]
    pub stop_after: Option<f64>,
    /// Start only units expected to end within this many minutes (a Slurm time limit, a
    /// lab slot): the shapes left are timed first, as `ladder plan` times them, and a
    /// longer unit is passed over for shorter ones that fit; estimates grow by as much
    /// as the units already trained ran over theirs. The same command later resumes
    /// with the rest.
    #[arg(long, value_name = "MINUTES", allow_negative_numbers = true)]
    pub finish_within: Option<f64>,
    /// How the sweep is fitted when it finishes.
    #[command(flatten)]
    pub fit: FitOptions,
}

/// Trains every unfinished run of `plan` into `out` as `options` ask, with a progress
/// display; shared by `run`, `tune` and `lab run`.
pub(crate) fn train_plan(
    plan: &Plan,
    out: &Path,
    options: TrainOptions,
) -> Result<SweepOutcome, LabError> {
    let timed = options.finish_within.is_some();
    let session = Session::new(plan, out, options)?;
    for w in &session.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "sweep {}: {} runs, {} to train, {} jobs, output {}",
        plan.name,
        plan.runs.len(),
        session.pending.len(),
        session.devices.len(),
        out.display()
    );
    if timed {
        eprintln!("timing the shapes left, to start only units that end in time...");
    }
    let progress = Progress::new(&session.pending);
    let outcome = session.run(out, &|run| progress.observer(run))?;
    progress.finish();
    for b in &outcome.busy {
        eprintln!("warning: skipped: {b}");
    }
    // How the estimates behind `--finish-within` compared with the units' times, so
    // that the next limit can be chosen from measured times.
    for t in &outcome.timed {
        eprintln!(
            "unit {}: estimated {:.1} min, took {:.1} min ({:.2}x)",
            t.unit,
            t.estimated.as_secs_f64() / 60.0,
            t.took.as_secs_f64() / 60.0,
            t.took.as_secs_f64() / t.estimated.as_secs_f64()
        );
    }
    if let Some((unit, wait)) = &outcome.shortest_left {
        eprintln!(
            "shortest unit left: {unit}, expected to take {:.1} min",
            wait.as_secs_f64() / 60.0
        );
    }
    Ok(outcome)
}

/// `--only`: trains one unit of the plan and leaves the merge to `ladder merge`.
fn run_one_unit(args: &RunArgs, plan: Plan, out: &Path, selector: &str) -> Result<(), Failure> {
    // The whole plan claims the directory, so that units.tsv lists every unit.
    claim_dir(&plan, out).map_err(LabError::from)?;
    let plan = plan.only(selector).map_err(|e| Failure::Input(e.into()))?;
    // One unit is one job: it gets every core (or its one GPU), or with `--jobs J` its
    // share of them, as J such processes side by side, or `ladder run --jobs J`, give.
    let options = TrainOptions {
        device: args.device,
        jobs: Some(1),
        merge: false,
        stop_after: minutes("--stop-after", args.stop_after)?,
        finish_within: minutes("--finish-within", args.finish_within)?,
        jobs_sharing_cores: args.jobs,
    };
    let outcome = train_plan(&plan, out, options)?;
    let ids: Vec<&str> = plan.runs.iter().map(|r| r.id.as_str()).collect();
    if outcome.left > 0 {
        let why = match (args.finish_within, &outcome.shortest_left) {
            (Some(m), Some((_, wait))) => format!(
                "expected to take {:.1} min, not to end within {m} min",
                wait.as_secs_f64() / 60.0
            ),
            (Some(m), None) => format!("not expected to end within {m} min"),
            (None, _) => format!("--stop-after {} min", args.stop_after.unwrap_or_default()),
        };
        return emit(&format!(
            "did not start unit {selector} ({} runs left): {why}; run it when more time is \
             left\n",
            outcome.left,
        ));
    }
    emit(&format!(
        "trained {} runs, skipped {} finished ({}); merge with `ladder merge {}`\n",
        outcome.trained,
        outcome.skipped,
        ids.join(", "),
        out.display()
    ))
}

/// A number of minutes given to `flag` (`--stop-after`, `--finish-within`), checked, as
/// a duration.
fn minutes(flag: &str, value: Option<f64>) -> Result<Option<std::time::Duration>, Failure> {
    value
        .map(|minutes| {
            std::time::Duration::try_from_secs_f64(minutes * 60.0).map_err(|_| {
                LabError::Input(format!(
                    "{flag} {minutes}: give a number of minutes ≥ 0 (the time after which \
                     no unit starts, or within which every unit started must end)"
                ))
                .into()
            })
        })
        .transpose()
}

/// The `name` of the config at `path` (which names its default output directory).
fn sweep_name(path: &std::path::Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LabError::Input(format!("cannot read config {}: {e}", path.display())))?;
    Ok(ladder_sweep::SweepConfig::parse(&text, path)
        .map_err(LabError::from)?
        .name)
}

pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let name = sweep_name(&args.config)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&name));
    let (plan, search) = load_plan_in(&args.config, Some(&out), args.device, &mut |step| {
        eprintln!("{step}...")
    })?;
    if let Some(search) = search {
        eprint!("{search}");
    }
    if let Some(selector) = &args.only {
        return run_one_unit(args, plan, &out, selector);
    }
    let options = TrainOptions {
        device: args.device,
        jobs: args.jobs,
        merge: true,
        stop_after: minutes("--stop-after", args.stop_after)?,
        finish_within: minutes("--finish-within", args.finish_within)?,
        jobs_sharing_cores: None,
    };
    let outcome = train_plan(&plan, &out, options)?;
    if outcome.left > 0 {
        let limit = match (args.stop_after, args.finish_within) {
            (Some(m), None) => format!("stopped starting units after {m} min"),
            (None, Some(m)) => format!("started only units expected to end within {m} min"),
            (Some(s), Some(f)) => {
                format!("started only units expected to end within {f} min, none after {s} min")
            }
            (None, None) => "stopped starting units".into(),
        };
        return emit(&format!(
            "{limit}: trained {} runs, skipped {} finished, {} left; rerun the same command \
             to train them (the fit waits for every run)\n",
            outcome.trained, outcome.skipped, outcome.left,
        ));
    }
    let results = Results::open(&out)?;
    emit(&format!(
        "trained {} runs, skipped {} finished; {} runs in {}\n",
        outcome.trained,
        outcome.skipped,
        outcome.in_sweep,
        results.sweep_h5.display()
    ))?;
    let input = results.fit_input(&args.fit.options(true))?;
    let fit = args.fit.for_input(true, &input);
    warn_left_out(&input);
    let points = input.data.points.len();
    if points >= 5 {
        emit("\n")?;
        fit_and_print(&input, &fit, &results.sweep_h5, Some(&out.join("fit.json")))?;
        Ok(())
    } else {
        emit(&format!(
            "no fit: the 5-parameter law needs at least 5 finished runs, this sweep has {points}\n"
        ))
    }
}
