//! Progress display: indicatif bars on a terminal, ladder-lab's plain lines about every
//! 10 s otherwise (indicatif draws nothing when stderr is not a terminal).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ladder_lab::{ProgressLog, Sink};
use ladder_sweep::PlannedRun;
use ladder_train::{EvalPoint, Observer, ObserverError, RunSummary};

const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// The sweep-wide display; hands out one observer per run.
pub(crate) enum Progress {
    Bars {
        multi: MultiProgress,
        sweep: ProgressBar,
    },
    Plain(ProgressLog),
}

impl Progress {
    /// A display for `runs` pending runs.
    pub(crate) fn new(runs: &[&PlannedRun]) -> Self {
        if std::io::stderr().is_terminal() {
            let multi = MultiProgress::new();
            let sweep = multi.add(ProgressBar::new(runs.len() as u64));
            sweep.set_style(
                ProgressStyle::with_template(
                    "sweep [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Progress::Bars { multi, sweep }
        } else {
            let sink: Sink = Arc::new(|text: &str| eprintln!("{text}"));
            Progress::Plain(ProgressLog::new(runs, PLAIN_EVERY, sink))
        }
    }

    /// The observer of one run.
    pub(crate) fn observer(&self, run: &PlannedRun) -> Box<dyn Observer + Send> {
        match self {
            Progress::Bars { multi, sweep } => {
                let bar = multi.add(ProgressBar::new(run.spec.steps()));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:<26} [{bar:25}] {pos}/{len} steps {msg} ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(run.id.clone());
                Box::new(BarObserver {
                    bar,
                    sweep: sweep.clone(),
                })
            }
            Progress::Plain(log) => log.observer(run),
        }
    }

    /// Clears the bars.
    pub(crate) fn finish(&self) {
        if let Progress::Bars { sweep, .. } = self {
            sweep.finish();
        }
    }
}

struct BarObserver {
    bar: ProgressBar,
    sweep: ProgressBar,
}

impl Observer for BarObserver {
    fn on_step(&mut self, step: u64, _tokens: u64, loss: f64) -> Result<(), ObserverError> {
        self.bar.set_position(step);
        self.bar.set_message(format!("loss {loss:.3}"));
        Ok(())
    }
    fn on_eval(&mut self, _point: &EvalPoint) -> Result<(), ObserverError> {
        Ok(())
    }
    fn on_finish(&mut self, s: &RunSummary) -> Result<(), ObserverError> {
        self.bar
            .finish_with_message(format!("val {:.4}", s.last.val_loss));
        self.sweep.inc(1);
        Ok(())
    }
    fn on_diverged(&mut self, step: u64) -> Result<(), ObserverError> {
        self.bar.abandon_with_message(format!(
            "DIVERGED at step {step} (left out of fits; lower the learning rate)"
        ));
        self.sweep.inc(1);
        Ok(())
    }
}
