//! Helpers that drive the real `ladder` binary.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the built binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ladder")
}

/// Runs `ladder` with `args` and returns its output.
pub fn ladder(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("ladder runs")
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `ladder` with `args`, asserts that it succeeded, and returns what it printed.
pub fn ladder_ok(args: &[&str]) -> String {
    let out = ladder(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "ladder {args:?}: {stderr}");
    stdout
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture path as a string.
pub fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Writes `body` to `dir/name` and returns its path as a string.
pub fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

/// Asserts a bad-input failure: exit code 2, no panic, and a message containing every needle.
pub fn assert_input_error(out: &Output, needles: &[&str]) {
    let (stdout, stderr) = text(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "expected `{n}` in: {stderr}");
    }
}
