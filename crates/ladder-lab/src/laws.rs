//! The laws calculator: a published law or a fit.json's approach-3 law, and the text of
//! each question `ladder laws` answers about it (optimum, loss, IsoFLOP profile,
//! inference-aware sizing, lifetime cost, presets, known models, claims).

use std::path::PathBuf;

use ladder_fit::{
    chinchilla_for_loss, chinchilla_within_budget, kaplan2020, optimum_for_budget,
    optimum_for_loss, preset, Allocation, ChinchillaLaw, Claims, DataConstrainedLaw, LogLinear,
    MODELS, PRESETS,
};

use crate::{read_law, LabError};

/// Which law the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct LawSpec {
    /// A preset's name, or `kaplan`.
    pub preset: String,
    /// A fit.json whose approach-3 law to use instead of the preset.
    pub fit: Option<PathBuf>,
    /// Unique tokens available (the data-constrained preset only).
    pub unique: Option<f64>,
}

/// A resolved law and how it is described.
#[derive(Debug, Clone, PartialEq)]
pub enum Law {
    /// `E + A/N^α + B/D^β`: a Chinchilla-form preset or a fit.json, and its name.
    Chinchilla(ChinchillaLaw, String),
    /// Muennighoff et al. 2023 with `U` unique tokens, and its name.
    DataConstrained(DataConstrainedLaw, f64, String),
    /// Kaplan et al. 2020.
    Kaplan,
}

/// `v` if it is a finite number > 0, else bad input naming `--name`.
pub fn positive(name: &str, v: f64) -> Result<f64, LabError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(LabError::Input(format!(
            "--{name}: {v} must be a number > 0"
        )))
    }
}

fn no_repetition(what: &str) -> LabError {
    LabError::Input(format!(
        "--unique: {what} does not model repeated data; use --law muennighoff"
    ))
}

