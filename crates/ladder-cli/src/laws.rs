//! `ladder laws …`: a calculator over published scaling laws and any fit.json.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use ladder_fit::{
    chinchilla_for_loss, chinchilla_within_budget, kaplan2020, optimum_for_budget,
    optimum_for_loss, preset, Allocation, ChinchillaLaw, Claims, DataConstrainedLaw, LogLinear,
    MODELS, PRESETS,
};

use crate::exit::{emit, line, Failure, ResultExt};

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

/// A resolved law and how it is described.
enum Law {
    /// `E + A/N^α + B/D^β`: a Chinchilla-form preset or a fit.json.
    Chinchilla(ChinchillaLaw, String),
    /// Muennighoff et al. 2023 with `U` unique tokens.
    DataConstrained(DataConstrainedLaw, f64, String),
    /// Kaplan et al. 2020.
    Kaplan,
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

fn positive(name: &str, v: f64) -> Result<f64, Failure> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Failure::Input(anyhow!(
            "--{name}: {v} must be a number > 0"
        )))
    }
}

/// The approach-3 law of a fit.json.
fn law_from_fit(path: &Path) -> Result<ChinchillaLaw, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .input()?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", path.display()))
        .input()?;
    let get = |k: &str| {
        v["approach3"][k].as_f64().ok_or_else(|| {
            Failure::Input(anyhow!(
                "{}: no number approach3.{k}: give a fit.json written by `ladder fit --json`",
                path.display()
            ))
        })
    };
    Ok(ChinchillaLaw {
        e: get("E")?,
        a: get("A")?,
        b: get("B")?,
        alpha: get("alpha")?,
        beta: get("beta")?,
    })
}

impl LawChoice {
    fn resolve(&self) -> Result<Law, Failure> {
        let unique = self.unique.map(|u| positive("unique", u)).transpose()?;
        let no_repetition = |what: &str| {
            Failure::Input(anyhow!(
                "--unique: {what} does not model repeated data; use --law muennighoff"
            ))
        };
        if let Some(path) = &self.fit {
            if unique.is_some() {
                return Err(no_repetition(&format!("the fit {}", path.display())));
            }
            return Ok(Law::Chinchilla(
                law_from_fit(path)?,
                format!("approach 3 of {}", path.display()),
            ));
        }
        if self.law == "kaplan" {
            return match unique {
                Some(_) => Err(no_repetition("kaplan")),
                None => Ok(Law::Kaplan),
            };
        }
        let p = preset(&self.law).ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            Failure::Input(anyhow!(
                "--law {}: unknown preset; use one of {}, kaplan",
                self.law,
                names.join(", ")
            ))
        })?;
        let name = format!("{} ({})", p.name, p.source);
        match (unique, p.data_constrained()) {
            (Some(u), Some(dc)) => Ok(Law::DataConstrained(dc, u, name)),
            (Some(_), None) => Err(no_repetition(p.name)),
            (None, _) => Ok(Law::Chinchilla(p.law, name)),
        }
    }
}

impl Law {
    /// The Chinchilla form that `command` needs, or why this law has none.
    fn chinchilla(&self, command: &str) -> Result<(&ChinchillaLaw, &str), Failure> {
        match self {
            Law::Chinchilla(law, name) => Ok((law, name)),
            Law::DataConstrained(..) => Err(Failure::Input(anyhow!(
                "--unique: `laws {command}` assumes unique data; leave out --unique"
            ))),
            Law::Kaplan => Err(Failure::Input(anyhow!(
                "--law kaplan: `laws {command}` needs a law of the form E + A/N^α + B/D^β; \
                 use chinchilla, chinchilla-rounded, epoch, muennighoff or --fit"
            ))),
        }
    }

