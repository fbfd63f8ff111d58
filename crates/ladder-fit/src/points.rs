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

    /// The same design (every N and D) with `law`'s own losses, noise-free.
    pub(crate) fn on_law(&self, law: &crate::ChinchillaLaw) -> Result<Self, FitError> {
        Self::new(
            self.0
                .iter()
                .map(|p| Point {
                    loss: law.loss(p.n, p.d),
                    ..*p
                })
                .collect(),
        )
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

/// What a sweep's D counts. Published ratios (Hoffmann et al.'s ≈ 20 tokens per
/// parameter) count subword tokens; a byte-level sweep's D/N is not comparable with them
/// without a bytes-per-token conversion that the sweep does not measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum TokenUnit {
    /// Tokens of the sweep's tokenizer (subwords, or a synthetic source's symbols).
    #[default]
    Tokens,
    /// Bytes (a byte-level tokenizer).
    Bytes,
}

/// A family number for each of `keys`, in order of first appearance: equal keys (a
/// run's model and seed) get equal numbers.
pub fn family_ids<K: PartialEq>(keys: impl IntoIterator<Item = K>) -> Vec<usize> {
    let mut seen: Vec<K> = Vec::new();
    keys.into_iter()
        .map(|key| match seen.iter().position(|k| *k == key) {
            Some(f) => f,
            None => {
                seen.push(key);
                seen.len() - 1
            }
        })
        .collect()
}

/// The indices of each id in `ids` (numbered in order of first appearance, as
/// [`family_ids`] numbers them), one group per id.
pub(crate) fn groups(ids: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        match out.get_mut(id) {
            Some(g) => g.push(i),
            None => out.push(vec![i]),
        }
    }
    out
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
    /// The IsoFLOP budget each point was planned for, when known: approach 2 groups the
    /// points by it whatever N counts (under the non-embedding convention, the runs of
    /// one planned budget have different `6·N·D`), and labels each group with the
    /// geometric mean of its points' `budgets`.
    pub planned: Option<Vec<f64>>,
    /// The exact entropy rate of a synthetic source (nats/token), when known: no loss,
    /// fitted or predicted, can be below it.
    pub entropy_rate: Option<f64>,
    /// What D counts: tokens, or the bytes of a byte-level sweep.
    pub unit: TokenUnit,
    /// Run label of each point: the `run` column, or the 1-based row number.
    pub runs: Vec<String>,
    /// Family of each point: runs with equal numbers share their noise (the runs of one
    /// model and seed, WSD branches of one stable phase). Each point its own family
    /// when unknown.
    pub families: Vec<usize>,
    /// Training curves, when the input has them (for approach 1).
    pub curves: Vec<Curve>,
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
    /// Seed of the run (its replicate), so that runs of one seed are told from seeds.
    pub seed: u64,
    /// Tokens read while the learning rate warmed up (0 when unknown): points up to here
    /// measure the schedule more than the model.
    pub warmup_tokens: f64,
    /// Tokens read when the learning rate started to fall: a WSD run's cooldown, or the
    /// end of a cosine run's warmup (infinite when unknown: no point counts as decayed).
    pub decay_tokens: f64,
}

impl Dataset {
    /// The points grouped by `(N, D, budget)`: runs that differ only by seed are one
    /// group; in order of each group's first point.
    pub fn replicates(&self) -> Vec<Vec<usize>> {
        let p = self.points.as_slice();
        groups(&family_ids(
            (0..p.len()).map(|i| (p[i].n, p[i].d, self.budgets[i])),
        ))
    }

    /// The points grouped by model (one `N`: every seed and budget of one size), in order
    /// of each model's first point.
    pub fn model_groups(&self) -> Vec<Vec<usize>> {
        groups(&family_ids(
            self.points.as_slice().iter().map(|p| p.n.to_bits()),
        ))
    }

    /// The points grouped by family (`families`), in order of each family's first point.
    pub fn family_groups(&self) -> Vec<Vec<usize>> {
        groups(&family_ids(self.families.iter()))
    }

