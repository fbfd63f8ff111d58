//! Units of work: what one process trains on its own. Without branching a unit is one
//! run; with WSD branching it is every run of one model, which share a stable phase and
//! its saved states. A Slurm array task, or `ladder run --only`, trains one unit.

use ladder_train::shares_stable_phase;

use crate::{shape_name, Plan, PlannedRun, SweepError};

/// One unit: its name and its runs, in plan order.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit<'p> {
    /// The run id, or for a branch group the model's name (`d64-l3-h4`).
    pub name: String,
    /// The runs it trains.
    pub runs: Vec<&'p PlannedRun>,
}

/// The name of the model a run trains, as its branch group is called (`-s{r}` added for
/// seed replicate r).
pub(crate) fn group_name(run: &PlannedRun) -> String {
    let name = shape_name(&run.spec.model);
    match run.spec.replicate {
        0 => name,
        r => format!("{name}-s{r}"),
    }
}

/// The runs of `plan` that share a stable phase, grouped (one group per model).
pub(crate) fn stable_groups(plan: &Plan) -> Vec<Vec<&PlannedRun>> {
    let mut groups: Vec<Vec<&PlannedRun>> = Vec::new();
    for run in &plan.runs {
        match groups
            .iter_mut()
            .find(|g| shares_stable_phase(&g[0].spec, &run.spec))
        {
            Some(g) => g.push(run),
            None => groups.push(vec![run]),
        }
    }
    groups
}

/// The units of `plan`, in a stable order (the order of their first runs).
pub fn units(plan: &Plan) -> Vec<Unit<'_>> {
    if !plan.branching {
        return plan
            .runs
            .iter()
            .map(|r| Unit {
                name: r.id.clone(),
                runs: vec![r],
            })
            .collect();
    }
    stable_groups(plan)
        .into_iter()
        .map(|runs| Unit {
            name: group_name(runs[0]),
            runs,
        })
        .collect()
}

impl Plan {
    /// The plan cut down to one unit, chosen by its index in [`units`] (as a Slurm
    /// array task id), its name, or the id of one of its runs.
    pub fn only(mut self, selector: &str) -> Result<Plan, SweepError> {
        let all = units(&self);
        let chosen = match selector.parse::<usize>() {
            Ok(i) => all.get(i),
            Err(_) => all
                .iter()
                .find(|u| u.name == selector || u.runs.iter().any(|r| r.id == selector)),
        };
        let Some(unit) = chosen else {
            let names: Vec<&str> = all.iter().take(4).map(|u| u.name.as_str()).collect();
            return Err(SweepError::Invalid {
                field: "--only".into(),
                message: format!(
                    "`{selector}` is neither a unit index 0..{} nor a unit or run name \
                     (units: {}{}); `ladder plan` lists them",
                    all.len(),
                    names.join(", "),
                    if all.len() > 4 { ", …" } else { "" }
                ),
            });
        };
        let keep: Vec<String> = unit.runs.iter().map(|r| r.id.clone()).collect();
        self.runs.retain(|r| keep.contains(&r.id));
        Ok(self)
    }
}
