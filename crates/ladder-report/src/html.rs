//! `index.html`: one self-contained page (figures embedded as data URIs, CSS and script
//! inline, no network) with the fit, the verdicts, the runs and the inference slider.

use std::fmt::Write as _;

use base64::Engine as _;
use ladder_fit::{optimum_for_loss, ChinchillaLaw, FitReport, FormFit};
use ladder_store::RunRecord;
use serde_json::json;

use crate::figure::Rendered;

const CSS: &str = include_str!("../assets/report.css");
const SCRIPT: &str = include_str!("../assets/report.js");

/// Slider positions whose optimum the page is checked against (the Rust values).
const CHECK_POSITIONS: [u32; 5] = [0, 1, 34, 67, 100];

/// Lifetime inference tokens at slider position `s` (0-100), as report.js computes them:
/// none at 0, then 0.01× to 1000× the Chinchilla-optimal D, log-spaced.
pub fn tokens_at(s: u32, d_chinchilla: f64) -> f64 {
    if s == 0 {
        0.0
    } else {
        d_chinchilla * 10f64.powf(-2.0 + 5.0 * f64::from(s - 1) / 99.0)
    }
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    if x == 0.0 || (0.01..1000.0).contains(&a) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

fn interval(ci: Option<&[f64; 2]>) -> String {
    ci.map_or("–".into(), |[lo, hi]| {
        format!("[{}, {}]", num(*lo), num(*hi))
    })
}

/// Everything the page shows.
pub struct Page<'a> {
    /// Sweep name (title).
    pub title: &'a str,
    /// `(what, value)` rows: where the data and the fit came from.
    pub provenance: &'a [(String, String)],
    /// The fit.
    pub fit: &'a FitReport,
    /// Every run, finished or not.
    pub runs: &'a [RunRecord],
    /// The figures, in order.
    pub figures: &'a [Rendered],
    /// The budget the slider starts at (the sweep's largest).
    pub budget: f64,
}

