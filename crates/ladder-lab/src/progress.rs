//! A sweep's progress as lines of text: every few seconds, the runs finished, the share
//! of the sweep's FLOPs done, an ETA from it and each running run's loss; a line when a
//! run finishes or diverges. The caller says where the lines go (stderr, a log).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ladder_core::{EvalPoint, Observer, ObserverError, RunStart, RunSummary};
use ladder_sweep::PlannedRun;

/// Where the lines go.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// The sweep-wide state; hands out one observer per run.
#[derive(Clone)]
pub struct ProgressLog {
    state: Arc<Mutex<State>>,
    sink: Sink,
}

struct State {
    start: Instant,
    last_print: Instant,
    every: Duration,
    total_flops: f64,
    done_flops: BTreeMap<String, f64>,
    flops_per_token: BTreeMap<String, f64>,
    losses: BTreeMap<String, f64>,
    finished: usize,
    runs: usize,
}

impl ProgressLog {
    /// A log of the pending `runs`, a line about every `every` to `sink`.
    pub fn new(runs: &[&PlannedRun], every: Duration, sink: Sink) -> Self {
        let now = Instant::now();
        let state = State {
            start: now,
            last_print: now,
            every,
            total_flops: runs.iter().map(|r| r.cost()).sum(),
            done_flops: BTreeMap::new(),
            flops_per_token: runs.iter().map(|r| (r.id.clone(), r.flops.exact)).collect(),
            losses: BTreeMap::new(),
            finished: 0,
            runs: runs.len(),
        };
        Self {
            state: Arc::new(Mutex::new(state)),
            sink,
        }
    }

    /// The observer of one run.
    pub fn observer(&self, run: &PlannedRun) -> Box<dyn Observer + Send> {
        Box::new(RunLog {
            id: run.id.clone(),
            log: self.clone(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
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

/// One run's observer.
struct RunLog {
    id: String,
    log: ProgressLog,
}

impl Observer for RunLog {
    fn on_start(&mut self, _start: &RunStart) -> Result<(), ObserverError> {
        Ok(())
    }
    fn on_step(&mut self, _step: u64, tokens: u64, loss: f64) -> Result<(), ObserverError> {
        let mut s = self.log.state();
        let per_token = s.flops_per_token.get(&self.id).copied().unwrap_or(0.0);
        s.done_flops
            .insert(self.id.clone(), tokens as f64 * per_token);
        s.losses.insert(self.id.clone(), loss);
        if s.last_print.elapsed() >= s.every {
            s.last_print = Instant::now();
            (self.log.sink)(&s.line());
        }
        Ok(())
    }
    fn on_eval(&mut self, _point: &EvalPoint) -> Result<(), ObserverError> {
        Ok(())
    }
    fn on_finish(&mut self, summary: &RunSummary) -> Result<(), ObserverError> {
        let mut s = self.log.state();
        s.finished += 1;
        s.losses.remove(&self.id);
        (self.log.sink)(&format!(
            "finished {} (val loss {:.4}, {:.1}s)",
            self.id, summary.last.val_loss, summary.last.wall_s
        ));
        Ok(())
    }
    fn on_diverged(&mut self, step: u64) -> Result<(), ObserverError> {
        let mut s = self.log.state();
        s.finished += 1;
        s.losses.remove(&self.id);
        (self.log.sink)(&format!(
            "warning: {} diverged (non-finite loss) at step {step}: stopped, marked \
             status=diverged, left out of fits; lower the learning rate",
            self.id
        ));
        Ok(())
    }
}