    /// The header line naming the law.
    fn header(&self) -> String {
        match self {
            Law::Chinchilla(law, name) => format!("law: {name}: {}", describe(law)),
            Law::DataConstrained(dc, u, name) => format!(
                "law: {name}: {}, R_D* {:.2}, R_N* {:.2}, {u:.3e} unique tokens",
                describe(&dc.base),
                dc.repetition.r_d_star,
                dc.repetition.r_n_star
            ),
            Law::Kaplan => "law: kaplan (Kaplan et al. 2020, eq. 1.5): L(N, D) = \
                            [(8.8e13/N)^(0.076/0.095) + 5.4e13/D]^0.095, N without embeddings"
                .to_string(),
        }
    }

    /// Loss of `n` parameters trained on `d` tokens.
    fn loss(&self, n: f64, d: f64) -> f64 {
        match self {
            Law::Chinchilla(law, _) => law.loss(n, d),
            Law::DataConstrained(dc, u, _) => dc.loss(n, d, *u),
            Law::Kaplan => kaplan2020::loss_nd(n, d),
        }
    }

    /// The loss-minimising `(N, D)` with `6·N·D = c`.
    fn isoflop_optimum(&self, c: f64) -> (f64, f64) {
        match self {
            Law::Chinchilla(law, _) => law.compute_optimal(c),
            Law::DataConstrained(dc, u, _) => dc
                .compute_optimal(c, *u)
                .unwrap_or_else(|| dc.base.compute_optimal(c)),
            Law::Kaplan => kaplan2020::joint_isoflop_optimum(c),
        }
    }
}

fn describe(law: &ChinchillaLaw) -> String {
    format!(
        "L = {:.4} + {:.2}/N^{:.4} + {:.2}/D^{:.4}",
        law.e, law.a, law.alpha, law.b, law.beta
    )
}

/// One model's line: size, data, loss and FLOPs, and with a `$/FLOP` rate its dollars.
fn allocation(out: &mut String, label: &str, a: &Allocation, usd_per_flop: Option<f64>) {
    let dollars = usd_per_flop
        .map(|r| {
            format!(
                "  ${:.3e} train + ${:.3e} inference = ${:.3e}",
                a.train_flops * r,
                a.inference_flops * r,
                a.total_flops() * r
            )
        })
        .unwrap_or_default();
    line(
        out,
        format!(
            "{label:<22} N {:.3e}  D {:.3e}  D/N {:>7.1}  loss {:.4}  train {:.3e}  inference {:.3e}  total {:.3e} FLOPs{dollars}",
            a.n,
            a.d,
            a.d / a.n,
            a.loss,
            a.train_flops,
            a.inference_flops,
            a.total_flops()
        ),
    );
}

