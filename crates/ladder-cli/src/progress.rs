//! Progress display: indicatif bars on a terminal, a plain line about every 10 s
//! otherwise (indicatif draws nothing when stderr is not a terminal).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ladder_sweep::PlannedRun;
use ladder_train::{EvalPoint, Observer, ObserverError, RunStart, RunSummary};

const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// The sweep-wide display; hands out one observer per run.
pub(crate) enum Progress {
    Bars {
        multi: MultiProgress,
        sweep: ProgressBar,
    },
    Plain(Arc<Mutex<PlainState>>),
}

pub(crate) struct PlainState {
    start: Instant,
    last_print: Instant,
    total_flops: f64,
    done_flops: BTreeMap<String, f64>,
    flops_per_token: BTreeMap<String, f64>,
    losses: BTreeMap<String, f64>,
    finished: usize,
    runs: usize,
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
            let now = Instant::now();
            Progress::Plain(Arc::new(Mutex::new(PlainState {
                start: now,
                last_print: now,
                total_flops: runs.iter().map(|r| r.cost()).sum(),
                done_flops: BTreeMap::new(),
                flops_per_token: runs.iter().map(|r| (r.id.clone(), r.flops.exact)).collect(),
                losses: BTreeMap::new(),
                finished: 0,
                runs: runs.len(),
            })))
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
            Progress::Plain(state) => Box::new(PlainObserver {
                id: run.id.clone(),
                state: state.clone(),
            }),
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

struct PlainObserver {
    id: String,
    state: Arc<Mutex<PlainState>>,
}

impl PlainState {
    fn line(&self) -> String {
        let elapsed = self.start.elapsed().as_secs_f64();
        let done: f64 = self.done_flops.values().sum();
        let frac = done / self.total_flops.max(1.0);
        let eta = if frac > 0.0 {
            format!("{:.0}s", elapsed * (1.0 / frac - 1.0))
        } else {
            "?".into()
        };
        let losses: Vec<String> = self
            .losses
            .iter()
            .map(|(id, l)| format!("{id} {l:.3}"))
            .collect();
        format!(
            "[{elapsed:>6.0}s] {}/{} runs done, {:.1}% of FLOPs, ETA {eta} | {}",
            self.finished,
            self.runs,
            100.0 * frac,
            losses.join(", ")
        )
    }
}

impl Observer for PlainObserver {
    fn on_start(&mut self, _start: &RunStart) -> Result<(), ObserverError> {
        Ok(())
    }
    fn on_step(&mut self, _step: u64, tokens: u64, loss: f64) -> Result<(), ObserverError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let per_token = s.flops_per_token.get(&self.id).copied().unwrap_or(0.0);
        s.done_flops
            .insert(self.id.clone(), tokens as f64 * per_token);
        s.losses.insert(self.id.clone(), loss);
        if s.last_print.elapsed() >= PLAIN_EVERY {
            s.last_print = Instant::now();
            eprintln!("{}", s.line());
        }
        Ok(())
    }
    fn on_eval(&mut self, _point: &EvalPoint) -> Result<(), ObserverError> {
        Ok(())
    }
    fn on_finish(&mut self, summary: &RunSummary) -> Result<(), ObserverError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.finished += 1;
        s.losses.remove(&self.id);
        eprintln!(
            "finished {} (val loss {:.4}, {:.1}s)",
            self.id, summary.last.val_loss, summary.last.wall_s
        );
        Ok(())
    }
    fn on_diverged(&mut self, step: u64) -> Result<(), ObserverError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.finished += 1;
        s.losses.remove(&self.id);
        eprintln!(
            "warning: {} diverged (non-finite loss) at step {step}: stopped, marked \
             status=diverged, left out of fits; lower the learning rate",
            self.id
        );
        Ok(())
    }
}
