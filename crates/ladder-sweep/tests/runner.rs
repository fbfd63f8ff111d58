//! The runner trains `--jobs` runs at the same time and never retrains a finished one.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ladder_sweep::{
    run_sweep, Deadline, ExtraObserver, Plan, RunContext, SweepConfig, SweepOptions,
};
use ladder_train::{EvalPoint, Observer, ObserverError, RunStart, RunSummary};

const CONFIG: &str = r#"
name = "t"
[data]
kind = "markov"
vocab = 16
order = 1
successors = 3
[model]
context = 16
shapes = [{ d_model = 8, n_layer = 1, n_head = 2 }, { d_model = 16, n_layer = 1, n_head = 2 }]
[tokens]
counts = [2048, 4096]
[train]
batch_size = 8
lr = 1e-2
[eval]
every_tokens = 1024
tokens = 512
"#;

/// Counts runs in flight and remembers the most at once.
struct Concurrency {
    active: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    started: Arc<AtomicUsize>,
}

impl Observer for Concurrency {
    fn on_start(&mut self, _: &RunStart) -> Result<(), ObserverError> {
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        // Hold the run open long enough for the other job to start.
        std::thread::sleep(std::time::Duration::from_millis(200));
        Ok(())
    }
    fn on_eval(&mut self, _: &EvalPoint) -> Result<(), ObserverError> {
        Ok(())
    }
    fn on_finish(&mut self, _: &RunSummary) -> Result<(), ObserverError> {
        self.active.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

fn plan() -> Plan {
    let cfg = SweepConfig::parse(CONFIG, Path::new("t.toml")).unwrap();
    Plan::new(&cfg, CONFIG, Path::new("t.toml")).unwrap()
}

#[test]
fn jobs_train_concurrently_and_finished_runs_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan();
    let (active, most, started) = (
        Arc::default(),
        Arc::<AtomicUsize>::default(),
        Arc::<AtomicUsize>::default(),
    );
    let make = |_: &ladder_sweep::PlannedRun| -> Box<dyn Observer + Send> {
        Box::new(Concurrency {
            active: Arc::clone(&active),
            most: Arc::clone(&most),
            started: Arc::clone(&started),
        })
    };
    let outcome = sweep(&plan, dir.path(), &make, MERGE);
    assert_eq!(
        (outcome.trained, outcome.skipped, outcome.in_sweep),
        (4, 0, 4)
    );
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "two jobs must train two runs at once"
    );

    let again = sweep(&plan, dir.path(), &make, MERGE);
    assert_eq!((again.trained, again.skipped), (0, 4));
    assert_eq!(started.load(Ordering::SeqCst), 4, "no run started twice");
}

/// A sweep told to stop starting jobs starts none after that instant and counts the runs
/// it left; the next call trains them and finds the first call's runs finished.
#[test]
fn a_sweep_past_its_stop_starts_nothing_and_a_later_call_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan();
    let started = Arc::<AtomicUsize>::default();
    let make = counting_starts(&started);
    let stopped = SweepOptions {
        merge: true,
        stop_starting_at: Some(std::time::Instant::now()),
        ..MERGE
    };
    let first = sweep(&plan, dir.path(), &make, stopped);
    assert_eq!((first.trained, first.skipped, first.left), (0, 0, 4));
    assert_eq!(started.load(Ordering::SeqCst), 0);
    let rest = sweep(&plan, dir.path(), &make, MERGE);
    assert_eq!((rest.trained, rest.left, rest.in_sweep), (4, 0, 4));
}

