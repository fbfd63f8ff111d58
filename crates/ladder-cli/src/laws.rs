//! `ladder laws …`: a calculator over published scaling laws and any fit.json.

use std::path::PathBuf;

use anyhow::Context;
use ladder_fit::Claims;
use ladder_lab::laws::{
    claims_text, cost_text, inference_text, isoflop_text, loss_text, models_text, moe_text,
    optimum_text, positive, presets_text, test_time_law, test_time_text, InferenceTarget, Law,
    LawSpec, Serving,
};
use ladder_lab::LabError;

use crate::exit::{emit, Failure, ResultExt};

/// Arguments of `ladder laws`.
#[derive(Debug, clap::Args)]
pub struct LawsArgs {
    #[command(subcommand)]
    command: LawsCommand,
}

/// Which law: a preset or a fit.json.
#[derive(Debug, clap::Args)]
struct LawChoice {
    /// A preset: chinchilla (Hoffmann 2022, unrounded), chinchilla-rounded, epoch,
    /// muennighoff (data-constrained), kaplan (Kaplan 2020; N without embeddings).
    #[arg(long, default_value = "chinchilla")]
    law: String,
    /// A fit.json from `ladder fit`: its approach-3 law (overrides --law).
    #[arg(long)]
    fit: Option<PathBuf>,
    /// Unique tokens available, for --law muennighoff: training past them repeats data,
    /// which the law discounts.
    #[arg(long)]
    unique: Option<f64>,
}

#[derive(Debug, clap::Subcommand)]
enum LawsCommand {
    /// List the preset laws with their sources and parameters.
    Presets,
    /// Compute-optimal N*, D*, D/N and the loss at a training budget (C = 6ND).
    #[command(allow_negative_numbers = true)]
    Optimum {
        /// Training compute in FLOPs.
        #[arg(long)]
        compute: f64,
        #[command(flatten)]
        law: LawChoice,
    },
    /// The loss the law predicts for N parameters trained on D tokens.
    #[command(allow_negative_numbers = true)]
    Loss {
        /// Parameters.
        #[arg(long)]
        n: f64,
        /// Training tokens.
        #[arg(long)]
        d: f64,
        #[command(flatten)]
        law: LawChoice,
    },
    /// Loss against N along one IsoFLOP curve (D = C/(6N)).
    #[command(allow_negative_numbers = true)]
    Isoflop {
        /// Training compute in FLOPs.
        #[arg(long)]
        compute: f64,
        /// Rows, log-spaced from N*/10 to 10·N*.
        #[arg(long, default_value_t = 9)]
        points: usize,
        #[command(flatten)]
        law: LawChoice,
    },
    /// Inference-aware sizing (Sardana et al. 2024): the cheapest model once serving T
    /// tokens (2·N·T FLOPs) is counted, against Chinchilla's.
    #[command(allow_negative_numbers = true)]
    Inference {
        /// Total compute for training and serving, FLOPs (or use --loss).
        #[arg(long)]
        compute: Option<f64>,
        /// Target loss: the cheapest model that reaches it (instead of --compute).
        #[arg(long)]
        loss: Option<f64>,
        /// Tokens the model will serve over its life.
        #[arg(long)]
        tokens: f64,
        #[command(flatten)]
        law: LawChoice,
    },
    /// Lifetime cost of a model: training 6·N·D plus serving
    /// 2·N·tokens_per_request·requests_per_year·years FLOPs, in dollars, against the
    /// Chinchilla-optimal and the inference-optimal model of the same loss.
    #[command(allow_negative_numbers = true)]
    Cost {
        /// Parameters.
        #[arg(long)]
        n: f64,
        /// Training tokens.
        #[arg(long)]
        d: f64,
        /// Tokens generated or read per request.
        #[arg(long)]
        tokens_per_request: f64,
        /// Requests served per year.
        #[arg(long)]
        requests_per_year: f64,
        /// Years in service.
        #[arg(long, default_value_t = 1.0)]
        years: f64,
        /// Dollars per FLOP. The default is $2 per GPU-hour for an H100 at 40% of its
        /// 989 TFLOP/s dense BF16 peak: 2/(989e12·0.4·3600) = 1.40e-18.
        #[arg(long, default_value_t = 1.40e-18)]
        usd_per_flop: f64,
        #[command(flatten)]
        law: LawChoice,
    },
    /// Illustrative test-time scaling: accuracy linear in log thinking tokens
    /// (a₀ + g·log10(T/T₀)), not a fitted law.
    #[command(allow_negative_numbers = true)]
    TestTime {
        /// Thinking tokens per problem.
        #[arg(long)]
        tokens: f64,
        /// T₀, the tokens at the anchor point.
        #[arg(long, default_value_t = 1e3)]
        anchor_tokens: f64,
        /// a₀, the accuracy at T₀ (0 to 1).
        #[arg(long, default_value_t = 0.2)]
        anchor_accuracy: f64,
        /// g, the accuracy gained per tenfold tokens.
        #[arg(long, default_value_t = 0.15)]
        gain_per_decade: f64,
    },
    /// Effective parameters of a mixture of experts: √(total·active).
    #[command(allow_negative_numbers = true)]
    Moe {
        /// Total parameters.
        #[arg(long)]
        total: f64,
        /// Parameters active per token.
        #[arg(long)]
        active: f64,
    },
    /// Tokens per parameter of known models from their public counts.
    Models,
    /// Recompute the claims in a claims file (default docs/claims.toml).
    Claims {
        /// The claims file.
        #[arg(long, default_value = "docs/claims.toml")]
        file: PathBuf,
    },
}