impl Law {
    /// The law `spec` names.
    pub fn resolve(spec: &LawSpec) -> Result<Self, LabError> {
        let unique = spec.unique.map(|u| positive("unique", u)).transpose()?;
        if let Some(path) = &spec.fit {
            if unique.is_some() {
                return Err(no_repetition(&format!("the fit {}", path.display())));
            }
            let law = read_law(path)?;
            return Ok(Law::Chinchilla(
                law,
                format!("approach 3 of {}", path.display()),
            ));
        }
        if spec.preset == "kaplan" {
            return match unique {
                Some(_) => Err(no_repetition("kaplan")),
                None => Ok(Law::Kaplan),
            };
        }
        let p = preset(&spec.preset).ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            LabError::Input(format!(
                "--law {}: unknown preset; use one of {}, kaplan",
                spec.preset,
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

    /// The Chinchilla form that `command` needs, or why this law has none.
    pub fn chinchilla(&self, command: &str) -> Result<&ChinchillaLaw, LabError> {
        match self {
            Law::Chinchilla(law, _) => Ok(law),
            Law::DataConstrained(..) => Err(LabError::Input(format!(
                "--unique: `laws {command}` assumes unique data; leave out --unique"
            ))),
            Law::Kaplan => Err(LabError::Input(format!(
                "--law kaplan: `laws {command}` needs a law of the form E + A/N^α + B/D^β; \
                 use chinchilla, chinchilla-rounded, epoch, muennighoff or --fit"
            ))),
        }
    }

    /// The header line naming the law.
    pub fn header(&self) -> String {
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
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        match self {
            Law::Chinchilla(law, _) => law.loss(n, d),
            Law::DataConstrained(dc, u, _) => dc.loss(n, d, *u),
            Law::Kaplan => kaplan2020::loss_nd(n, d),
        }
    }

    /// The loss-minimising `(N, D)` with `6·N·D = c`.
    pub fn isoflop_optimum(&self, c: f64) -> (f64, f64) {
        match self {
            Law::Chinchilla(law, _) => law.compute_optimal(c),
            Law::DataConstrained(dc, u, _) => dc
                .compute_optimal(c, *u)
                .unwrap_or_else(|| dc.base.compute_optimal(c)),
            Law::Kaplan => kaplan2020::joint_isoflop_optimum(c),
        }
    }
}

/// `L = E + A/N^α + B/D^β` with the law's numbers.
pub fn describe(law: &ChinchillaLaw) -> String {
    format!(
        "L = {:.4} + {:.2}/N^{:.4} + {:.2}/D^{:.4}",
        law.e, law.a, law.alpha, law.b, law.beta
    )
}

use crate::text::line;

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

fn out_of_reach(law: &ChinchillaLaw, l: f64) -> LabError {
    LabError::Input(format!(
        "--loss {l}: out of reach; the law never goes below E = {:.4}",
        law.e
    ))
}

/// `laws presets`: every preset with its source.
pub fn presets_text() -> String {
    let mut out = String::new();
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
    out
}

/// `laws optimum`: the compute-optimal model at `c` under `law`.
pub fn optimum_text(law: &Law, c: f64) -> String {
    let mut out = String::new();
    line(&mut out, law.header());
    match law {
        Law::Chinchilla(l, _) => {
            let (n, d) = l.compute_optimal(c);
            allocation(
                &mut out,
                &format!("optimum at {c:.3e}"),
                &Allocation::new(l, n, d, 0.0),
                None,
            );
        }
        Law::DataConstrained(dc, u, _) => {
            let (n, d) = law.isoflop_optimum(c);
            line(
                &mut out,
                format!(
                    "optimum at {c:.3e}: N {n:.3e}  D {d:.3e}  D/N {:.1}  {:.2} epochs  loss {:.4}",
                    d / n,
                    d / u,
                    dc.loss(n, d, *u)
                ),
            );
            let (n0, d0) = dc.base.compute_optimal(c);
            line(
                &mut out,
                format!(
                    "with unlimited unique data:   N {n0:.3e}  D {d0:.3e}  D/N {:.1}  loss {:.4}",
                    d0 / n0,
                    dc.base.loss(n0, d0)
                ),
            );
        }
        Law::Kaplan => kaplan_optimum(&mut out, c),
    }
    out
}

/// Kaplan et al.'s two optima at `c`: the compute-efficient frontier and the joint law's
/// IsoFLOP minimum.
fn kaplan_optimum(out: &mut String, c: f64) {
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

/// `laws loss`: the loss of `n` parameters on `d` tokens, with what the law adds.
pub fn loss_text(law: &Law, n: f64, d: f64) -> String {
    let mut out = String::new();
    line(&mut out, law.header());
    line(
        &mut out,
        format!(
            "N {n:.3e}, D {d:.3e} (D/N {:.1}): loss {:.4}",
            d / n,
            law.loss(n, d)
        ),
    );
    match law {
        Law::Kaplan => line(
            &mut out,
            format!(
                "alone: L(N) = {:.4} (data unlimited), L(D) = {:.4} (model unlimited)",
                kaplan2020::loss_n(n),
                kaplan2020::loss_d(d)
            ),
        ),
        Law::DataConstrained(dc, u, _) => {
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
        Law::Chinchilla(..) => {}
    }
    out
}

/// `laws isoflop`: `points` rows of loss against N along `6·N·D = c`, log-spaced from
/// N*/10 to 10·N*.
pub fn isoflop_text(law: &Law, c: f64, points: usize) -> String {
    let mut out = String::new();
    let (n_opt, _) = law.isoflop_optimum(c);
    line(&mut out, law.header());
    line(
        &mut out,
        format!("{:>12} {:>12} {:>9} {:>9}", "N", "D", "D/N", "loss"),
    );
    let k = points.max(2);
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
    out
}

/// What `laws inference` is asked: a total budget or a target loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InferenceTarget {
    /// Total FLOPs for training and serving.
    Compute(f64),
    /// The loss to reach.
    Loss(f64),
}

impl InferenceTarget {
    /// Exactly one of a total budget and a target loss, serving `tokens` ≥ 0 tokens.
    pub fn new(compute: Option<f64>, loss: Option<f64>, tokens: f64) -> Result<Self, LabError> {
        if !(tokens >= 0.0 && tokens.is_finite()) {
            return Err(LabError::Input(format!("--tokens: {tokens} must be ≥ 0")));
        }
        match (compute, loss) {
            (Some(c), None) => Ok(InferenceTarget::Compute(positive("compute", c)?)),
            (None, Some(l)) => Ok(InferenceTarget::Loss(l)),
            _ => Err(LabError::Input(
                "give exactly one of --compute (a total budget) and --loss (a target)".into(),
            )),
        }
    }
}

/// `laws inference`: the cheapest model once serving `t` tokens is counted, against
/// Chinchilla's (Sardana et al. 2024).
pub fn inference_text(law: &Law, target: InferenceTarget, t: f64) -> Result<String, LabError> {
    let chin_law = law.chinchilla("inference")?;
    let (best, chinchilla) = match target {
        InferenceTarget::Compute(c) => {
            let best = optimum_for_budget(chin_law, c, t)
                .ok_or_else(|| LabError::Input("--compute".into()))?;
            let chin = chinchilla_within_budget(chin_law, c, t)
                .ok_or_else(|| LabError::Input("--compute".into()))?;
            (best, chin)
        }
        InferenceTarget::Loss(l) => {
            let best = optimum_for_loss(chin_law, l, t).ok_or_else(|| out_of_reach(chin_law, l))?;
            let chin =
                chinchilla_for_loss(chin_law, l, t).ok_or_else(|| out_of_reach(chin_law, l))?;
            (best, chin)
        }
    };
    let mut out = String::new();
    line(&mut out, law.header());
    allocation(&mut out, "inference-aware", &best, None);
    allocation(&mut out, "Chinchilla-optimal", &chinchilla, None);
    line(
        &mut out,
        format!(
            "the inference-aware model is {:.2}x smaller and trains {:.2}x longer; total \
             cost {}, loss {:+.4} ({t:.3e} served tokens)",
            chinchilla.n / best.n,
            best.d / chinchilla.d,
            signed_percent(best.total_flops() / chinchilla.total_flops() - 1.0, 1),
            best.loss - chinchilla.loss
        ),
    );
    Ok(out)
}

/// `100·x` as a signed percentage with `decimals` decimals, never `-0.0%`: a change that
/// rounds to zero prints as `+0.0%`.
pub fn signed_percent(x: f64, decimals: usize) -> String {
    let p = 100.0 * x;
    let rounded = format!("{p:.decimals$}");
    if rounded
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        format!("+{}%", rounded.trim_start_matches('-'))
    } else {
        format!("{p:+.decimals$}%")
    }
}

/// How long a model serves, and at what price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Serving {
    /// Tokens per request.
    pub tokens_per_request: f64,
    /// Requests per year.
    pub requests_per_year: f64,
    /// Years in service.
    pub years: f64,
    /// Dollars per FLOP.
    pub usd_per_flop: f64,
}

/// `laws cost`: the model as given against Chinchilla's and the inference-optimal model
/// of the same loss, each with its lifetime cost in FLOPs and dollars.
pub fn cost_text(law: &Law, n: f64, d: f64, serving: Serving) -> Result<String, LabError> {
    let chin_law = law.chinchilla("cost")?;
    let Serving {
        tokens_per_request,
        requests_per_year,
        years,
        usd_per_flop: rate,
    } = serving;
    let served = tokens_per_request * requests_per_year * years;
    let given = Allocation::new(chin_law, n, d, served);
    let chinchilla = chinchilla_for_loss(chin_law, given.loss, served)
        .ok_or_else(|| out_of_reach(chin_law, given.loss))?;
    let cheapest = optimum_for_loss(chin_law, given.loss, served)
        .ok_or_else(|| out_of_reach(chin_law, given.loss))?;
    let mut out = String::new();
    line(&mut out, law.header());
    line(&mut out, "models of the same loss:");
    for (label, a) in [
        ("as given", &given),
        ("Chinchilla-optimal", &chinchilla),
        ("inference-optimal", &cheapest),
    ] {
        allocation(&mut out, label, a, Some(rate));
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
        &mut out,
        format!(
            "{served:.3e} tokens served: inference is {:.1}% of the given model's lifetime \
             FLOPs; against Chinchilla's model of the same loss, the given model {verdict}",
            100.0 * given.inference_flops / given.total_flops()
        ),
    );
    line(
        &mut out,
        format!(
            "serving: {tokens_per_request:.3e} tokens/request × {requests_per_year:.3e} \
             requests/year × {years} years; ${rate:.3e} per FLOP"
        ),
    );
    Ok(out)
}

/// The illustrative test-time line through `(anchor, accuracy)` rising `gain` per
/// decade of tokens, checked.
pub fn test_time_law(anchor: f64, accuracy: f64, gain: f64) -> Result<LogLinear, LabError> {
    if !(0.0..=1.0).contains(&accuracy) {
        return Err(LabError::Input(format!(
            "--anchor-accuracy: {accuracy} must be between 0 and 1"
        )));
    }
    if !gain.is_finite() {
        return Err(LabError::Input(format!(
            "--gain-per-decade: {gain} must be a finite number"
        )));
    }
    Ok(LogLinear {
        anchor_tokens: positive("anchor-tokens", anchor)?,
        anchor_accuracy: accuracy,
        gain_per_decade: gain,
    })
}

/// `laws moe`: the effective parameters √(total·active) of a mixture of experts.
pub fn moe_text(total: f64, active: f64) -> Result<String, LabError> {
    let (p, a) = (positive("total", total)?, positive("active", active)?);
    if a > p {
        return Err(LabError::Input(format!(
            "--active {a:.3e} exceeds --total {p:.3e}: active parameters are a subset"
        )));
    }
    Ok(format!(
        "effective parameters √(total·active) = {:.3e} (illustrative rule of thumb)\n",
        (p * a).sqrt()
    ))
}

/// `laws test-time`: accuracy at `t` and a table of decades around it.
pub fn test_time_text(law: &LogLinear, t: f64) -> String {
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "illustrative, not a fitted law: accuracy = {} + {}·log10(T/{:e}), clamped to [0, 1] \
             (the log-linear shape of OpenAI 2024 and Snell et al. 2024; set the anchor and \
             gain for your task)",
            law.anchor_accuracy, law.gain_per_decade, law.anchor_tokens
        ),
    );
    line(&mut out, format!("{:>12} {:>9}", "tokens", "accuracy"));
    for k in -2..=2 {
        let tk = t * 10f64.powi(k);
        let mark = if k == 0 { "  <- --tokens" } else { "" };
        line(
            &mut out,
            format!("{tk:>12.3e} {:>9.3}{mark}", law.accuracy(tk)),
        );
    }
    if let Some(full) = law.tokens_for(1.0) {
        line(
            &mut out,
            format!("the line reaches accuracy 1 at {full:.3e} tokens"),
        );
    }
    out
}

/// `laws models`: tokens per parameter of known models.
pub fn models_text() -> String {
    let mut out = String::new();
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
    out
}

/// `laws claims`: every claim of a claims file, recomputed (`file` names it in errors).
pub fn claims_text(claims: &Claims, file: &str) -> Result<String, LabError> {
    let mut out = String::new();
    for c in &claims.claim {
        let value = c
            .compute()
            .map_err(|e| LabError::Input(format!("{file}: {e}")))?;
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
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_that_rounds_to_zero_has_no_minus_sign() {
        assert_eq!(signed_percent(-1e-9, 2), "+0.00%");
        assert_eq!(signed_percent(-0.0, 1), "+0.0%");
        assert_eq!(signed_percent(0.0, 1), "+0.0%");
        assert_eq!(signed_percent(-0.012, 1), "-1.2%");
        assert_eq!(signed_percent(0.5, 0), "+50%");
    }
}
