//! `ladder laws …`: a calculator over published scaling laws and any fit.json.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use ladder_fit::{
    optimum_for_budget, optimum_for_loss, preset, Allocation, ChinchillaLaw, Claims, MODELS,
    PRESETS,
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
    /// A preset: chinchilla (Hoffmann 2022, unrounded), chinchilla-rounded, epoch.
    #[arg(long, default_value = "chinchilla")]
    law: String,
    /// A fit.json from `ladder fit`: its approach-3 law (overrides --law).
    #[arg(long)]
    fit: Option<PathBuf>,
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
    fn resolve(&self) -> Result<(ChinchillaLaw, String), Failure> {
        if let Some(path) = &self.fit {
            return Ok((
                law_from_fit(path)?,
                format!("approach 3 of {}", path.display()),
            ));
        }
        let p = preset(&self.law).ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            Failure::Input(anyhow!(
                "--law {}: unknown preset; use one of {}",
                self.law,
                names.join(", ")
            ))
        })?;
        Ok((p.law, format!("{} ({})", p.name, p.source)))
    }
}

fn describe(law: &ChinchillaLaw) -> String {
    format!(
        "L = {:.4} + {:.2}/N^{:.4} + {:.2}/D^{:.4}",
        law.e, law.a, law.alpha, law.b, law.beta
    )
}

fn allocation(out: &mut String, label: &str, a: &Allocation) {
    line(
        out,
        format!(
            "{label:<22} N {:.3e}  D {:.3e}  D/N {:>7.1}  loss {:.4}  train {:.3e}  inference {:.3e}  total {:.3e} FLOPs",
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
                line(&mut out, format!("{:<20} {}", p.name, describe(&p.law)));
                line(&mut out, format!("{:<20} {}", "", p.source));
            }
            line(
                &mut out,
                "kaplan (2020)        L(N) = (8.8e13/N)^0.076, L(D) = (5.4e13/D)^0.095, \
                 L(C) = (3.1e8 PF-days/C)^0.050, N_opt ∝ C^0.73 (N without embeddings)",
            );
        }
        LawsCommand::Optimum { compute, law } => {
            let c = positive("compute", *compute)?;
            let (law, name) = law.resolve()?;
            let a = optimum_for_budget(&law, c, 0.0)
                .ok_or_else(|| Failure::Input(anyhow!("--compute")))?;
            line(&mut out, format!("law: {name}: {}", describe(&law)));
            allocation(&mut out, &format!("optimum at {c:.3e}"), &a);
        }
        LawsCommand::Loss { n, d, law } => {
            let (n, d) = (positive("n", *n)?, positive("d", *d)?);
            let (law, name) = law.resolve()?;
            line(&mut out, format!("law: {name}: {}", describe(&law)));
            line(
                &mut out,
                format!(
                    "N {n:.3e}, D {d:.3e} (D/N {:.1}): loss {:.4}",
                    d / n,
                    law.loss(n, d)
                ),
            );
        }
        LawsCommand::Isoflop {
            compute,
            points,
            law,
        } => {
            let c = positive("compute", *compute)?;
            let (law, name) = law.resolve()?;
            let (n_opt, _) = law.compute_optimal(c);
            line(&mut out, format!("law: {name}: {}", describe(&law)));
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
            let (law, name) = law.resolve()?;
            line(&mut out, format!("law: {name}: {}", describe(&law)));
            let (best, chinchilla) = match (compute, loss) {
                (Some(c), None) => {
                    let c = positive("compute", *c)?;
                    let best = optimum_for_budget(&law, c, t)
                        .ok_or_else(|| Failure::Input(anyhow!("--compute")))?;
                    (best, chinchilla_within_budget(&law, c, t))
                }
                (None, Some(l)) => {
                    let best = optimum_for_loss(&law, *l, t).ok_or_else(|| {
                        Failure::Input(anyhow!(
                            "--loss {l}: the law never goes below E = {:.4}",
                            law.e
                        ))
                    })?;
                    let chin = chinchilla_at_loss(&law, *l, t)?;
                    (best, chin)
                }
                _ => {
                    return Err(Failure::Input(anyhow!(
                        "give exactly one of --compute (a total budget) and --loss (a target)"
                    )))
                }
            };
            allocation(&mut out, "inference-aware", &best);
            allocation(&mut out, "Chinchilla-optimal", &chinchilla);
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

/// The compute-optimal model (sized for training alone) that, with its inference, fits
/// the total budget `c`: bisection on its training compute.
fn chinchilla_within_budget(law: &ChinchillaLaw, c: f64, t: f64) -> Allocation {
    let at = |train: f64| {
        let (n, d) = law.compute_optimal(train);
        Allocation {
            n,
            d,
            loss: law.loss(n, d),
            train_flops: 6.0 * n * d,
            inference_flops: 2.0 * n * t,
        }
    };
    let (mut lo, mut hi) = (0.0, c);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if at(mid).total_flops() > c {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at(lo)
}

/// Chinchilla's model for a target loss: the compute-optimal allocation whose loss is
/// `l`, found by bisection on the compute.
fn chinchilla_at_loss(law: &ChinchillaLaw, l: f64, t: f64) -> Result<Allocation, Failure> {
    let loss_at = |c: f64| {
        let (n, d) = law.compute_optimal(c);
        law.loss(n, d)
    };
    let (mut lo, mut hi) = (1.0f64, 1e40f64);
    if loss_at(hi).partial_cmp(&l) != Some(std::cmp::Ordering::Less) {
        return Err(Failure::Input(anyhow!("--loss {l} is out of reach")));
    }
    for _ in 0..200 {
        let mid = (lo.ln() + hi.ln()) / 2.0;
        if loss_at(mid.exp()) > l {
            lo = mid.exp();
        } else {
            hi = mid.exp();
        }
    }
    let (n, d) = law.compute_optimal(hi);
    Ok(Allocation {
        n,
        d,
        loss: law.loss(n, d),
        train_flops: 6.0 * n * d,
        inference_flops: 2.0 * n * t,
    })
}
