//! `ladder laws`: every calculator subcommand against values computed by hand (in the
//! comments), and bad arguments as input errors.
mod common;

use common::*;

/// A toy law written as a fit.json: L = 1/√N + 1/√D (E = 0, A = B = 1, α = β = 1/2).
fn toy(dir: &std::path::Path) -> String {
    write(
        dir,
        "toy.json",
        r#"{"approach3": {"E": 0.0, "A": 1.0, "B": 1.0, "alpha": 0.5, "beta": 0.5}}"#,
    )
}

fn stdout(args: &[&str]) -> String {
    let out = ladder(args);
    let (so, se) = text(&out);
    assert!(out.status.success(), "{args:?}: {se}");
    so
}

#[test]
fn calculator_subcommands_give_hand_computed_values() {
    let dir = tempfile::tempdir().unwrap();
    let fit = toy(dir.path());
    // Toy optimum at C = 600: G = (αA/(βB))^(1/(α+β)) = 1, so N* = D* = √(600/6) = 10 and
    // L = 2/√10 = 0.6325.
    let o = stdout(&["laws", "optimum", "--compute", "600", "--fit", &fit]);
    assert!(
        o.contains("N 1.000e1") && o.contains("D 1.000e1") && o.contains("loss 0.6325"),
        "{o}"
    );
    // IsoFLOP at C = 600 with 3 rows: N = 1, 10, 100, D = 100, 10, 1; L = 1.1, 0.6325, 1.1.
    let iso = stdout(&[
        "laws",
        "isoflop",
        "--compute",
        "600",
        "--points",
        "3",
        "--fit",
        &fit,
    ]);
    let losses: Vec<&str> = iso
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(losses, ["1.1000", "0.6325", "1.1000"], "{iso}");
    // Loss 0.2 with no inference: N = D = (2/0.2)² = 100, 6·100·100 = 6e4 FLOPs.
    let inf = stdout(&[
        "laws",
        "inference",
        "--loss",
        "0.2",
        "--tokens",
        "0",
        "--fit",
        &fit,
    ]);
    assert!(
        inf.contains("N 1.000e2") && inf.contains("total 6.000e4"),
        "{inf}"
    );
    // Hoffmann's rounded law at N = 1e9, D = 2e10: 1.69 + 406.4/1e9^0.34 + 410.7/2e10^0.28
    // = 1.69 + 406.4/1148.15 + 410.7/766.11 = 1.69 + 0.35396 + 0.53608 = 2.58004.
    let l = stdout(&[
        "laws",
        "loss",
        "--n",
        "1e9",
        "--d",
        "2e10",
        "--law",
        "chinchilla-rounded",
    ]);
    assert!(l.contains("loss 2.5800"), "{l}");
    // √(1e12 · 1e10) = 1e11.
    let m = stdout(&["laws", "moe", "--total", "1e12", "--active", "1e10"]);
    assert!(m.contains("1.000e11"), "{m}");
    // Llama 3 8B: 15e12/8e9 = 1875 tokens per parameter.
    let models = stdout(&["laws", "models"]);
    assert!(
        models
            .lines()
            .any(|l| l.starts_with("Llama 3 8B") && l.contains("1875.0")),
        "{models}"
    );
    let claims = root().join("docs/claims.toml");
    let c = stdout(&["laws", "claims", "--file", claims.to_str().unwrap()]);
    assert!(
        c.lines()
            .any(|l| l.starts_with("does not hold") && l.contains("200x")),
        "{c}"
    );
    assert!(
        c.lines()
            .any(|l| l.starts_with("holds") && l.contains("about 18")),
        "{c}"
    );
}

#[test]
fn bad_arguments_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert_input_error(
        &ladder(&["laws", "optimum", "--compute", "-1e20"]),
        &["--compute"],
    );
    assert_input_error(
        &ladder(&["laws", "optimum", "--compute", "1e20", "--law", "gpt5"]),
        &["gpt5", "chinchilla"],
    );
    let bad = write(dir.path(), "bad.json", r#"{"approach3": {"E": "x"}}"#);
    assert_input_error(
        &ladder(&["laws", "loss", "--n", "1e9", "--d", "1e10", "--fit", &bad]),
        &["bad.json", "approach3.E"],
    );
    let junk = write(dir.path(), "junk.json", "not json");
    assert_input_error(
        &ladder(&["laws", "optimum", "--compute", "1e20", "--fit", &junk]),
        &["junk.json"],
    );
    assert_input_error(
        &ladder(&["laws", "moe", "--total", "1e9", "--active", "1e10"]),
        &["--active"],
    );
    assert_input_error(
        &ladder(&["laws", "inference", "--tokens", "1e12"]),
        &["--compute", "--loss"],
    );
}
