//! Reading `(N, D, loss)` points from CSV, through the csv crate: quoted fields (a
//! `schedule` such as `"wsd(cooldown=0.2, 1-sqrt)"`) are one cell, as ladder's own
//! `runs.csv` writes them.

use crate::{Curve, Dataset, FitError, Point, Points};

/// How to read a CSV whose header uses other names, or holds rows to leave out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvOptions {
    /// `(name, header)`: the column named `header` in the file is `name` (`N`, `D`,
    /// `loss`, `C`, `run`, `tokens`, `tokenizer` or `seed`).
    pub columns: Vec<(String, String)>,
    /// `(header, value)`: keep only rows whose column `header` is exactly `value`.
    pub filters: Vec<(String, String)>,
    /// What D counts; `None`: bytes if a `tokenizer` column says `byte` on every row,
    /// else tokens.
    pub unit: Option<crate::TokenUnit>,
}

/// Where each column ladder reads sits in the header.
struct Columns {
    n: usize,
    d: usize,
    loss: usize,
    c: Option<usize>,
    run: Option<usize>,
    tokens: Option<usize>,
    tokenizer: Option<usize>,
    seed: Option<usize>,
    /// `(column, value)` a row must have to be kept.
    filters: Vec<(usize, String)>,
}

/// One data row, read: its point, budget, run label and (with a `tokens` column) the
/// tokens of its evaluation, with its line number for errors.
struct Row {
    point: Point,
    budget: f64,
    run: String,
    tokens: Option<f64>,
    /// Whether its `tokenizer` cell says `byte`.
    bytes: bool,
    /// Its `seed` cell, with a `seed` column.
    seed: Option<String>,
    line: usize,
}

/// Builds the errors of one input.
struct Errors<'a>(&'a str);

