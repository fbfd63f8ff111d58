//! Regression checks of a fit against a baseline: each entry names a quantity of
//! `fit.json` by its dotted path and says how close it must be to an expected value.
//! `ladder check` prints the table and exits 1 when any entry fails.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// A baseline file: a list of checks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The checks, in order.
    pub check: Vec<Check>,
}

/// One check. Exactly one criterion must be set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Dotted path into fit.json, e.g. `approach3.alpha` or `tokens_per_param.-1.ratio`
    /// (a number indexes a list; negative numbers count from the end).
    pub key: String,
    /// The expected value (for `abs_tol`, `rel_tol` and `within`).
    pub expected: Option<f64>,
    /// Pass if `|value − expected| ≤ abs_tol`.
    pub abs_tol: Option<f64>,
    /// Pass if `|value − expected| ≤ rel_tol·|expected|`.
    pub rel_tol: Option<f64>,
    /// Pass if `expected` lies inside the fit's own interval of this quantity: `ci80`
    /// or `ci95` (the interval is found by putting its name before the last part of
    /// `key`: `approach3.alpha` → `approach3.ci95.alpha`).
    pub within: Option<String>,
    /// Pass if `value ≤ at_most`.
    pub at_most: Option<f64>,
    /// Pass if `value ≥ at_least`.
    pub at_least: Option<f64>,
    /// Pass if the quantity's interval (see `interval`) spans at most this factor,
    /// `hi/lo ≤ max_ratio`: the fit must be informative, not only centred right.
    pub max_ratio: Option<f64>,
    /// Pass if the quantity's interval is at most this wide, `hi − lo ≤ max_width`.
    pub max_width: Option<f64>,
    /// The interval `max_ratio` and `max_width` read: `ci80` or `ci95` (default).
    pub interval: Option<String>,
}

/// A baseline entry that cannot be evaluated: bad input, not a regression.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The entry does not set exactly one criterion, or lacks `expected`.
    #[error("check {index} (`{key}`): {message}")]
    BadEntry {
        /// 1-based position in the baseline.
        index: usize,
        /// The entry's key.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The key is not in the fit, or is not a number.
    #[error("check {index}: `{key}` is not a number in the fit ({message})")]
    MissingKey {
        /// 1-based position in the baseline.
        index: usize,
        /// The path that was looked up.
        key: String,
        /// Where the lookup stopped.
        message: String,
    },
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The key checked.
    pub key: String,
    /// Its value in the fit.
    pub value: f64,
    /// The criterion, as text (`0.34731 ± 0.5%`, `inside ci95 [0.317, 0.373]`, …).
    pub criterion: String,
    /// Whether it passed.
    pub pass: bool,
}

/// Looks up a dotted path in `json`.
fn lookup<'a>(json: &'a Value, key: &str) -> Result<&'a Value, String> {
    let mut cur = json;
    for part in key.split('.') {
        cur = match cur {
            Value::Object(map) => map
                .get(part)
                .ok_or_else(|| format!("no `{part}`; there are: {}", keys(map)))?,
            Value::Array(list) => {
                let i: i64 = part
                    .parse()
                    .map_err(|_| format!("`{part}` indexes a list: use a number"))?;
                let idx = if i < 0 { list.len() as i64 + i } else { i };
                usize::try_from(idx)
                    .ok()
                    .and_then(|i| list.get(i))
                    .ok_or_else(|| format!("index {i} is outside a list of {}", list.len()))?
            }
            _ => return Err(format!("`{part}` is below a plain value")),
        };
    }
    Ok(cur)
}

