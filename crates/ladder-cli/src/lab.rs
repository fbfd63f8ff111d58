//! `ladder lab list | run N | config N`: the teaching labs of `docs/labs/`
//! (ladder-lab's `labs` module runs them).

use std::path::{Path, PathBuf};

use ladder_lab::labs::{find_lab, run_lab, Host, LabRun, Size, LABS};
use ladder_lab::{LabError, TrainOptions};
use ladder_sweep::{DeviceChoice, Plan};

use crate::exit::{emit, line, Failure};
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

pub(crate) fn lab(args: &LabArgs) -> Result<(), Failure> {
    match &args.command {
        LabCommand::List => list(),
        LabCommand::Run(run) => run_one(run),
        LabCommand::Config(args) => show_config(args),
    }
}

fn show_config(args: &LabConfigArgs) -> Result<(), Failure> {
    let LabChoice { number, size, seed } = args.lab;
    let lab = find_lab(number)?;
    let config = if args.target {
        lab.target(size)?
    } else {
        lab.config(size)
    };
    // Planned first, so that what is printed is a config `ladder run` accepts.
    config.plan(seed)?;
    emit(&config.text(seed)?)
}

fn list() -> Result<(), Failure> {
    let mut out = String::new();
    for lab in &LABS {
        line(&mut out, format!("lab {}: {}", lab.number, lab.title));
        line(&mut out, format!("  guide:   {}", lab.doc));
        for size in Size::ALL {
            line(
                &mut out,
                format!("  {:<6}   {}", size.name(), lab.config(size).path),
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

/// The terminal: trains with progress bars, prints to stdout, notes to stderr.
struct Terminal {
    device: DeviceChoice,
    jobs: Option<usize>,
}

impl Host for Terminal {
    fn train(&mut self, plan: &Plan, dir: &Path) -> Result<(), LabError> {
        let options = TrainOptions {
            device: self.device,
            jobs: self.jobs,
            merge: true,
            stop_after: None,
            finish_within: None,
            jobs_sharing_cores: None,
        };
        train_plan(plan, dir, options).map(drop)
    }

    fn print(&mut self, text: &str) {
        let _ = emit(text);
    }

    fn note(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

fn run_one(args: &LabRunArgs) -> Result<(), Failure> {
    let LabChoice { number, size, seed } = args.lab;
    let run = LabRun::new(
        find_lab(number)?,
        size,
        seed,
        args.out.clone(),
        args.bootstrap,
    );
    let mut terminal = Terminal {
        device: args.device,
        jobs: args.jobs,
    };
    emit(&run_lab(&run, &mut terminal)?)
}
