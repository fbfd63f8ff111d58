//! `ladder design CONFIG`: simulate a config's sweeps before training them.

use std::path::PathBuf;

use ladder_core::{FlopCount, ParamCount};
use ladder_fit::{Approach2Misfit, MinimumRule};
use ladder_lab::{
    design_text, held_out_factor, load_plan, plan_seeds, simulate_plan, write_json, DesignRequest,
    FitOptions,
};

use crate::exit::{emit, line, Failure};
use crate::fit::ResamplingArg;

/// Arguments of `ladder design`.
#[derive(Debug, clap::Args)]
pub struct DesignArgs {
    /// Sweep config (TOML) whose planned runs are the design.
    pub config: PathBuf,
    /// The true law: a preset (chinchilla, chinchilla-rounded, epoch) or a fit.json,
    /// whose approach-3 law is used.
    #[arg(long, default_value = "chinchilla")]
    pub law: String,
    /// Relative noise of each run's loss (log-normal SD), e.g. 0.01; default: a
    /// fit.json's seed SD (else its residual RMS), else 0.01. When neither this nor
    /// --family-noise is given, the config branches and the fit.json measured the share ρ
    /// of its seed variance that a model's runs of one seed have in common, that SD is
    /// split: sd·√(1−ρ) per run and sd·√ρ per family.
    #[arg(long)]
    pub noise: Option<f64>,
    /// Relative noise shared by the runs of one model and seed across their budgets (WSD
    /// branches share their stable phase), one draw per family, e.g. 0.005; default 0,
    /// or the split above.
    #[arg(long)]
    pub family_noise: Option<f64>,
    /// Relative deviation from the law per design point, drawn once per sweep and shared
    /// by its seeds (the part of the point means the law does not describe), e.g. 0.005;
    /// default: a fit.json with seeds, the misfit measured on its point means (as `ladder
    /// fit --calibrate` splits it), else 0.
    #[arg(long)]
    pub misfit: Option<f64>,
    /// Relative deviation from the law per model (N), drawn once per sweep and shared by
    /// all that model's runs, every seed and budget (a law that misses a size as a whole),
    /// e.g. 0.005; default: as `--misfit`, the fit.json's measured one, else 0.
    #[arg(long)]
    pub model_misfit: Option<f64>,
    /// Correlation length, in ln N, of the per-model misfit: 0 draws it independently per
    /// model; ℓ > 0 draws it as a field smooth in size (squared-exponential correlation
    /// `exp(−Δ(ln N)²/2ℓ²)`), neighbouring sizes missing the law together, e.g. 0.75.
    /// `auto` fits the length and SD to a fit.json's point means (restricted likelihood;
    /// independent where they prefer no length) and prints them.
    #[arg(
        long,
        default_value = "0",
        value_name = "LENGTH|auto",
        allow_negative_numbers = true
    )]
    pub model_misfit_length: ladder_lab::MisfitLength,
    /// Runs per design point, each with its own noise; default: the config's
    /// `[train] seeds`.
    #[arg(long)]
    pub seeds: Option<usize>,
    /// Simulated sweeps.
    #[arg(long, default_value_t = 100)]
    pub reps: usize,
    /// Bootstrap resamples of each simulated sweep's fit.
    #[arg(long, default_value_t = 200)]
    pub bootstrap: usize,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What the bootstraps resample in each fit (auto: as `ladder fit` on a sweep).
    #[arg(long, value_enum, default_value_t = ResamplingArg::Auto)]
    pub bootstrap_method: ResamplingArg,
    /// Parameter count used as N.
    #[arg(long, value_enum, default_value_t = ParamCount::Total)]
    pub params: ParamCount,
    /// FLOP count that labels a run's budget.
    #[arg(long, value_enum, default_value_t = FlopCount::SixNd)]
    pub flops: FlopCount,
    /// Extrapolation tests: fit on budgets up to C_max/K [default: the config's
    /// `[design] held_out`, else 4].
    #[arg(long, value_name = "K", value_parser = crate::fit::held_out_k)]
    pub extrapolate_k: Option<f64>,
    /// How approach 2 locates each budget's minimum in each fit.
    #[arg(long, value_enum, default_value_t = MinimumRule::Local)]
    pub approach2_minimum: MinimumRule,
    /// Whether approach 2's bootstrap in each fit also draws its profiles' misfit.
    #[arg(long, value_enum, default_value_t = Approach2Misfit::Auto)]
    pub approach2_misfit: Approach2Misfit,
    /// Also fit each seed's runs of every sweep alone (as `ladder fit --per-seed`) and
    /// report how often each seed check passes for a correct sweep: one more fit per seed
    /// per sweep.
    #[arg(long)]
    pub per_seed: bool,
    /// Also calibrate every sweep's intervals as `ladder fit --calibrate SWEEPS` does and
    /// report how often the calibrated 80% intervals hold the truth, and how wide they
    /// are: SWEEPS more fits per sweep (0: off).
    #[arg(long, default_value_t = 0, value_name = "SWEEPS")]
    pub calibrate: usize,
    /// Also write the findings as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub(crate) fn design(args: &DesignArgs) -> Result<(), Failure> {
    let plan = load_plan(&args.config)?;
    let fit = FitOptions {
        params: args.params,
        flops: args.flops,
        bootstrap: args.bootstrap,
        extrapolate_k: args
            .extrapolate_k
            .or_else(|| held_out_factor(&plan.config_text))
            .unwrap_or(ladder_fit::DEFAULT_K),
        resampling: args.bootstrap_method.resampling(true),
        minimum: args.approach2_minimum,
        approach2_misfit: args.approach2_misfit,
        ..FitOptions::default()
    };
    let request = DesignRequest {
        law: args.law.clone(),
        noise: args.noise,
        family_noise: args.family_noise,
        misfit: args.misfit,
        model_misfit: args.model_misfit,
        model_misfit_length: args.model_misfit_length,
        seeds: args.seeds,
        reps: args.reps,
        seed: args.seed,
        per_seed: args.per_seed,
        calibrate: args.calibrate,
    };
    eprintln!(
        "simulating {} sweeps of {} runs ({} bootstrap resamples each)...",
        args.reps,
        plan.runs.len() / plan_seeds(&plan) * args.seeds.unwrap_or_else(|| plan_seeds(&plan)),
        args.bootstrap
    );
    let (report, law) = simulate_plan(&plan, &request, &fit)?;
    let fitted = matches!(
        request.model_misfit_length,
        ladder_lab::MisfitLength::Fitted
    );
    let mut out = design_text(&report, &law, fitted);
    if let Some(path) = &args.json {
        write_json(path, &report)?;
        line(&mut out, format!("findings written to {}", path.display()));
    }
    emit(&out)
}
