//! WSD branching: one stable phase per model, with a cooldown branch at each training
//! length (Hägele et al. 2024, §4). A branch of length `D` continues the stable phase's
//! state at its cooldown start, so it is the run a separate WSD training of `D` tokens
//! would be, for the compute of its cooldown alone.
//!
//! The stable phase is saved to disk at every branch point, so an interrupted group
//! resumes from its last saved state instead of from scratch.

use std::path::{Path, PathBuf};

use candle_core::Device;
use ladder_data::TokenSource;

use crate::run::{check_capacity, finish};
use crate::{Observer, RunSpec, RunStart, RunSummary, ScheduleKind, Snapshot, TrainError, Trainer};

/// Whether `a` and `b` share a stable phase: everything but the length is equal, and
/// both use WSD.
pub fn shares_stable_phase(a: &RunSpec, b: &RunSpec) -> bool {
    let wsd = |s: &RunSpec| matches!(s.schedule, ScheduleKind::Wsd { .. });
    let mut b_as_a = b.clone();
    b_as_a.tokens = a.tokens;
    wsd(a) && wsd(b) && b_as_a == *a
}

/// The saved stable-phase state at `step` of the group whose files start with `prefix`.
fn state_path(prefix: &Path, step: u64) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(format!("-step{step:09}.safetensors"));
    name.into()
}

/// Saved states of the group whose files start with `prefix`, as (step, path), in step
/// order.
fn saved_states(prefix: &Path) -> Vec<(u64, PathBuf)> {
    let states = prefix.parent().unwrap_or(Path::new("."));
    let prefix = format!(
        "{}-step",
        prefix.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(states)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step = name.strip_prefix(&prefix)?.strip_suffix(".safetensors")?;
            let step: u64 = step.parse().ok()?;
            // The JSON half is written last: without it the state is incomplete.
            let json = states.join(format!("{name}.json"));
            json.exists().then(|| (step, e.path()))
        })
        .collect();
    found.sort();
    found
}

fn remove_state(path: &Path) {
    let mut json = path.as_os_str().to_owned();
    json.push(".json");
    // A leftover state only costs disk space; failing to delete it is not an error.
    let _ = std::fs::remove_file(PathBuf::from(json));
    let _ = std::fs::remove_file(path);
}

/// Trains the branches of one stable phase that `pending` marks, each reported to the
/// observer `observer(i)` makes for it, as a complete run from step 0: the stable steps
/// it shares, then its cooldown. `branches` share everything but their length
/// ([`shares_stable_phase`]). Stable-phase states are saved as `<states>-step<N>` (for
/// example `DIR/states/d64-l2-h4-step000000120.safetensors`); all of them are removed
/// once every branch is done.
pub fn train_branches(
    branches: &[RunSpec],
    pending: &[bool],
    source: &dyn TokenSource,
    val: &[Vec<u32>],
    device: &Device,
    states: &Path,
    observer: &mut dyn FnMut(usize) -> Result<Box<dyn Observer + Send>, TrainError>,
) -> Result<Vec<Option<RunSummary>>, TrainError> {
    let mut order: Vec<usize> = (0..branches.len()).collect();
    order.sort_by_key(|&i| (branches[i].decay_start(), branches[i].steps()));
    let Some(&longest) = order.last() else {
        return Ok(Vec::new());
    };
    let trunk = &branches[longest];
    if let Some(odd) = branches.iter().find(|b| !shares_stable_phase(trunk, b)) {
        return Err(TrainError::Candle(candle_core::Error::Msg(format!(
            "branch of {} tokens does not share the stable phase of the others",
            odd.tokens
        ))));
    }
    check_capacity(trunk, source)?;
    if let Some(dir) = states.parent() {
        std::fs::create_dir_all(dir).map_err(candle_core::Error::wrap)?;
    }
    let mut trainer = Trainer::new(trunk, source, val, device)?;
    let first = order
        .iter()
        .find(|&&i| pending[i])
        .map(|&i| branches[i].decay_start());
    if let Some(start) = first {
        let mut usable = saved_states(states)
            .into_iter()
            .filter(|(s, _)| *s <= start);
        if let Some((_, path)) = usable.next_back() {
            trainer.restore(&Snapshot::load(&path, device)?)?;
        }
    }
    let mut summaries = vec![None; branches.len()];
    for &i in order.iter().filter(|&&i| pending[i]) {
        let branch = &branches[i];
        let mut obs = observer(i)?;
        obs.on_start(&RunStart {
            steps: branch.steps(),
            tokens: branch.tokens,
        })
        .map_err(TrainError::Observer)?;
        for point in trainer.evals() {
            obs.on_eval(point).map_err(TrainError::Observer)?;
        }
        // The stable phase up to this branch's cooldown, reported as the branch's own.
        trainer.set_spec(trunk);
        trainer.run_until(branch.decay_start(), obs.as_mut())?;
        let snapshot = trainer.snapshot()?;
        let path = state_path(states, snapshot.step);
        snapshot.save(&path)?;
        for (_, older) in saved_states(states)
            .into_iter()
            .filter(|(s, _)| *s < snapshot.step)
        {
            remove_state(&older);
        }
        trainer.set_spec(branch);
        trainer.run_until(branch.steps(), obs.as_mut())?;
        summaries[i] = Some(finish(branch, trainer.evals(), obs.as_mut())?);
        trainer.restore(&snapshot)?;
    }
    for (_, path) in saved_states(states) {
        remove_state(&path);
    }
    Ok(summaries)
}