impl LawChoice {
    fn resolve(&self) -> Result<Law, LabError> {
        Law::resolve(&LawSpec {
            preset: self.law.clone(),
            fit: self.fit.clone(),
            unique: self.unique,
        })
    }
}

pub(crate) fn laws(args: &LawsArgs) -> Result<(), Failure> {
    let text = match &args.command {
        LawsCommand::Presets => presets_text(),
        LawsCommand::Optimum { compute, law } => {
            let c = positive("compute", *compute)?;
            optimum_text(&law.resolve()?, c)
        }
        LawsCommand::Loss { n, d, law } => {
            let (n, d) = (positive("n", *n)?, positive("d", *d)?);
            loss_text(&law.resolve()?, n, d)
        }
        LawsCommand::Isoflop {
            compute,
            points,
            law,
        } => isoflop_text(&law.resolve()?, positive("compute", *compute)?, *points),
        LawsCommand::Inference {
            compute,
            loss,
            tokens,
            law,
        } => {
            let target = InferenceTarget::new(*compute, *loss, *tokens)?;
            inference_text(&law.resolve()?, target, *tokens)?
        }
        LawsCommand::Cost {
            n,
            d,
            tokens_per_request,
            requests_per_year,
            years,
            usd_per_flop,
            law,
        } => {
            let (n, d) = (positive("n", *n)?, positive("d", *d)?);
            let serving = Serving {
                tokens_per_request: positive("tokens-per-request", *tokens_per_request)?,
                requests_per_year: positive("requests-per-year", *requests_per_year)?,
                years: positive("years", *years)?,
                usd_per_flop: positive("usd-per-flop", *usd_per_flop)?,
            };
            cost_text(&law.resolve()?, n, d, serving)?
        }
        LawsCommand::TestTime {
            tokens,
            anchor_tokens,
            anchor_accuracy,
            gain_per_decade,
        } => test_time_text(
            &test_time_law(*anchor_tokens, *anchor_accuracy, *gain_per_decade)?,
            positive("tokens", *tokens)?,
        ),
        LawsCommand::Moe { total, active } => moe_text(*total, *active)?,
        LawsCommand::Models => models_text(),
        LawsCommand::Claims { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read claims file {}", file.display()))
                .input()?;
            let claims: Claims = toml::from_str(&text)
                .with_context(|| format!("{}", file.display()))
                .input()?;
            claims_text(&claims, &file.display().to_string())?
        }
    };
    emit(&text)
}