impl Errors<'_> {
    fn at(&self, line: usize, message: impl Into<String>) -> FitError {
        FitError::Csv {
            source_name: self.0.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl Columns {
    fn find(names: &[&str], options: &CsvOptions, err: &Errors) -> Result<Self, FitError> {
        let header_of = |name: &str| {
            options
                .columns
                .iter()
                .find(|(canonical, _)| canonical == name)
                .map_or(name.to_string(), |(_, header)| header.clone())
        };
        let find = |name: &str| names.iter().position(|c| *c == header_of(name));
        let column = |name: &str| {
            find(name).ok_or_else(|| {
                err.at(
                    1,
                    format!(
                        "no column `{}` in header {names:?}: the header must name N, D and loss \
                         (or map them with --column NAME=HEADER)",
                        header_of(name)
                    ),
                )
            })
        };
        let mut filters = Vec::new();
        for (name, value) in &options.filters {
            let c = names.iter().position(|n| n == name).ok_or_else(|| {
                err.at(
                    1,
                    format!("no column `{name}` to filter on in header {names:?}"),
                )
            })?;
            filters.push((c, value.clone()));
        }
        let columns = Self {
            n: column("N")?,
            d: column("D")?,
            loss: column("loss")?,
            c: find("C"),
            run: find("run"),
            tokens: find("tokens"),
            tokenizer: find("tokenizer"),
            seed: find("seed"),
            filters,
        };
        if columns.tokens.is_some() && columns.run.is_none() {
            return Err(err.at(
                1,
                "a `tokens` column needs a `run` column to say which curve each row belongs to",
            ));
        }
        Ok(columns)
    }

    /// The row of `record` (data row `index`, on `line`), or `None` when a filter
    /// leaves it out.
    fn row(
        &self,
        record: &csv::StringRecord,
        index: usize,
        line: usize,
        err: &Errors,
    ) -> Result<Option<Row>, FitError> {
        if self
            .filters
            .iter()
            .any(|(c, value)| record.get(*c) != Some(value.as_str()))
        {
            return Ok(None);
        }
        let cell = |c: usize, name: &str| {
            record.get(c).ok_or_else(|| {
                err.at(
                    line,
                    format!(
                        "{} cells, but column `{name}` is number {}",
                        record.len(),
                        c + 1
                    ),
                )
            })
        };
        let number = |c: usize, name: &str| -> Result<f64, FitError> {
            let text = cell(c, name)?;
            let value = text
                .parse::<f64>()
                .map_err(|_| err.at(line, format!("column `{name}`: `{text}` is not a number")))?;
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                Err(err.at(
                    line,
                    format!("column `{name}`: {value} must be finite and > 0"),
                ))
            }
        };
        let point = Point {
            n: number(self.n, "N")?,
            d: number(self.d, "D")?,
            loss: number(self.loss, "loss")?,
        };
        Ok(Some(Row {
            budget: match self.c {
                Some(c) => number(c, "C")?,
                None => 6.0 * point.n * point.d,
            },
            run: match self.run {
                Some(c) => cell(c, "run")?.to_string(),
                None => (index + 1).to_string(),
            },
            tokens: self.tokens.map(|c| number(c, "tokens")).transpose()?,
            bytes: self
                .tokenizer
                .is_some_and(|c| record.get(c) == Some("byte")),
            seed: self
                .seed
                .map(|c| cell(c, "seed").map(str::to_string))
                .transpose()?,
            point,
            line,
        }))
    }
}

impl Dataset {
    /// Parses CSV text with a header naming the columns `N`, `D` and `loss`, and
    /// optionally `C` (the budget label in FLOPs, default `6·N·D`) and `run` (a label
    /// for residuals). A `tokenizer` column (as in ladder's runs.csv) that says `byte` on
    /// every row makes D count bytes ([`crate::TokenUnit`]). A `seed` column (as in
    /// ladder's runs.csv) makes the runs of one N and seed a family ([`Dataset::families`]:
    /// WSD branches of one stable phase share their noise); without one every row is its
    /// own family. Other columns are ignored. `source_name` labels errors.
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
        let err = Errors(source_name);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| err.at(1, e.to_string()))?
            .clone();
        if header.iter().all(str::is_empty) {
            return Err(err.at(1, "empty file: expected a header with N,D,loss"));
        }
        let names: Vec<&str> = header.iter().collect();
        let columns = Columns::find(&names, options, &err)?;
        let mut rows = Vec::new();
        // The line a record starts on, from its byte offset: the csv crate's own line
        // count, and its offset, include the blank lines before a record.
        let line_at = |p: Option<&csv::Position>| {
            let bytes = text.as_bytes();
            let mut byte = p.map_or(0, |p| p.byte() as usize).min(bytes.len());
            while bytes.get(byte).is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                byte += 1;
            }
            1 + bytes[..byte].iter().filter(|&&b| b == b'\n').count()
        };
        for record in reader.records() {
            let record = record.map_err(|e| err.at(line_at(e.position()), e.to_string()))?;
            let line = line_at(record.position());
            if record.iter().all(str::is_empty) {
                continue;
            }
            rows.extend(columns.row(&record, rows.len(), line, &err)?);
        }
        if rows.is_empty() {
            return Err(err.at(1, "no data rows below the header"));
        }
        let unit = options.unit.unwrap_or(if rows.iter().all(|r| r.bytes) {
            crate::TokenUnit::Bytes
        } else {
            crate::TokenUnit::Tokens
        });
        let data = match columns.tokens {
            None => Self {
                points: Points::new(rows.iter().map(|r| r.point).collect())?,
                budgets: rows.iter().map(|r| r.budget).collect(),
                budgets_given: columns.c.is_some(),
                planned: None,
                entropy_rate: None,
                unit,
                families: families(&rows),
                runs: rows.into_iter().map(|r| r.run).collect(),
                curves: Vec::new(),
            },
            Some(_) => Self {
                unit,
                ..curves(rows, columns.c.is_some(), &err)?
            },
        };
        Ok(data)
    }
}

/// Each row's family: its N and seed with a `seed` column, else its own.
fn families<'r>(rows: impl IntoIterator<Item = &'r Row>) -> Vec<usize> {
    crate::family_ids(rows.into_iter().enumerate().map(|(i, r)| match &r.seed {
        Some(seed) => (r.point.n.to_bits(), seed.clone()),
        None => (i as u64, String::new()),
    }))
}

