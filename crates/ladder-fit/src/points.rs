//! Observations: one `(N, D, loss)` triple per finished training run.

use crate::FitError;

/// One observation: a model of `n` parameters trained on `d` tokens reached `loss`
/// (nats/token).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Parameters, in whichever convention the caller chose (total or non-embedding).
    pub n: f64,
    /// Training tokens.
    pub d: f64,
    /// Final loss in nats/token.
    pub loss: f64,
}

/// A validated set of observations: every value is finite and positive.
#[derive(Debug, Clone, PartialEq)]
pub struct Points(Vec<Point>);

impl Points {
    /// Validates `points`: every `n`, `d` and `loss` must be finite and > 0.
    pub fn new(points: Vec<Point>) -> Result<Self, FitError> {
        for (index, p) in points.iter().enumerate() {
            for (field, value) in [("N", p.n), ("D", p.d), ("loss", p.loss)] {
                if !(value.is_finite() && value > 0.0) {
                    return Err(FitError::BadPoint {
                        index,
                        field,
                        value,
                    });
                }
            }
        }
        Ok(Self(points))
    }

    /// Parses CSV text with a header naming at least the columns `N`, `D` and `loss`
    /// (see [`Dataset::from_csv`] for the optional ones). `source_name` labels errors.
    pub fn from_csv(text: &str, source_name: &str) -> Result<Self, FitError> {
        Ok(Dataset::from_csv(text, source_name)?.points)
    }

    /// The points as a slice.
    pub fn as_slice(&self) -> &[Point] {
        &self.0
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Points with the optional labels a CSV can carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The observations.
    pub points: Points,
    /// Budget label of each point in FLOPs: the `C` column, or `6·N·D` without one.
    pub budgets: Vec<f64>,
    /// Whether the budgets came from a `C` column.
    pub budgets_given: bool,
    /// Run label of each point: the `run` column, or the 1-based row number.
    pub runs: Vec<String>,
    /// Training curves, when the input has them (for approach 1).
    pub curves: Vec<Curve>,
}

/// How to read a CSV whose header uses other names, or holds rows to leave out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvOptions {
    /// `(name, header)`: the column named `header` in the file is `name` (`N`, `D`,
    /// `loss`, `C`, `run` or `tokens`).
    pub columns: Vec<(String, String)>,
    /// `(header, value)`: keep only rows whose column `header` is exactly `value`.
    pub filters: Vec<(String, String)>,
}

/// One run's evaluation curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Run label.
    pub run: String,
    /// Parameters.
    pub n: f64,
    /// Tokens read at each evaluation, increasing.
    pub tokens: Vec<f64>,
    /// Loss at each evaluation.
    pub loss: Vec<f64>,
}

impl Dataset {
    /// Points labelled with `6·N·D` budgets and their index as run label.
    pub fn unlabelled(points: Points) -> Self {
        let budgets = points.as_slice().iter().map(|p| 6.0 * p.n * p.d).collect();
        let runs = (1..=points.len()).map(|i| i.to_string()).collect();
        Self {
            points,
            budgets,
            budgets_given: false,
            runs,
            curves: Vec::new(),
        }
    }

    /// Parses CSV text with a header naming the columns `N`, `D` and `loss`, and
    /// optionally `C` (the budget label in FLOPs, default `6·N·D`) and `run` (a label
    /// for residuals). Other columns are ignored. `source_name` labels errors.
    ///
    /// With a `tokens` column (which needs `run`), each row is one evaluation of a run
    /// after `tokens` tokens: a run's rows must share N, D and C, its point is the row
    /// with the most tokens, and its rows make its training curve.
    pub fn from_csv(text: &str, source_name: &str) -> Result<Self, FitError> {
        Self::from_csv_with(text, source_name, &CsvOptions::default())
    }