fn keys(map: &serde_json::Map<String, Value>) -> String {
    map.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn number(json: &Value, key: &str, index: usize) -> Result<f64, CheckError> {
    let missing = |message: String| CheckError::MissingKey {
        index,
        key: key.to_string(),
        message,
    };
    lookup(json, key)
        .map_err(missing)?
        .as_f64()
        .ok_or_else(|| missing("not a number".into()))
}

/// The interval `ci` (`ci80` or `ci95`) of the quantity at `key`: at
/// `head.ci.last` (`approach3.ci95.alpha` for `approach3.alpha`) or, for a quantity with a
/// spread of its own, at `key_spread.ci` (`tokens_per_param.-1.ratio_spread.ci80`). The
/// outer error is a bad entry, the inner a missing interval.
fn interval(
    fit: &Value,
    key: &str,
    ci: &str,
    index: usize,
) -> Result<Result<[f64; 2], CheckError>, String> {
    if ci != "ci80" && ci != "ci95" {
        return Err("the interval must be \"ci80\" or \"ci95\"".into());
    }
    let (head, last) = key.rsplit_once('.').unwrap_or(("", key));
    let beside = if head.is_empty() {
        format!("{ci}.{last}")
    } else {
        format!("{head}.{ci}.{last}")
    };
    let own = format!("{key}_spread.{ci}");
    let path = if lookup(fit, &own).is_ok() {
        own
    } else {
        beside
    };
    let bound = |i: usize| number(fit, &format!("{path}.{i}"), index);
    Ok(bound(0).and_then(|lo| Ok([lo, bound(1)?])))
}

/// Evaluates every check of `baseline` on `fit`.
pub fn run_checks(fit: &Value, baseline: &Baseline) -> Result<Vec<Outcome>, CheckError> {
    baseline
        .check
        .iter()
        .enumerate()
        .map(|(i, c)| evaluate(fit, c, i + 1))
        .collect()
}

fn evaluate(fit: &Value, c: &Check, index: usize) -> Result<Outcome, CheckError> {
    let bad = |message: &str| CheckError::BadEntry {
        index,
        key: c.key.clone(),
        message: message.to_string(),
    };
    let set = [
        c.abs_tol.is_some(),
        c.rel_tol.is_some(),
        c.within.is_some(),
        c.at_most.is_some(),
        c.at_least.is_some(),
        c.max_ratio.is_some(),
        c.max_width.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set != 1 {
        return Err(bad(
            "set exactly one of abs_tol, rel_tol, within, at_most, at_least, max_ratio, \
             max_width",
        ));
    }
    let value = number(fit, &c.key, index)?;
    let expected = || {
        c.expected
            .ok_or_else(|| bad("this criterion needs `expected`"))
    };
    let (criterion, pass) = if let Some(tol) = c.abs_tol {
        let e = expected()?;
        (format!("{e} ± {tol}"), (value - e).abs() <= tol)
    } else if let Some(tol) = c.rel_tol {
        let e = expected()?;
        (
            format!("{e} ± {}%", 100.0 * tol),
            (value - e).abs() <= tol * e.abs(),
        )
    } else if let Some(ci) = &c.within {
        let e = expected()?;
        let [lo, hi] = interval(fit, &c.key, ci, index).map_err(|m| bad(&m))??;
        (
            format!("{e} inside {ci} [{lo:.6}, {hi:.6}]"),
            lo <= e && e <= hi,
        )
    } else if let Some(max) = c.max_ratio.or(c.max_width) {
        let ci = c.interval.as_deref().unwrap_or("ci95");
        let [lo, hi] = interval(fit, &c.key, ci, index).map_err(|m| bad(&m))??;
        if c.max_ratio.is_some() {
            let ratio = hi / lo;
            (
                format!("{ci} [{lo:.4e}, {hi:.4e}] spans ×{ratio:.3} ≤ ×{max}"),
                lo > 0.0 && ratio <= max,
            )
        } else {
            (
                format!("{ci} [{lo:.6}, {hi:.6}] wide {:.6} ≤ {max}", hi - lo),
                hi - lo <= max,
            )
        }
    } else if let Some(max) = c.at_most {
        (format!("≤ {max}"), value <= max)
    } else if let Some(min) = c.at_least {
        (format!("≥ {min}"), value >= min)
    } else {
        unreachable!("exactly one criterion is set")
    };
    Ok(Outcome {
        key: c.key.clone(),
        value,
        criterion,
        pass,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit() -> Value {
        serde_json::json!({
            "approach3": {"alpha": 0.35, "objective": 0.001, "ci95": {"alpha": [0.32, 0.37]}},
            "tokens_per_param": [
                {"ratio": 25.0},
                {"ratio": 20.5, "ratio_spread": {"ci80": [10.0, 60.0], "ci95": [5.0, 90.0]}}
            ]
        })
    }

    fn check(key: &str) -> Check {
        Check {
            key: key.into(),
            expected: None,
            abs_tol: None,
            rel_tol: None,
            within: None,
            at_most: None,
            at_least: None,
            max_ratio: None,
            max_width: None,
            interval: None,
        }
    }

    #[test]
    fn each_criterion_passes_and_fails() {
        let cases = [
            (
                Check {
                    expected: Some(0.347),
                    abs_tol: Some(0.005),
                    ..check("approach3.alpha")
                },
                true,
            ),
            (
                Check {
                    expected: Some(0.30),
                    rel_tol: Some(0.1),
                    ..check("approach3.alpha")
                },
                false,
            ),
            (
                Check {
                    expected: Some(0.34),
                    within: Some("ci95".into()),
                    ..check("approach3.alpha")
                },
                true,
            ),
            (
                Check {
                    expected: Some(0.30),
                    within: Some("ci95".into()),
                    ..check("approach3.alpha")
                },
                false,
            ),
            (
                Check {
                    at_most: Some(0.0009),
                    ..check("approach3.objective")
                },
                false,
            ),
            (
                Check {
                    at_least: Some(20.0),
                    ..check("tokens_per_param.-1.ratio")
                },
                true,
            ),
            // An informative fit: D*/N*'s 80% interval spans ×6, its 95% ×18.
            (
                Check {
                    max_ratio: Some(8.0),
                    interval: Some("ci80".into()),
                    ..check("tokens_per_param.-1.ratio")
                },
                true,
            ),
            (
                Check {
                    max_ratio: Some(8.0),
                    ..check("tokens_per_param.-1.ratio")
                },
                false,
            ),
            (
                Check {
                    max_width: Some(0.04),
                    ..check("approach3.alpha")
                },
                false,
            ),
            (
                Check {
                    max_width: Some(0.06),
                    ..check("approach3.alpha")
                },
                true,
            ),
        ];
        for (c, pass) in cases {
            let baseline = Baseline {
                check: vec![c.clone()],
            };
            let out = run_checks(&fit(), &baseline).unwrap();
            assert_eq!(out[0].pass, pass, "{c:?}: {out:?}");
        }
    }

    #[test]
    fn bad_entries_are_errors_not_failures() {
        let two = Check {
            expected: Some(1.0),
            abs_tol: Some(1.0),
            rel_tol: Some(1.0),
            ..check("approach3.alpha")
        };
        let missing = Check {
            at_most: Some(1.0),
            ..check("approach3.gamma")
        };
        let no_expected = Check {
            abs_tol: Some(1.0),
            ..check("approach3.alpha")
        };
        for c in [two, missing, no_expected] {
            let e = run_checks(&fit(), &Baseline { check: vec![c] })
                .unwrap_err()
                .to_string();
            assert!(e.contains("check 1"), "{e}");
        }
    }
}
