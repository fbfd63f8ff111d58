//! A thin wrapper over argmin's L-BFGS with a Moré–Thuente line search.

use argmin::core::{CostFunction, Error, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

/// A smooth objective with its gradient.
pub(crate) trait Objective: Sync {
    /// Value at `x`.
    fn value(&self, x: &[f64]) -> f64;
    /// Gradient at `x`.
    fn gradient(&self, x: &[f64]) -> Vec<f64>;
}

struct Adapter<'a, O>(&'a O);

impl<O: Objective> CostFunction for Adapter<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Self::Param) -> Result<f64, Error> {
        Ok(self.0.value(x))
    }
}

impl<O: Objective> Gradient for Adapter<'_, O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Self::Param) -> Result<Vec<f64>, Error> {
        Ok(self.0.gradient(x))
    }
}

/// Minimises `objective` from `start` with L-BFGS (memory 10, as scipy's L-BFGS-B).
/// Returns the best point and its value, or `None` when the solver fails or the
/// objective is not finite there.
pub(crate) fn lbfgs<O: Objective>(
    objective: &O,
    start: Vec<f64>,
    max_iters: u64,
) -> Option<(Vec<f64>, f64)> {
    let linesearch = MoreThuenteLineSearch::new();
    let solver = LBFGS::new(linesearch, 10)
        .with_tolerance_grad(1e-10)
        .ok()?
        .with_tolerance_cost(1e-16)
        .ok()?;
    let result = Executor::new(Adapter(objective), solver)
        .configure(|state| state.param(start).max_iters(max_iters))
        .run()
        .ok()?;
    let state = result.state();
    let best = state.get_best_param()?.clone();
    let value = state.get_best_cost();
    value.is_finite().then_some((best, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;
    impl Objective for Rosenbrock {
        fn value(&self, x: &[f64]) -> f64 {
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        }
        fn gradient(&self, x: &[f64]) -> Vec<f64> {
            vec![
                -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]),
                200.0 * (x[1] - x[0] * x[0]),
            ]
        }
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let (x, v) = lbfgs(&Rosenbrock, vec![-1.2, 1.0], 500).unwrap();
        assert!(v < 1e-12, "{v}");
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5,
            "{x:?}"
        );
    }
}