pub(crate) fn laws(args: &LawsArgs) -> Result<(), Failure> {
    let mut out = String::new();
    match &args.command {
        LawsCommand::Presets => {
            for p in PRESETS {
                let repetition = p
                    .repetition
                    .map(|r| format!(", R_D* {}, R_N* {}", r.r_d_star, r.r_n_star))
                    .unwrap_or_default();
                line(
                    &mut out,
                    format!("{:<20} {}{repetition}", p.name, describe(&p.law)),
                );
                line(&mut out, format!("{:<20} {}", "", p.source));
            }
            line(
                &mut out,
                "kaplan               L(N) = (8.8e13/N)^0.076, L(D) = (5.4e13/D)^0.095, \
                 L(C) = (3.1e8 PF-days/C)^0.050, N_opt = 1.3e9·C^0.73, D_opt = 2e10·C^0.27 \
                 (C in PF-days), joint L(N, D) of eq. 1.5 (N without embeddings)",
            );
            line(
                &mut out,
                format!("{:<20} Kaplan et al. 2020, §1.2 and Table 6", ""),
            );
        }
        LawsCommand::Optimum { compute, law } => {
            let c = positive("compute", *compute)?;
            let law = law.resolve()?;
            line(&mut out, law.header());
            optimum(&mut out, &law, c);
        }
        LawsCommand::Loss { n, d, law } => {
            let (n, d) = (positive("n", *n)?, positive("d", *d)?);
            let law = law.resolve()?;
            line(&mut out, law.header());
            line(
                &mut out,
                format!(
                    "N {n:.3e}, D {d:.3e} (D/N {:.1}): loss {:.4}",
                    d / n,
                    law.loss(n, d)
                ),
            );
            if let Law::Kaplan = law {
                line(
                    &mut out,
                    format!(
                        "alone: L(N) = {:.4} (data unlimited), L(D) = {:.4} (model unlimited)",
                        kaplan2020::loss_n(n),
                        kaplan2020::loss_d(d)
                    ),
                );
            }
            if let Law::DataConstrained(dc, u, _) = &law {
                let (n_eff, d_eff) = dc.effective(n, d, *u);
                line(
                    &mut out,
                    format!(
                        "{:.2} epochs of the unique tokens; worth N' {n_eff:.3e} and D' {d_eff:.3e} \
                         fresh ones",
                        d / u
                    ),
                );
            }
        }
        LawsCommand::Isoflop {
            compute,
            points,
            law,
        } => {
            let c = positive("compute", *compute)?;
            let law = law.resolve()?;
            let (n_opt, _) = law.isoflop_optimum(c);
            line(&mut out, law.header());
            line(
                &mut out,
                format!("{:>12} {:>12} {:>9} {:>9}", "N", "D", "D/N", "loss"),
            );
            let k = (*points).max(2);
            for i in 0..k {
                let n = n_opt * 10f64.powf(-1.0 + 2.0 * i as f64 / (k - 1) as f64);
                let d = c / (6.0 * n);
                line(
                    &mut out,
                    format!(
                        "{n:>12.3e} {d:>12.3e} {:>9.1} {:>9.4}",
                        d / n,
                        law.loss(n, d)
                    ),
                );
            }
        }
        LawsCommand::Inference {
            compute,
            loss,
            tokens,
            law,
        } => {
            let t = if *tokens >= 0.0 && tokens.is_finite() {
                *tokens
            } else {
                return Err(Failure::Input(anyhow!("--tokens: {tokens} must be ≥ 0")));
            };
            let resolved = law.resolve()?;
            let (law, _) = resolved.chinchilla("inference")?;
            line(&mut out, resolved.header());
            let (best, chinchilla) = match (compute, loss) {
                (Some(c), None) => {
                    let c = positive("compute", *c)?;
                    let best = optimum_for_budget(law, c, t)
                        .ok_or_else(|| Failure::Input(anyhow!("--compute")))?;
                    let chin = chinchilla_within_budget(law, c, t)
                        .ok_or_else(|| Failure::Input(anyhow!("--compute")))?;
                    (best, chin)
                }
                (None, Some(l)) => {
                    let best = optimum_for_loss(law, *l, t).ok_or_else(|| out_of_reach(law, *l))?;
                    let chin =
                        chinchilla_for_loss(law, *l, t).ok_or_else(|| out_of_reach(law, *l))?;
                    (best, chin)
                }
                _ => {
                    return Err(Failure::Input(anyhow!(
                        "give exactly one of --compute (a total budget) and --loss (a target)"
                    )))
                }
            };
            allocation(&mut out, "inference-aware", &best, None);
            allocation(&mut out, "Chinchilla-optimal", &chinchilla, None);
            line(
                &mut out,
                format!(
                    "the inference-aware model is {:.2}x smaller and trains {:.2}x longer; total \
                     cost {:+.1}%, loss {:+.4} ({t:.3e} served tokens)",
                    chinchilla.n / best.n,
                    best.d / chinchilla.d,
                    100.0 * (best.total_flops() / chinchilla.total_flops() - 1.0),
                    best.loss - chinchilla.loss
                ),
            );
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
            let per_request = positive("tokens-per-request", *tokens_per_request)?;
            let per_year = positive("requests-per-year", *requests_per_year)?;
            let years = positive("years", *years)?;
            let rate = positive("usd-per-flop", *usd_per_flop)?;
            let resolved = law.resolve()?;
            let (law, _) = resolved.chinchilla("cost")?;
            line(&mut out, resolved.header());
            cost(&mut out, law, n, d, per_request * per_year * years, rate)?;
            line(
                &mut out,
                format!(
                    "serving: {per_request:.3e} tokens/request × {per_year:.3e} requests/year × \
                     {years} years; ${rate:.3e} per FLOP"
                ),
            );
        }
        LawsCommand::TestTime {
            tokens,
            anchor_tokens,
            anchor_accuracy,
            gain_per_decade,
        } => {
            let t = positive("tokens", *tokens)?;
            let line_law = LogLinear {
                anchor_tokens: positive("anchor-tokens", *anchor_tokens)?,
                anchor_accuracy: if (0.0..=1.0).contains(anchor_accuracy) {
                    *anchor_accuracy
                } else {
                    return Err(Failure::Input(anyhow!(
                        "--anchor-accuracy: {anchor_accuracy} must be between 0 and 1"
                    )));
                },
                gain_per_decade: if gain_per_decade.is_finite() {
                    *gain_per_decade
                } else {
                    return Err(Failure::Input(anyhow!(
                        "--gain-per-decade: {gain_per_decade} must be a finite number"
                    )));
                },
            };
            test_time(&mut out, &line_law, t);
        }
        LawsCommand::Moe { total, active } => {
            let (p, a) = (positive("total", *total)?, positive("active", *active)?);
            if a > p {
                return Err(Failure::Input(anyhow!(
                    "--active {a:.3e} exceeds --total {p:.3e}: active parameters are a subset"
                )));
            }
            line(
                &mut out,
                format!(
                    "effective parameters √(total·active) = {:.3e} (illustrative rule of thumb)",
                    (p * a).sqrt()
                ),
            );
        }
        LawsCommand::Models => {
            line(
                &mut out,
                format!(
                    "{:<18} {:>10} {:>10} {:>8} {:>10}  source",
                    "model", "N", "D", "D/N", "vs 20"
                ),
            );
            for (name, n, d, source) in MODELS {
                line(
                    &mut out,
                    format!(
                        "{name:<18} {n:>10.3e} {d:>10.3e} {:>8.1} {:>9.1}x  {source}",
                        d / n,
                        d / n / 20.0
                    ),
                );
            }
        }
        LawsCommand::Claims { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read claims file {}", file.display()))
                .input()?;
            let claims: Claims = toml::from_str(&text)
                .with_context(|| format!("{}", file.display()))
                .input()?;
            for c in &claims.claim {
                let value = c
                    .compute()
                    .map_err(|e| Failure::Input(anyhow!("{}: {e}", file.display())))?;
                let verdict = if c.holds(value) {
                    "holds"
                } else {
                    "does not hold"
                };
                line(
                    &mut out,
                    format!(
                        "{verdict:<14} computed {value:>9.4}  claimed {:>9.4} (±{:.0}%)  {}  [{}]",
                        c.claimed,
                        100.0 * c.rel_tol,
                        c.text,
                        c.source
                    ),
                );
            }
        }
    }
    emit(&out)
}

