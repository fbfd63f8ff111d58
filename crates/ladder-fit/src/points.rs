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
    /// (other columns are ignored). `source_name` labels errors.
    pub fn from_csv(text: &str, source_name: &str) -> Result<Self, FitError> {
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
        let column = |name: &str| {
            names.iter().position(|c| *c == name).ok_or_else(|| {
                err(
                    1,
                    format!("no column `{name}` in header {names:?}: the header must name N, D and loss"),
                )
            })
        };
        let (cn, cd, cl) = (column("N")?, column("D")?, column("loss")?);
        let mut points = Vec::new();
        for (i, line) in lines {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let field = |c: usize, name: &str| -> Result<f64, FitError> {
                let cell = cells.get(c).ok_or_else(|| {
                    err(
                        i + 1,
                        format!(
                            "{} cells, but column `{name}` is number {}",
                            cells.len(),
                            c + 1
                        ),
                    )
                })?;
                cell.parse::<f64>()
                    .map_err(|_| err(i + 1, format!("column `{name}`: `{cell}` is not a number")))
            };
            points.push(Point {
                n: field(cn, "N")?,
                d: field(cd, "D")?,
                loss: field(cl, "loss")?,
            });
        }
        Self::new(points).map_err(|e| match e {
            FitError::BadPoint {
                index,
                field,
                value,
            } => err(
                index + 2,
                format!("column `{field}`: {value} must be finite and > 0"),
            ),
            other => other,
        })
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