    /// The points at `keep` (indices, in the order given) with their labels, families
    /// and the curves of their runs: one seed's runs out of a sweep, say.
    pub fn subset(&self, keep: &[usize]) -> Result<Self, FitError> {
        let p = self.points.as_slice();
        let runs: Vec<String> = keep.iter().map(|&i| self.runs[i].clone()).collect();
        Ok(Self {
            points: Points::new(keep.iter().map(|&i| p[i]).collect())?,
            budgets: keep.iter().map(|&i| self.budgets[i]).collect(),
            budgets_given: self.budgets_given,
            planned: self
                .planned
                .as_ref()
                .map(|planned| keep.iter().map(|&i| planned[i]).collect()),
            entropy_rate: self.entropy_rate,
            unit: self.unit,
            families: keep.iter().map(|&i| self.families[i]).collect(),
            curves: self
                .curves
                .iter()
                .filter(|c| runs.contains(&c.run))
                .cloned()
                .collect(),
            runs,
        })
    }

    /// Points labelled with `6·N·D` budgets and their index as run label.
    pub fn unlabelled(points: Points) -> Self {
        let points_len = points.len();
        let budgets = points.as_slice().iter().map(|p| 6.0 * p.n * p.d).collect();
        let runs = (1..=points.len()).map(|i| i.to_string()).collect();
        Self {
            points,
            budgets,
            budgets_given: false,
            planned: None,
            entropy_rate: None,
            unit: TokenUnit::Tokens,
            families: (0..points_len).collect(),
            runs,
            curves: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_a_law_the_design_keeps_its_n_and_d_and_takes_the_laws_losses() {
        let law = crate::ChinchillaLaw::HOFFMANN_ROUNDED;
        let points = Points::new(vec![
            Point {
                n: 1e7,
                d: 2e8,
                loss: 9.0,
            },
            Point {
                n: 3e8,
                d: 6e9,
                loss: 0.1,
            },
        ])
        .unwrap();
        let exact = points.on_law(&law).unwrap();
        for (p, q) in points.as_slice().iter().zip(exact.as_slice()) {
            assert_eq!((p.n, p.d), (q.n, q.d));
            assert_eq!(q.loss, law.loss(p.n, p.d));
        }
    }

    #[test]
    fn a_subset_keeps_each_point_with_its_labels_family_and_curve() {
        let points = Points::new(
            (1..=4)
                .map(|i| Point {
                    n: 1e4 * i as f64,
                    d: 1e6,
                    loss: 3.0 - 0.1 * i as f64,
                })
                .collect(),
        )
        .unwrap();
        let mut data = Dataset::unlabelled(points);
        data.planned = Some(vec![1.0, 2.0, 3.0, 4.0]);
        data.families = vec![7, 7, 8, 9];
        data.curves = ["1", "3"]
            .iter()
            .map(|run| Curve {
                run: run.to_string(),
                n: 1.0,
                tokens: vec![1.0],
                loss: vec![2.0],
                seed: 0,
                warmup_tokens: 0.0,
                decay_tokens: f64::INFINITY,
            })
            .collect();
        let sub = data.subset(&[3, 0]).unwrap();
        assert_eq!(sub.points.as_slice()[0], data.points.as_slice()[3]);
        assert_eq!(sub.points.as_slice()[1], data.points.as_slice()[0]);
        assert_eq!(sub.budgets, vec![data.budgets[3], data.budgets[0]]);
        assert_eq!(sub.planned, Some(vec![4.0, 1.0]));
        assert_eq!(sub.runs, vec!["4", "1"]);
        assert_eq!(sub.families, vec![9, 7]);
        // Only the curve of a kept run.
        assert_eq!(sub.curves.len(), 1);
        assert_eq!(sub.curves[0].run, "1");
        assert!(data.subset(&[]).is_ok_and(|s| s.points.is_empty()));
    }
}