/// Rows that are evaluations, grouped into one curve per run (in order of each run's
/// first row); each run's point is its row with the most tokens.
fn curves(rows: Vec<Row>, budgets_given: bool, err: &Errors) -> Result<Dataset, FitError> {
    let mut order: Vec<&str> = Vec::new();
    for r in &rows {
        if !order.contains(&r.run.as_str()) {
            order.push(&r.run);
        }
    }
    let (mut finals, mut budgets, mut curves) = (Vec::new(), Vec::new(), Vec::new());
    let mut lasts = Vec::new();
    for run in &order {
        let mut own: Vec<&Row> = rows.iter().filter(|r| r.run == *run).collect();
        let first = own[0];
        if let Some(other) = own.iter().find(|r| {
            r.point.n != first.point.n || r.point.d != first.point.d || r.budget != first.budget
        }) {
            return Err(err.at(
                other.line,
                format!(
                    "run `{run}` changes N, D or C from its first row (line {}): a run has \
                     one of each",
                    first.line
                ),
            ));
        }
        own.sort_by(|a, b| a.tokens.unwrap_or(0.0).total_cmp(&b.tokens.unwrap_or(0.0)));
        let last = own[own.len() - 1];
        lasts.push(last);
        finals.push(last.point);
        budgets.push(last.budget);
        curves.push(Curve {
            run: run.to_string(),
            n: last.point.n,
            tokens: own.iter().map(|r| r.tokens.unwrap_or(0.0)).collect(),
            loss: own.iter().map(|r| r.point.loss).collect(),
            seed: 0,
            warmup_tokens: 0.0,
            decay_tokens: f64::INFINITY,
        });
    }
    Ok(Dataset {
        points: Points::new(finals)?,
        budgets,
        budgets_given,
        planned: None,
        entropy_rate: None,
        unit: crate::TokenUnit::Tokens,
        runs: order.iter().map(|r| r.to_string()).collect(),
        families: families(lasts),
        curves,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_columns_in_any_order() {
        let p = Dataset::from_csv("loss,N,extra,D\n3.5,1e6,x,2e7\n", "t.csv")
            .unwrap()
            .points;
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
    fn a_byte_tokenizer_column_makes_d_count_bytes() {
        use crate::TokenUnit;
        let unit = |text: &str| Dataset::from_csv(text, "t.csv").unwrap().unit;
        assert_eq!(unit("N,D,loss\n1e6,2e7,3.5\n"), TokenUnit::Tokens);
        let bytes = "N,D,loss,tokenizer\n1e6,2e7,3.5,byte\n2e6,2e7,3.4,byte\n";
        assert_eq!(unit(bytes), TokenUnit::Bytes);
        let mixed = "N,D,loss,tokenizer\n1e6,2e7,3.5,byte\n2e6,2e7,3.4,bpe-1024\n";
        assert_eq!(unit(mixed), TokenUnit::Tokens);
        // Said outright, it wins.
        let options = CsvOptions {
            unit: Some(TokenUnit::Bytes),
            ..CsvOptions::default()
        };
        let said = Dataset::from_csv_with("N,D,loss\n1e6,2e7,3.5\n", "t.csv", &options);
        assert_eq!(said.unwrap().unit, TokenUnit::Bytes);
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
            unit: None,
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
    fn a_seed_column_makes_a_models_runs_of_one_seed_a_family() {
        let text = "N,D,loss,seed\n1e6,1e7,3.5,0\n1e6,2e7,3.4,0\n1e6,1e7,3.6,1\n2e6,1e7,3.3,0\n";
        let data = Dataset::from_csv(text, "t.csv").unwrap();
        assert_eq!(data.families, vec![0, 0, 1, 2]);
        let without = Dataset::from_csv("N,D,loss\n1e6,1e7,3.5\n1e6,2e7,3.4\n", "t.csv").unwrap();
        assert_eq!(without.families, vec![0, 1]);
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
        let e = Dataset::from_csv("N,loss\n1,2\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv") && e.contains("`D`"), "{e}");
    }

    #[test]
    fn bad_value_names_line_and_column() {
        let e = Dataset::from_csv("N,D,loss\n1,2,3\n1,-2,3\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("`D`"), "{e}");
        let e = Dataset::from_csv("N,D,loss\n1,2,abc\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("abc"), "{e}");
    }

    #[test]
    fn quoted_cells_with_commas_are_one_cell() {
        // As ladder's own runs.csv writes a WSD schedule and a data description.
        let text = "run_id,schedule,N_total,D,final_val_loss,C_budget\n\
                    a,\"wsd(cooldown=0.2, 1-sqrt)\",1e6,2e7,3.5,1.2e14\n\
                    b,\"wsd(cooldown=0.2, 1-sqrt)\",2e6,1e7,3.4,1.2e14\n";
        let options = CsvOptions {
            columns: vec![
                ("N".into(), "N_total".into()),
                ("loss".into(), "final_val_loss".into()),
                ("C".into(), "C_budget".into()),
                ("run".into(), "run_id".into()),
            ],
            filters: Vec::new(),
            unit: None,
        };
        let d = Dataset::from_csv_with(text, "runs.csv", &options).unwrap();
        assert_eq!(d.runs, ["a", "b"]);
        assert_eq!(d.points.as_slice()[1].n, 2e6);
        assert_eq!(d.points.as_slice()[1].loss, 3.4);
        assert_eq!(d.budgets, [1.2e14, 1.2e14]);
    }

    #[test]
    fn a_short_row_names_its_line() {
        let e = Dataset::from_csv("N,D,loss\n1,2,3\n\n1,2\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 4") && e.contains("`loss`"), "{e}");
    }
}
