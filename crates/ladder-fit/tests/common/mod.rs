//! Shared by the tests and the benchmark: the reference data in `../shared`.

use std::path::PathBuf;

use ladder_fit::{CsvOptions, Dataset, Points};

/// `../shared` beside the repository root, or `$LADDER_SHARED`. `None` (with the reason
/// printed) when it is absent, except under `CI=true`, where absence is a failure.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LADDER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but the shared data folder {} is missing",
        dir.display()
    );
    eprintln!(
        "skipped: no shared data at {} (set LADDER_SHARED)",
        dir.display()
    );
    None
}

/// The 240 Chinchilla points that Besiroglu et al. 2024 fit (`epoch_excluded = 0`).
pub fn chinchilla_points() -> Option<Points> {
    let shared = shared_dir()?;
    let path = shared.join("reference/chinchilla_points_ND.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let options = CsvOptions {
        columns: vec![
            ("N".into(), "N_params".into()),
            ("D".into(), "D_tokens".into()),
        ],
        filters: vec![("epoch_excluded".into(), "0".into())],
        unit: None,
    };
    let points = Dataset::from_csv_with(&text, "chinchilla_points_ND.csv", &options)
        .unwrap_or_else(|e| panic!("{e}"))
        .points;
    assert_eq!(points.len(), 240);
    Some(points)
}
