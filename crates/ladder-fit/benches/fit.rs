//! Times approach 3 on the 240 Chinchilla points: the full 4,500-start grid, and
//! 1,000 bootstrap refits. Prints a table; with `LADDER_BENCH_JSON=PATH` also writes
//! the numbers as JSON for `scripts/bench-fit`, which sets them beside scipy's.
//!
//! Run: `cargo bench -p ladder-fit --bench fit` (needs ../shared or $LADDER_SHARED).

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use ladder_fit::{
    bootstrap_approach3, fit_approach3, Approach3Options, BootstrapOptions, Resampling,
};

fn main() {
    let Some(points) = common::chinchilla_points() else {
        return;
    };
    let options = Approach3Options::default();
    let threads = rayon::current_num_threads();

    // Full grid: median of five.
    let mut times = Vec::new();
    let mut fit = None;
    for _ in 0..5 {
        let t = Instant::now();
        fit = Some(fit_approach3(&points, &options).unwrap());
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let grid_s = times[times.len() / 2];
    let fit = fit.unwrap();

    let boot = BootstrapOptions::default();
    let t = Instant::now();
    let b = bootstrap_approach3(
        &points,
        &singletons(&points),
        &fit,
        &options,
        &boot,
        &[],
        &[],
    );
    let boot_s = t.elapsed().as_secs_f64();
    let se = |name: &str| b.params.iter().find(|(n, _)| *n == name).unwrap().1.se;
    // The residual bootstrap, the default for a sweep's fit.
    let residuals = BootstrapOptions {
        resampling: Resampling::Residuals,
        ..boot
    };
    let t = Instant::now();
    let r = bootstrap_approach3(
        &points,
        &singletons(&points),
        &fit,
        &options,
        &residuals,
        &[],
        &[],
    );
    let residual_s = t.elapsed().as_secs_f64();

    println!("approach 3 on 240 Chinchilla points, {threads} threads");
    println!("{:<38} {:>12}", "what", "value");
    println!(
        "{:<38} {:>12.3}",
        "full grid (4,500 starts), s, median of 5", grid_s
    );
    println!(
        "{:<38} {:>12.1}",
        "objective evaluations per start",
        fit.evaluations as f64 / fit.total_starts as f64
    );
    println!("{:<38} {:>12.10}", "objective", fit.objective);
    // A string's precision truncates it: this row takes its width only.
    println!(
        "{:<38} {:>12}",
        "alpha / beta / E",
        format!(
            "{:.5} / {:.5} / {:.4}",
            fit.law.alpha, fit.law.beta, fit.law.e
        )
    );
    println!(
        "{:<38} {:>12.2}",
        format!("bootstrap, {} refits, s", boot.resamples),
        boot_s
    );
    println!("{:<38} {:>12}", "failed refits", b.failed);
    println!(
        "{:<38} {:>12.2}",
        format!("residual bootstrap, {} refits, s", residuals.resamples),
        residual_s
    );
    println!("{:<38} {:>12}", "failed residual refits", r.failed);
    println!(
        "{:<38} {:>12}",
        "SE alpha / beta (Epoch 0.0154 / 0.0206)",
        format!("{:.4} / {:.4}", se("alpha"), se("beta"))
    );
    if let Some(path) = std::env::var_os("LADDER_BENCH_JSON") {
        let json = format!(
            "{{\"threads\": {threads}, \"grid_s\": {grid_s}, \"objective\": {}, \"alpha\": {}, \
             \"beta\": {}, \"E\": {}, \"bootstrap_s\": {boot_s}, \"resamples\": {}, \
             \"se_alpha\": {}, \"se_beta\": {}}}\n",
            fit.objective,
            fit.law.alpha,
            fit.law.beta,
            fit.law.e,
            boot.resamples,
            se("alpha"),
            se("beta")
        );
        std::fs::write(path, json).unwrap();
    }
}

/// One cluster per point: every run its own.
fn singletons(points: &ladder_fit::Points) -> Vec<Vec<usize>> {
    (0..points.len()).map(|i| vec![i]).collect()
}
