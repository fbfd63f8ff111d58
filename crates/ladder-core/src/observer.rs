//! The boundary between the training loop and wherever its results go.

/// Error an observer may return; it stops the run.
pub type ObserverError = Box<dyn std::error::Error + Send + Sync>;

/// What is known when a run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStart {
    /// Optimiser steps the run will take.
    pub steps: u64,
    /// Training tokens the run will read.
    pub tokens: u64,
}

/// One evaluation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalPoint {
    /// Steps done.
    pub step: u64,
    /// Training tokens read so far.
    pub tokens: u64,
    /// Training FLOPs so far (exact count per token × tokens).
    pub flops: f64,
    /// Mean training loss over the steps since the previous evaluation.
    pub train_loss: f64,
    /// Mean loss on the fixed validation set.
    pub val_loss: f64,
    /// Learning rate of the last step.
    pub lr: f64,
    /// Seconds since the run started.
    pub wall_s: f64,
}

/// The outcome of a finished run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSummary {
    /// The last evaluation, taken after the final step.
    pub last: EvalPoint,
}

/// Receives a run's events. Every method may fail, which stops the run.
pub trait Observer {
    /// Before the first step.
    fn on_start(&mut self, _start: &RunStart) -> Result<(), ObserverError> {
        Ok(())
    }
    /// After every optimiser step.
    fn on_step(&mut self, _step: u64, _tokens: u64, _loss: f64) -> Result<(), ObserverError> {
        Ok(())
    }
    /// After every evaluation.
    fn on_eval(&mut self, point: &EvalPoint) -> Result<(), ObserverError>;
    /// After the final evaluation.
    fn on_finish(&mut self, _summary: &RunSummary) -> Result<(), ObserverError> {
        Ok(())
    }
    /// The loss became NaN or infinite after `step` steps: training stops here, and the
    /// trainer returns `TrainError::Diverged` (ladder-train).
    fn on_diverged(&mut self, _step: u64) -> Result<(), ObserverError> {
        Ok(())
    }
}

/// Keeps every evaluation in memory (tests and small tools).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Recorder {
    /// Evaluations in order.
    pub evals: Vec<EvalPoint>,
    /// Step losses in order.
    pub step_losses: Vec<f64>,
    /// Set when the run finished.
    pub finished: bool,
}

impl Observer for Recorder {
    fn on_step(&mut self, _step: u64, _tokens: u64, loss: f64) -> Result<(), ObserverError> {
        self.step_losses.push(loss);
        Ok(())
    }
    fn on_eval(&mut self, point: &EvalPoint) -> Result<(), ObserverError> {
        self.evals.push(*point);
        Ok(())
    }
    fn on_finish(&mut self, _summary: &RunSummary) -> Result<(), ObserverError> {
        self.finished = true;
        Ok(())
    }
}

/// Forwards every event to each of several observers, in order; the first error stops.
pub struct Fanout<'a>(pub Vec<&'a mut dyn Observer>);

impl Observer for Fanout<'_> {
    fn on_start(&mut self, start: &RunStart) -> Result<(), ObserverError> {
        self.0.iter_mut().try_for_each(|o| o.on_start(start))
    }
    fn on_step(&mut self, step: u64, tokens: u64, loss: f64) -> Result<(), ObserverError> {
        self.0
            .iter_mut()
            .try_for_each(|o| o.on_step(step, tokens, loss))
    }
    fn on_eval(&mut self, point: &EvalPoint) -> Result<(), ObserverError> {
        self.0.iter_mut().try_for_each(|o| o.on_eval(point))
    }
    fn on_finish(&mut self, summary: &RunSummary) -> Result<(), ObserverError> {
        self.0.iter_mut().try_for_each(|o| o.on_finish(summary))
    }
}
