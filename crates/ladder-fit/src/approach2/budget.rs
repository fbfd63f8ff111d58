//! IsoFLOP budgets: the points that share a compute budget, and the sizes within one.

/// Points that share a compute budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// The budget in FLOPs (the geometric mean of its points' labels).
    pub c: f64,
    /// Indices of its points.
    pub indices: Vec<usize>,
}

/// Groups points by budget label: sorted by `labels`, a new group starts where a label
/// exceeds the first of the current group by more than the relative `tolerance`.
pub fn group_budgets(labels: &[f64], tolerance: f64) -> Vec<Budget> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| labels[a].total_cmp(&labels[b]));
    let mut groups: Vec<Budget> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(g) if labels[i] <= g.c * (1.0 + tolerance) => g.indices.push(i),
            _ => groups.push(Budget {
                c: labels[i],
                indices: vec![i],
            }),
        }
    }
    // Label each group by the geometric mean of its members.
    for g in &mut groups {
        let mean_log =
            g.indices.iter().map(|&i| labels[i].ln()).sum::<f64>() / g.indices.len() as f64;
        g.c = mean_log.exp();
    }
    groups
}

/// The budgets of a plan: points grouped by the budget they were planned for
/// (`planned`), each group labelled with the geometric mean of its points' `labels`
/// (their compute under the fit's own FLOP count).
pub fn group_planned(planned: &[f64], labels: &[f64], tolerance: f64) -> Vec<Budget> {
    let mut groups = group_budgets(planned, tolerance);
    for g in &mut groups {
        let mean_log =
            g.indices.iter().map(|&i| labels[i].ln()).sum::<f64>() / g.indices.len() as f64;
        g.c = mean_log.exp();
    }
    groups.sort_by(|a, b| a.c.total_cmp(&b.c));
    groups
}

/// One model size within a budget: its `ln N` and the indices of its points (several
/// when runs differ only by seed).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Size {
    pub(crate) ln_n: f64,
    pub(crate) indices: Vec<usize>,
}

/// The distinct sizes among `indices` (points with equal N are one size), by `ln N`.
pub(crate) fn sizes(n: &[f64], indices: &[usize]) -> Vec<Size> {
    let mut sizes: Vec<Size> = Vec::new();
    let mut order = indices.to_vec();
    order.sort_by(|&a, &b| n[a].total_cmp(&n[b]));
    for i in order {
        match sizes.last_mut() {
            Some(s) if n[s.indices[0]] == n[i] => s.indices.push(i),
            _ => sizes.push(Size {
                ln_n: n[i].ln(),
                indices: vec![i],
            }),
        }
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_relative_tolerance() {
        let g = group_budgets(&[1e18, 1.0005e18, 3e18, 1e18, 2.9999e18], 1e-3);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].indices.len(), 3);
        assert!((g[1].c / 3e18 - 1.0).abs() < 1e-4);
    }

    #[test]
    fn planned_groups_keep_together_and_take_the_fits_labels() {
        // Two planned budgets whose runs' own C (non-embedding 6ND) spread by 2x.
        let planned = [1e12, 1e12, 1e12, 3e12, 3e12];
        let labels = [5e11, 7e11, 1e12, 2e12, 2.5e12];
        let g = group_planned(&planned, &labels, 1e-3);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].indices.len(), 3);
        assert!((g[0].c / (5e11f64 * 7e11 * 1e12).cbrt() - 1.0).abs() < 1e-12);
        assert_eq!(group_budgets(&labels, 1e-3).len(), 5);
    }

    #[test]
    fn equal_sizes_are_one_size() {
        let s = sizes(&[3.0, 1.0, 3.0, 2.0], &[0, 1, 2, 3]);
        assert_eq!(s.len(), 3);
        assert_eq!(s[2].indices, vec![0, 2]);
    }
}