impl Page<'_> {
    /// The HTML document.
    pub fn render(&self) -> String {
        let mut h = String::new();
        let title = escape(self.title);
        let _ = write!(
            h,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>ladder report: {title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
             <h1>ladder report: {title}</h1>\n\
             <nav><a href=\"#verdicts\">Verdicts</a><a href=\"#fit\">Fit</a>\
             <a href=\"#inference\">Inference-aware sizing</a><a href=\"#figures\">Figures</a>\
             <a href=\"#runs\">Runs</a><a href=\"#files\">Files</a></nav>\n"
        );
        self.provenance(&mut h);
        self.verdicts(&mut h);
        self.fit_tables(&mut h);
        self.inference(&mut h);
        self.figures(&mut h);
        self.runs_table(&mut h);
        h.push_str(
            "<h2 id=\"files\">Files</h2>\n<p>Beside this page: \
             <a href=\"runs.csv\">runs.csv</a> (one row per run), \
             <a href=\"curves.csv\">curves.csv</a> (every evaluation, long format), \
             <a href=\"fit.json\">fit.json</a> (the whole fit), and every figure as SVG and PNG. \
             <code>pandas.read_csv(\"runs.csv\")</code> needs nothing else.</p>\n",
        );
        let law = self.fit.approach3.law;
        let _ = write!(
            h,
            "<script type=\"application/json\" id=\"law\">{}</script>\n\
             <script type=\"application/json\" id=\"checks\">{}</script>\n\
             <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
            json!({"E": law.e, "A": law.a, "B": law.b, "alpha": law.alpha, "beta": law.beta}),
            serde_json::Value::Array(checks(&law, self.budget)),
        );
        h
    }

    fn provenance(&self, h: &mut String) {
        h.push_str("<table class=\"provenance\">\n");
        for (k, v) in self.provenance {
            let _ = writeln!(
                h,
                "<tr><th class=\"text\">{}</th><td>{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        h.push_str("</table>\n");
    }

    fn verdicts(&self, h: &mut String) {
        h.push_str("<h2 id=\"verdicts\">Verdicts</h2>\n<ul>\n");
        for v in &self.fit.verdicts {
            let (class, word) = match v.holds {
                Some(true) => ("holds", "holds"),
                Some(false) => ("fails", "does not hold"),
                None => ("unknown", "cannot tell"),
            };
            let _ = writeln!(
                h,
                "<li>{}: <span class=\"{class}\">{word}</span>. {}</li>",
                escape(&v.claim),
                escape(&v.detail)
            );
        }
        h.push_str("</ul>\n");
        for why in &self.fit.diagnostics.degenerate {
            let _ = writeln!(h, "<p class=\"note\">Degenerate fit: {}</p>", escape(why));
        }
        if let Some(t) = &self.fit.diagnostics.lack_of_fit {
            let _ = writeln!(
                h,
                "<p class=\"note\">Lack of fit: the point means miss the law by {:.2}% RMS \
                 (log loss), the seeds scatter by {:.2}%; F = {:.2} on ({}, {}) degrees of \
                 freedom, p = {:.2e}.</p>",
                100.0 * t.misfit_rms,
                100.0 * t.seed_sd,
                t.f,
                t.points - t.params,
                t.runs - t.points,
                t.p
            );
            let by_size = (t.p < 0.05)
                .then(|| ladder_fit::NoiseModel::size_misfit_of_report(self.fit))
                .flatten()
                .filter(ladder_fit::SizeMisfit::is_smooth);
            if let Some(m) = by_size {
                let _ = writeln!(
                    h,
                    "<p class=\"note\">Misfit by size: it runs smoothly across sizes \
                     (correlation length {} in ln N, {:.2}% per model, against {:.2}% if \
                     independent; likelihood-ratio test of an independent misfit p = {:.3}). \
                     The law's form absorbs part of such a misfit into its exponents, so the \
                     intervals above, whose resampling treats it as noise, cover less than \
                     they claim; <code>ladder design CONFIG --law fit.json \
                     --model-misfit-length auto</code> simulates a design under it.</p>",
                    m.length,
                    100.0 * m.sd,
                    100.0 * m.independent_sd,
                    m.p
                );
            }
        }
    }

    fn fit_tables(&self, h: &mut String) {
        let a3 = &self.fit.approach3;
        let _ = write!(
            h,
            "<h2 id=\"fit\">Fit</h2>\n<p>Approach 3 (Hoffmann et al. 2022): L(N, D) = E + A/N^α + \
             B/D^β, Huber loss on log losses, N = {} parameters, C by {}, {} points.</p>\n\
             <table>\n<tr><th class=\"text\">parameter</th><th>value</th><th>80% interval</th>\
             <th>95% interval</th></tr>\n",
            escape(self.fit.params.name()),
            escape(self.fit.flops.name()),
            self.fit.points
        );
        let law = &a3.law;
        for (name, key, value) in [
            ("E", "E", law.e),
            ("A", "A", law.a),
            ("B", "B", law.b),
            ("α", "alpha", law.alpha),
            ("β", "beta", law.beta),
            ("a = β/(α+β)", "a", a3.a),
            ("b = α/(α+β)", "b", a3.b),
        ] {
            let _ = writeln!(
                h,
                "<tr><td class=\"text\">{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                num(value),
                interval(a3.intervals.ci80.get(key)),
                interval(a3.intervals.ci95.get(key))
            );
        }
        h.push_str("</table>\n");
        match (&self.fit.approach2, &self.fit.approach2_skipped) {
            (Some(a2), _) => {
                let failed = a2.bootstrap.as_ref().map_or(String::new(), |b| {
                    format!(
                        " The noise bootstrap's {} resamples had {} failures{}.",
                        b.resamples + b.failed,
                        b.failed,
                        if b.unreliable {
                            ": more than 5%, so these intervals are unreliable"
                        } else {
                            ""
                        }
                    )
                });
                let misfit =
                    a2.noise
                        .as_ref()
                        .filter(|n| n.model_misfit > 0.0)
                        .map_or(String::new(), |n| {
                            format!(
                                " Besides the seeds' noise it drew a term of SD {} per model: the \
                             profiles miss their sizes by more than the seeds scatter, a misfit \
                             every seed of a size shares.",
                                num(n.model_misfit)
                            )
                        });
                let curve = match a2.fit.rule {
                    ladder_fit::MinimumRule::Local => "a parabola around the lowest size",
                    ladder_fit::MinimumRule::Nearest => {
                        "a parabola through the lowest size and its nearest on each side"
                    }
                    ladder_fit::MinimumRule::AllPoints => "a parabola through every size",
                    ladder_fit::MinimumRule::Cubic => "a cubic through every size",
                };
                let top = a2.fit.top_budget();
                let [_, _, ratio] = a2.fit.optimum_at(top);
                let _ = writeln!(
                    h,
                    "<p>Approach 2 (IsoFLOP minima, each from {curve}; {} budgets with a \
                     bracketed minimum): N_opt ∝ C^a with a = {} \
                     (95% {}), D_opt ∝ C^b with b = {} (95% {}). Hoffmann et al. 2022 found \
                     a ≈ b ≈ 0.5. At the top budget, C = {}, its lines put D*/N* at {} (80% {}), \
                     without assuming L(N, D)'s form.{failed}{misfit}</p>",
                    a2.fit.budgets_used,
                    num(a2.fit.a),
                    interval(a2.intervals.ci95.get("a")),
                    num(a2.fit.b),
                    interval(a2.intervals.ci95.get("b")),
                    num(top),
                    num(ratio),
                    interval(a2.intervals.ci80.get("ratio"))
                );
            }
            (None, Some(why)) => {
                let _ = writeln!(h, "<p>Approach 2 did not run: {}.</p>", escape(why));
            }
            (None, None) => {}
        }
        if self
            .fit
            .diagnostics
            .optimum_determined(&self.fit.approach3.law)
        {
            self.optima(h);
        } else {
            h.push_str(
                "<p>The compute optima are not shown: these points do not determine \
                 L(N, D)'s optimum (one model size or token count, or the fit at an edge of \
                 its range; above).</p>\n",
            );
        }
        self.optimum_check(h);
        self.seeds_and_order(h);
    }

    /// Approach 3's compute optimum at each report budget, with its interval.
    fn optima(&self, h: &mut String) {
        h.push_str(
            "<table>\n<tr><th>budget C</th><th>N*</th><th>D*</th><th>D*/N*</th>\
             <th>80% interval</th><th>loss at optimum</th></tr>\n",
        );
        for t in &self.fit.tokens_per_param {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                num(t.c),
                num(t.n_opt),
                num(t.d_opt),
                num(t.ratio),
                interval(t.ratio_spread.as_ref().map(|s| &s.ci80)),
                num(t.loss)
            );
        }
        h.push_str("</table>\n<p class=\"note\">Hoffmann et al. 2022: D*/N* ≈ 20.</p>\n");
    }

    /// The seed spread per point and the inversions of the size order at equal tokens.
    fn seeds_and_order(&self, h: &mut String) {
        let seeds = &self.fit.seeds;
        if !seeds.is_empty() {
            let mut sds: Vec<f64> = seeds.iter().map(|s| s.sd).collect();
            sds.sort_by(f64::total_cmp);
            let _ = writeln!(
                h,
                "<h3>Seeds</h3>\n<p>{} points trained with several seeds; the SD of the final \
                 loss per point: median {}, largest {} (every point in fit.json, \
                 <code>seeds</code>).</p>",
                seeds.len(),
                num(sds[sds.len() / 2]),
                num(sds[sds.len() - 1])
            );
        }
        let Some(order) = &self.fit.size_order else {
            return;
        };
        let _ = writeln!(
            h,
            "<h3>Monotone in size</h3>\n<p><b>{} inversions</b> in {} comparisons of the \
             training curves at equal tokens and equal learning rate: a larger model's loss \
             above a smaller one's by more than {} ({}). Skipped, one run warming up or on \
             another schedule there: {} pairs, {} of them inverted.</p>",
            order.inversions.len(),
            order.compared,
            num(order.margin),
            order.spread_from,
            order.skipped,
            order.inversions_skipped
        );
        if order.inversions.is_empty() {
            return;
        }
        h.push_str(
            "<table>\n<tr><th>tokens</th><th>smaller N</th><th>its loss</th><th>larger N</th>\
             <th>its loss</th></tr>\n",
        );
        for inv in order.inversions.iter().take(10) {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                num(inv.tokens),
                num(inv.smaller_n),
                num(inv.smaller_loss),
                num(inv.larger_n),
                num(inv.larger_loss)
            );
        }
        h.push_str("</table>\n");
    }

    /// The held-out check of the top budget's optimum: observed, the law, the baseline.
    fn optimum_check(&self, h: &mut String) {
        let FormFit::Fitted(check) = &self.fit.optimum_check else {
            return;
        };
        let _ = write!(
            h,
            "<h3>Held-out check of the optimum</h3>\n<p>Approach 3 fitted on the {} budgets \
             with C ≤ C_max/{} predicts the optimum of the top budget (C = {}), against the \
             minimum observed there and a baseline: power laws in C through the smaller \
             budgets' minima.{} The law {}.</p>\n\
             <table>\n<tr><th class=\"text\"></th><th>loss*</th><th>error</th><th>N*</th>\
             <th>error</th><th>D*</th><th>error</th></tr>\n",
            check.fitted_budgets,
            check.k,
            num(check.c),
            match (check.margin_spread, check.resamples + check.failed) {
                (_, 0) => String::new(),
                (Some(_), tried) => format!(
                    " Errors with 80% intervals (bootstrap: {} of {tried} resamples reran \
                     the check).",
                    check.resamples
                ),
                (None, tried) => format!(
                    " No intervals: the check failed on {} of {tried} bootstrap resamples.",
                    check.failed
                ),
            },
            check.comparison()
        );
        let o = &check.observed;
        let _ = writeln!(
            h,
            "<tr><td class=\"text\">observed</td><td>{}</td><td></td><td>{}</td><td></td>\
             <td>{}</td><td></td></tr>",
            num(o.loss),
            num(o.n),
            num(o.d)
        );
        let pct = |e: f64, ci: Option<[f64; 2]>| {
            let e = format!("{:+.1}%", 100.0 * e);
            match ci {
                Some([lo, hi]) => format!("{e} [{:+.1}, {:+.1}]", 100.0 * lo, 100.0 * hi),
                None => e,
            }
        };
        for (name, p) in [("approach 3", &check.law), ("baseline", &check.baseline)] {
            let s = p.error_spread;
            let _ = writeln!(
                h,
                "<tr><td class=\"text\">{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                num(p.optimum.loss),
                pct(p.loss_error, s.map(|s| s.loss.ci80)),
                num(p.optimum.n),
                pct(p.n_error, s.map(|s| s.n.ci80)),
                num(p.optimum.d),
                pct(p.d_error, s.map(|s| s.d.ci80))
            );
        }
        h.push_str("</table>\n");
    }

    fn inference(&self, h: &mut String) {
        let _ = write!(
            h,
            "<h2 id=\"inference\">Inference-aware sizing</h2>\n\
             <p>Sardana et al. 2024: a model that will serve T tokens in its lifetime costs \
             6·N·D to train plus 2·N·T to run. At the loss of the Chinchilla optimum for the \
             budget C, the cheapest model is smaller and trained longer. Computed here from \
             the fitted law above.</p>\n\
             <label>Training budget C (FLOPs): <input id=\"budget\" type=\"number\" min=\"0\" \
             step=\"any\" value=\"{:e}\"></label>\n\
             <label>Lifetime inference tokens T: <input id=\"tokens\" type=\"range\" min=\"0\" \
             max=\"100\" step=\"1\" value=\"0\"> <output id=\"tokens-value\"></output></label>\n\
             <p>Target loss (the Chinchilla optimum's): <span id=\"target-loss\"></span> \
             <span id=\"inference-status\" class=\"note\"></span></p>\n\
             <table>\n<tr><th class=\"text\"></th><th>N</th><th>D</th><th>D/N</th>\
             <th>training + inference FLOPs</th></tr>\n\
             <tr><td class=\"text\">Chinchilla optimum</td><td id=\"chin-n\"></td>\
             <td id=\"chin-d\"></td><td id=\"chin-ratio\"></td><td id=\"chin-cost\"></td></tr>\n\
             <tr><td class=\"text\">inference-aware optimum</td><td id=\"inf-n\"></td>\
             <td id=\"inf-d\"></td><td id=\"inf-ratio\"></td><td id=\"inf-cost\"></td></tr>\n\
             </table>\n<p>Cost saved by the inference-aware model: <strong id=\"saved\">\
             </strong></p>\n",
            self.budget
        );
    }

    fn figures(&self, h: &mut String) {
        h.push_str("<h2 id=\"figures\">Figures</h2>\n");
        let b64 = base64::engine::general_purpose::STANDARD;
        for f in self.figures {
            let _ = writeln!(
                h,
                "<figure id=\"fig-{name}\"><img alt=\"{name}\" src=\"data:image/svg+xml;base64,{}\">\
                 <figcaption>{} (<a href=\"{name}.svg\">SVG</a>, <a href=\"{name}.png\">PNG</a>)\
                 </figcaption></figure>",
                b64.encode(f.svg.as_bytes()),
                escape(&f.caption),
                name = f.name,
            );
        }
    }

    fn runs_table(&self, h: &mut String) {
        let finished = self.runs.iter().filter(|r| r.is_finished()).count();
        let _ = write!(
            h,
            "<h2 id=\"runs\">Runs</h2>\n<p>{} runs, {finished} finished.</p>\n\
             <div class=\"runs-table\"><table>\n<tr><th class=\"text\">run</th>\
             <th class=\"text\">status</th><th>N_total</th><th>N_nonemb</th><th>D</th>\
             <th>C_budget</th><th>lr</th><th>final val loss</th><th>wall (s)</th></tr>\n",
            self.runs.len()
        );
        for r in self.runs {
            let m = &r.meta;
            let last = |c: &[f64]| c.last().map_or("–".into(), |x| num(*x));
            let _ = writeln!(
                h,
                "<tr><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.id),
                escape(r.status.name()),
                num(m.n_total as f64),
                num(m.n_nonemb as f64),
                num(m.d as f64),
                num(m.c_budget.unwrap_or(f64::NAN)),
                num(m.lr),
                last(&r.curves.val_loss),
                last(&r.curves.wall_s),
            );
        }
        h.push_str("</table></div>\n");
    }
}

