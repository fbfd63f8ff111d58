//! The `ladder` command line: argument parsing and calls into the library crates.
//!
//! Exit codes: 0 success, 1 a run or I/O failed, 2 bad input (config, corpus, CSV,
//! HDF5 or arguments), with a message naming the field or file and the fix.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod data;
mod design;
mod exit;
mod fit;
mod lab;
mod laws;
mod merge;
mod plan;
mod progress;
mod report;
mod run;
mod slurm;
mod status;
mod tune;

pub use exit::Failure;

/// Train a ladder of tiny GPTs and check neural scaling laws.
#[derive(Debug, Parser)]
#[command(name = "ladder", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every run of a sweep config (shape, N, D, C, D/N) without training.
    Plan(plan::PlanArgs),
    /// Train every run of a sweep config (resuming), write HDF5, and print the fit.
    Run(run::RunArgs),
    /// Show which runs of a sweep directory are done, running, failed, interrupted or
    /// missing, and which array tasks a rerun redoes.
    Status(status::StatusArgs),
    /// Gather a sweep directory's finished run files into sweep.h5, checking that each
    /// belongs to the sweep; never replaces sweep.h5 with one that has fewer runs.
    Merge(merge::MergeArgs),
    /// Write a Slurm job array (one task per unit of work) and a merge job for a sweep;
    /// --submit submits them.
    Slurm(slurm::SlurmArgs),
    /// Fit the scaling laws, with bootstrap intervals and verdicts, to a sweep.h5 or a
    /// CSV of N,D,loss.
    Fit(fit::FitArgs),
    /// Simulate a config's sweeps from a known law with noise, fit each as `ladder fit`
    /// does, and print the bias, interval widths and coverage, and verdict frequencies.
    Design(design::DesignArgs),
    /// Compare a fit.json with a baseline of expected values: exit 0 pass, 1 regression,
    /// 2 bad input.
    Check(check::CheckArgs),
    /// Corpora: list the known ones, verify a file against its manifest, prepare the
    /// token cache.
    Data(data::DataArgs),
    /// Tune the learning rate of every model of a config: short runs at multiples of
    /// its rate; writes tuned.toml for `[train] lr_table`.
    Tune(tune::TuneArgs),
    /// Write DIR/report/: figures (SVG, PNG), a self-contained index.html with the fit
    /// and an inference-sizing slider, and runs.csv, curves.csv, fit.json.
    Report(report::ReportArgs),
    /// A calculator over published scaling laws and any fit.json: optimum, loss,
    /// isoflop, inference, moe, models, claims.
    Laws(laws::LawsArgs),
    /// The teaching labs (docs/labs/): list them, or run one's sweep, fit and report in
    /// one go.
    Lab(lab::LabArgs),
}

/// Parses the arguments, runs the command and maps the outcome to an exit code. Expects
/// mimalloc as the global allocator (`src/main.rs`) and keeps its freed pages.
pub fn main() -> ExitCode {
    ladder_train::keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Plan(args) => plan::plan(&args),
        Command::Run(args) => run::run(&args),
        Command::Status(args) => status::status(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Slurm(args) => slurm::slurm(&args),
        Command::Fit(args) => fit::fit(&args),
        Command::Design(args) => design::design(&args),
        Command::Check(args) => check::check(&args),
        Command::Data(args) => data::data(&args),
        Command::Tune(args) => tune::tune(&args),
        Command::Report(args) => report::report(&args),
        Command::Laws(args) => laws::laws(&args),
        Command::Lab(args) => lab::lab(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