    /// [`Dataset::from_csv`] with columns renamed and rows filtered by `options`.
    pub fn from_csv_with(
        text: &str,
        source_name: &str,
        options: &CsvOptions,
    ) -> Result<Self, FitError> {
        let err = |line: usize, message: String| FitError::Csv {
            source_name: source_name.to_string(),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines
            .next()
            .ok_or_else(|| err(1, "empty file: expected a header with N,D,loss".into()))?;
        let names: Vec<&str> = header.split(',').map(str::trim).collect();
        let header_of = |name: &str| {
            options
                .columns
                .iter()
                .find(|(canonical, _)| canonical == name)
                .map_or(name.to_string(), |(_, header)| header.clone())
        };
        let find = |name: &str| names.iter().position(|c| *c == header_of(name));
        let mut filters = Vec::new();
        for (column, value) in &options.filters {
            let c = names.iter().position(|n| n == column).ok_or_else(|| {
                err(
                    1,
                    format!("no column `{column}` to filter on in header {names:?}"),
                )
            })?;
            filters.push((c, value.as_str()));
        }
        let column = |name: &str| {
            find(name).ok_or_else(|| {
                err(
                    1,
                    format!(
                        "no column `{}` in header {names:?}: the header must name N, D and loss \
                         (or map them with --column NAME=HEADER)",
                        header_of(name)
                    ),
                )
            })
        };
        let (cn, cd, cl) = (column("N")?, column("D")?, column("loss")?);
        let (cc, cr, ct) = (find("C"), find("run"), find("tokens"));
        if ct.is_some() && cr.is_none() {
            return Err(err(
                1,
                "a `tokens` column needs a `run` column to say which curve each row belongs to"
                    .into(),
            ));
        }
        let mut tokens = Vec::new();
        let (mut points, mut budgets, mut runs) = (Vec::new(), Vec::new(), Vec::new());
        for (i, line) in lines {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if filters
                .iter()
                .any(|(c, value)| cells.get(*c).is_none_or(|cell| cell != value))
            {
                continue;
            }
            let cell = |c: usize, name: &str| {
                cells.get(c).copied().ok_or_else(|| {
                    err(
                        i + 1,
                        format!(
                            "{} cells, but column `{name}` is number {}",
                            cells.len(),
                            c + 1
                        ),
                    )
                })
            };
            let number = |c: usize, name: &str| -> Result<f64, FitError> {
                let text = cell(c, name)?;
                let value = text.parse::<f64>().map_err(|_| {
                    err(i + 1, format!("column `{name}`: `{text}` is not a number"))
                })?;
                if value.is_finite() && value > 0.0 {
                    Ok(value)
                } else {
                    Err(err(
                        i + 1,
                        format!("column `{name}`: {value} must be finite and > 0"),
                    ))
                }
            };
            let p = Point {
                n: number(cn, "N")?,
                d: number(cd, "D")?,
                loss: number(cl, "loss")?,
            };
            budgets.push(match cc {
                Some(c) => number(c, "C")?,
                None => 6.0 * p.n * p.d,
            });
            runs.push(match cr {
                Some(c) => cell(c, "run")?.to_string(),
                None => (points.len() + 1).to_string(),
            });
            if let Some(c) = ct {
                tokens.push((number(c, "tokens")?, i + 1));
            }
            points.push(p);
        }
        if points.is_empty() {
            return Err(err(1, "no data rows below the header".into()));
        }
        if ct.is_none() {
            return Ok(Self {
                points: Points::new(points)?,
                budgets,
                budgets_given: cc.is_some(),
                runs,
                curves: Vec::new(),
            });
        }
        // Group the rows into curves, in order of each run's first row.
        let mut order: Vec<&str> = Vec::new();
        for r in &runs {
            if !order.contains(&r.as_str()) {
                order.push(r);
            }
        }
        let (mut finals, mut final_budgets, mut curves) = (Vec::new(), Vec::new(), Vec::new());
        for run in &order {
            let rows: Vec<usize> = (0..runs.len()).filter(|&i| runs[i] == *run).collect();
            let first = rows[0];
            for &i in &rows {
                let (p, q) = (points[i], points[first]);
                if p.n != q.n || p.d != q.d || budgets[i] != budgets[first] {
                    return Err(err(
                        tokens[i].1,
                        format!("run `{run}` changes N, D or C from its first row (line {}): a run has one of each", tokens[first].1),
                    ));
                }
            }
            let mut rows = rows;
            rows.sort_by(|&a, &b| tokens[a].0.total_cmp(&tokens[b].0));
            let last = rows[rows.len() - 1];
            finals.push(points[last]);
            final_budgets.push(budgets[last]);
            curves.push(Curve {
                run: run.to_string(),
                n: points[last].n,
                tokens: rows.iter().map(|&i| tokens[i].0).collect(),
                loss: rows.iter().map(|&i| points[i].loss).collect(),
            });
        }
        Ok(Self {
            points: Points::new(finals)?,
            budgets: final_budgets,
            budgets_given: cc.is_some(),
            runs: order.iter().map(|r| r.to_string()).collect(),
            curves,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_columns_in_any_order() {
        let p = Points::from_csv("loss,N,extra,D\n3.5,1e6,x,2e7\n", "t.csv").unwrap();
        assert_eq!(
            p.as_slice(),
            &[Point {
                n: 1e6,
                d: 2e7,
                loss: 3.5
            }]
        );
    }

    #[test]
    fn budget_and_run_columns_are_read() {
        let d = Dataset::from_csv("N,D,loss,C,run\n1e6,2e7,3.5,1e14,r1\n", "t.csv").unwrap();
        assert_eq!(d.budgets, vec![1e14]);
        assert!(d.budgets_given);
        assert_eq!(d.runs, vec!["r1".to_string()]);
        let d = Dataset::from_csv("N,D,loss\n1e6,2e7,3.5\n", "t.csv").unwrap();
        assert_eq!(d.budgets, vec![6.0 * 1e6 * 2e7]);
        assert!(!d.budgets_given);
    }

    #[test]
    fn curves_are_grouped_by_run() {
        let text = "run,N,D,tokens,loss\na,1e6,300,100,4.0\nb,2e6,300,300,3.0\na,1e6,300,300,3.5\n\
                    a,1e6,300,200,3.7\nb,2e6,300,100,3.9\n";
        let d = Dataset::from_csv(text, "c.csv").unwrap();
        assert_eq!(d.runs, vec!["a", "b"]);
        assert_eq!(d.points.as_slice()[0].loss, 3.5);
        assert_eq!(d.curves[0].tokens, vec![100.0, 200.0, 300.0]);
        assert_eq!(d.curves[0].loss, vec![4.0, 3.7, 3.5]);
        let e = Dataset::from_csv(
            "run,N,D,tokens,loss\na,1e6,300,100,4\na,2e6,300,300,3\n",
            "c.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("`a`"), "{e}");
        let e = Dataset::from_csv("N,D,tokens,loss\n1,2,3,4\n", "c.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`run`"), "{e}");
    }

    #[test]
    fn columns_are_renamed_and_rows_filtered() {
        let text = "N_params,D_tokens,loss,excluded\n1e6,2e7,3.5,0\n1e6,3e7,9.9,1\n";
        let options = CsvOptions {
            columns: vec![
                ("N".into(), "N_params".into()),
                ("D".into(), "D_tokens".into()),
            ],
            filters: vec![("excluded".into(), "0".into())],
        };
        let d = Dataset::from_csv_with(text, "e.csv", &options).unwrap();
        assert_eq!(d.points.len(), 1);
        assert_eq!(d.points.as_slice()[0].d, 2e7);
        let e = Dataset::from_csv(text, "e.csv").unwrap_err().to_string();
        assert!(e.contains("--column"), "{e}");
        let bad = CsvOptions {
            filters: vec![("nope".into(), "0".into())],
            ..options
        };
        let e = Dataset::from_csv_with(text, "e.csv", &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`nope`"), "{e}");
    }

    #[test]
    fn empty_inputs_are_errors() {
        for text in ["", "N,D,loss\n"] {
            let e = Dataset::from_csv(text, "t.csv").unwrap_err().to_string();
            assert!(e.contains("t.csv"), "{e}");
        }
        let e = Dataset::from_csv("N,D,loss\n1,2,NaN\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("loss"), "{e}");
    }

    #[test]
    fn missing_column_is_named() {
        let e = Points::from_csv("N,loss\n1,2\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv") && e.contains("`D`"), "{e}");
    }

    #[test]
    fn bad_value_names_line_and_column() {
        let e = Points::from_csv("N,D,loss\n1,2,3\n1,-2,3\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("`D`"), "{e}");
        let e = Points::from_csv("N,D,loss\n1,2,abc\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("abc"), "{e}");
    }
}