fn out_of_reach(law: &ChinchillaLaw, l: f64) -> Failure {
    Failure::Input(anyhow!(
        "--loss {l}: out of reach; the law never goes below E = {:.4}",
        law.e
    ))
}

/// `laws optimum`: the compute-optimal model at `c` under `law`.
fn optimum(out: &mut String, law: &Law, c: f64) {
    match law {
        Law::Chinchilla(l, _) => {
            let (n, d) = l.compute_optimal(c);
            allocation(
                out,
                &format!("optimum at {c:.3e}"),
                &Allocation::new(l, n, d, 0.0),
                None,
            );
        }
        Law::DataConstrained(dc, u, _) => {
            let (n, d) = law.isoflop_optimum(c);
            line(
                out,
                format!(
                    "optimum at {c:.3e}: N {n:.3e}  D {d:.3e}  D/N {:.1}  {:.2} epochs  loss {:.4}",
                    d / n,
                    d / u,
                    dc.loss(n, d, *u)
                ),
            );
            let (n0, d0) = dc.base.compute_optimal(c);
            line(
                out,
                format!(
                    "with unlimited unique data:   N {n0:.3e}  D {d0:.3e}  D/N {:.1}  loss {:.4}",
                    d0 / n0,
                    dc.base.loss(n0, d0)
                ),
            );
        }
        Law::Kaplan => {
            let (n, d) = kaplan2020::frontier(c);
            line(
                out,
                format!(
                    "compute-efficient frontier (Table 6): N {n:.3e}  D {d:.3e}  D/N {:.1}  \
                     L(C_min) {:.4}  (C = {:.3e} PF-days; these runs stop before convergence, \
                     so 6ND = {:.3e})",
                    d / n,
                    kaplan2020::loss_c(c),
                    c / kaplan2020::PF_DAY,
                    6.0 * n * d
                ),
            );
            let (n, d) = kaplan2020::joint_isoflop_optimum(c);
            line(
                out,
                format!(
                    "joint law's IsoFLOP minimum: N {n:.3e}  D {d:.3e}  D/N {:.1}  loss {:.4}  \
                     (N ∝ C^{:.3})",
                    d / n,
                    kaplan2020::loss_nd(n, d),
                    1.0 / (1.0 + kaplan2020::ALPHA_N / kaplan2020::ALPHA_D)
                ),
            );
        }
    }
}