/// With a deadline, a sweep starts only the jobs expected to end by it, skipping a
/// longer one for shorter ones behind it in the queue, and never one it has no estimate
/// for; the next call trains the rest.
#[test]
fn a_sweep_with_a_deadline_starts_only_the_jobs_expected_to_end_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan();
    let started = Arc::<AtomicUsize>::default();
    let make = counting_starts(&started);
    // The longest run (first in the queue) would end after the deadline; one run has no
    // estimate; the other two fit.
    let mut by_cost: Vec<_> = plan.runs.iter().collect();
    by_cost.sort_by(|a, b| b.cost().total_cmp(&a.cost()));
    let run_seconds = [(0, 7200.0), (1, 1.0), (2, 1.0)]
        .into_iter()
        .map(|(i, s)| (by_cost[i].id.clone(), s))
        .collect();
    let deadline = SweepOptions {
        deadline: Some(Deadline {
            at: std::time::Instant::now() + std::time::Duration::from_secs(3600),
            run_seconds,
        }),
        ..MERGE
    };
    let first = sweep(&plan, dir.path(), &make, deadline);
    assert_eq!((first.trained, first.left, first.in_sweep), (2, 2, 2));
    let done = |i: usize| ladder_store::finished_path(dir.path(), &by_cost[i].id).exists();
    assert_eq!(
        (0..4).map(done).collect::<Vec<_>>(),
        [false, true, true, false]
    );
    // Each unit trained is reported with its estimate; of those left, the one with an
    // estimate is the shortest to wait for (at least its 2 h, scaled by any overrun).
    let mut timed: Vec<_> = first.timed.iter().map(|t| t.unit.as_str()).collect();
    timed.sort();
    let mut expected = [by_cost[1].id.as_str(), by_cost[2].id.as_str()];
    expected.sort();
    assert_eq!(timed, expected);
    let one_second = std::time::Duration::from_secs(1);
    assert!(first.timed.iter().all(|t| t.estimated == one_second));
    let (unit, wait) = first.shortest_left.clone().unwrap();
    assert_eq!(unit, by_cost[0].id);
    assert!(wait >= std::time::Duration::from_secs(7200), "{wait:?}");
    let rest = sweep(&plan, dir.path(), &make, MERGE);
    assert_eq!((rest.trained, rest.skipped, rest.in_sweep), (2, 2, 4));
    assert!(rest.timed.is_empty() && rest.shortest_left.is_none());
}

/// A sweep directory kept as its config and a partial sweep.h5, without runs/ (as the
/// repository commits a lab trained in slices), resumes: the runs in sweep.h5 are not
/// retrained, and the merge keeps them beside the new ones.
#[test]
fn a_partial_sweep_kept_without_its_run_files_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let one = plan().only("0").unwrap();
    let plan = plan();
    let started = Arc::<AtomicUsize>::default();
    let make = counting_starts(&started);
    // As `ladder run --only` does: the whole plan claims the directory.
    ladder_sweep::claim_dir(&plan, dir.path()).unwrap();
    let first = sweep(&one, dir.path(), &make, MERGE);
    assert_eq!((first.trained, first.in_sweep), (1, 1));
    std::fs::remove_dir_all(dir.path().join("runs")).unwrap();
    let status = ladder_sweep::sweep_status(dir.path(), std::time::Duration::ZERO).unwrap();
    let done = |s: &&ladder_sweep::RunStatus| s.state == ladder_sweep::RunState::Finished;
    assert_eq!((status.len(), status.iter().filter(done).count()), (4, 1));
    let rest = sweep(&plan, dir.path(), &make, MERGE);
    assert_eq!((rest.trained, rest.skipped, rest.in_sweep), (3, 1, 4));
    assert_eq!(started.load(Ordering::SeqCst), 4, "no run started twice");
}

/// An observer factory that only counts the runs started into `started`.
fn counting_starts(
    started: &Arc<AtomicUsize>,
) -> impl Fn(&ladder_sweep::PlannedRun) -> Box<dyn Observer + Send> + Sync + '_ {
    move |_| {
        Box::new(Concurrency {
            active: Arc::default(),
            most: Arc::default(),
            started: Arc::clone(started),
        })
    }
}

/// Train, then merge into sweep.h5.
const MERGE: SweepOptions = SweepOptions {
    merge: true,
    stop_starting_at: None,
    deadline: None,
    jobs_sharing_cores: None,
};

/// `plan` trained into `dir` on two CPU jobs.
fn sweep(
    plan: &Plan,
    dir: &Path,
    make: ExtraObserver,
    options: SweepOptions,
) -> ladder_sweep::SweepOutcome {
    run_sweep(
        plan,
        dir,
        &two_cpus(),
        &RunContext::default(),
        make,
        options,
    )
    .unwrap()
}

fn two_cpus() -> Vec<candle_core::Device> {
    ladder_sweep::DeviceChoice::Cpu.devices(Some(2)).unwrap()
}