/// The inference-aware optimum at the check positions, from ladder-fit: the page's own
/// numbers must match these.
fn checks(law: &ChinchillaLaw, budget: f64) -> Vec<serde_json::Value> {
    let (n, d) = law.compute_optimal(budget);
    let target = law.loss(n, d);
    CHECK_POSITIONS
        .iter()
        .filter_map(|&s| {
            let t = tokens_at(s, d);
            let a = optimum_for_loss(law, target, t)?;
            (a.n.is_finite() && a.d.is_finite())
                .then(|| json!({"slider": s, "T": t, "n": a.n, "d": a.d}))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_slider_scale() {
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
        assert_eq!(tokens_at(0, 1e9), 0.0);
        assert!((tokens_at(1, 1e9) - 1e7).abs() < 1e-3);
        assert!((tokens_at(100, 1e9) - 1e12).abs() < 1.0);
    }

    #[test]
    fn checks_follow_the_rust_optimum() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let c = checks(&law, 1e23);
        assert_eq!(c.len(), CHECK_POSITIONS.len());
        // No inference: the Chinchilla optimum itself.
        let (n, _) = law.compute_optimal(1e23);
        let n0 = c[0]["n"].as_f64().unwrap_or(f64::NAN);
        assert!((n0 / n - 1.0).abs() < 1e-4, "{n0} vs {n}");
        // More inference tokens, smaller models.
        let ns: Vec<f64> = c.iter().filter_map(|v| v["n"].as_f64()).collect();
        assert!(ns.windows(2).all(|w| w[1] < w[0]), "{ns:?}");
    }
}