/// `laws cost`: the model as given against Chinchilla's and the inference-optimal model
/// of the same loss, each with its lifetime cost in FLOPs and dollars.
fn cost(
    out: &mut String,
    law: &ChinchillaLaw,
    n: f64,
    d: f64,
    served: f64,
    rate: f64,
) -> Result<(), Failure> {
    let given = Allocation::new(law, n, d, served);
    let chinchilla = chinchilla_for_loss(law, given.loss, served)
        .ok_or_else(|| out_of_reach(law, given.loss))?;
    let cheapest =
        optimum_for_loss(law, given.loss, served).ok_or_else(|| out_of_reach(law, given.loss))?;
    line(out, "models of the same loss:");
    for (label, a) in [
        ("as given", &given),
        ("Chinchilla-optimal", &chinchilla),
        ("inference-optimal", &cheapest),
    ] {
        allocation(out, label, a, Some(rate));
    }
    let saved = chinchilla.total_flops() - given.total_flops();
    let verdict = if saved >= 0.0 {
        format!(
            "saves {:.1}% (${:.3e})",
            100.0 * saved / chinchilla.total_flops(),
            saved * rate
        )
    } else {
        format!(
            "costs {:.1}% (${:.3e}) more",
            -100.0 * saved / chinchilla.total_flops(),
            -saved * rate
        )
    };
    line(
        out,
        format!(
            "{served:.3e} tokens served: inference is {:.1}% of the given model's lifetime \
             FLOPs; against Chinchilla's model of the same loss, the given model {verdict}",
            100.0 * given.inference_flops / given.total_flops()
        ),
    );
    Ok(())
}

/// `laws test-time`: accuracy at `t` and a table of decades around it.
fn test_time(out: &mut String, law: &LogLinear, t: f64) {
    line(
        out,
        format!(
            "illustrative, not a fitted law: accuracy = {} + {}·log10(T/{:e}), clamped to [0, 1] \
             (the log-linear shape of OpenAI 2024 and Snell et al. 2024; set the anchor and \
             gain for your task)",
            law.anchor_accuracy, law.gain_per_decade, law.anchor_tokens
        ),
    );
    line(out, format!("{:>12} {:>9}", "tokens", "accuracy"));
    for k in -2..=2 {
        let tk = t * 10f64.powi(k);
        let mark = if k == 0 { "  <- --tokens" } else { "" };
        line(out, format!("{tk:>12.3e} {:>9.3}{mark}", law.accuracy(tk)));
    }
    if let Some(full) = law.tokens_for(1.0) {
        line(
            out,
            format!("the line reaches accuracy 1 at {full:.3e} tokens"),
        );
    }
}
