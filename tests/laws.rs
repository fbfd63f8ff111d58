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
    // A total budget of 600 FLOPs with nothing served is Chinchilla's optimum, N = D = 10,
    // for both models.
    let budget = stdout(&[
        "laws",
        "inference",
        "--compute",
        "600",
        "--tokens",
        "0",
        "--fit",
        &fit,
    ]);
    assert_eq!(
        budget.matches("N 1.000e1  D 1.000e1").count(),
        2,
        "{budget}"
    );
    // Presets: Hoffmann's unrounded log E 0.5267228, log A 6.0073404, log B 6.0179186 are
    // E = 1.6934, A = 406.40, B = 410.72.
    let presets = stdout(&["laws", "presets"]);
    assert!(
        presets.contains("L = 1.6934 + 406.40/N^0.3392 + 410.72/D^0.2849"),
        "{presets}"
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
fn published_laws_beyond_chinchilla_give_hand_computed_values() {
    // Kaplan's frontier at C = 1 PF-day = 8.64e19 FLOPs: N = 1.3e9·1^0.73, D = 2e10·1^0.27,
    // D/N = 15.4; L(C_min) = 3.1e8^0.05 = exp(0.05·19.5521) = exp(0.97760) = 2.6581.
    let k = stdout(&["laws", "optimum", "--compute", "8.64e19", "--law", "kaplan"]);
    assert!(
        k.contains("N 1.300e9  D 2.000e10  D/N 15.4  L(C_min) 2.6581"),
        "{k}"
    );
    // Kaplan's joint law at N = 1e9, D = 1e11: (8.8e13/1e9)^(0.076/0.095) = 88000^0.8
    // = exp(0.8·11.38509) = 9027.9; + 5.4e13/1e11 = 540 gives 9567.9; ^0.095
    // = exp(0.095·9.16618) = 2.3888.
    let kl = stdout(&[
        "laws", "loss", "--n", "1e9", "--d", "1e11", "--law", "kaplan",
    ]);
    assert!(kl.contains("loss 2.3888"), "{kl}");
    // Muennighoff et al.'s Figure 1 model, 8.67B parameters on 178B tokens with 25B
    // unique: their code prints 2.2269634; 178/25 = 7.12 epochs.
    let m = stdout(&[
        "laws",
        "loss",
        "--n",
        "8.67e9",
        "--d",
        "178e9",
        "--unique",
        "25e9",
        "--law",
        "muennighoff",
    ]);
    assert!(
        m.contains("loss 2.2270") && m.contains("7.12 epochs"),
        "{m}"
    );
    // Its budget 6·8.67e9·178e9 = 9.259e21 is best spent, by their grid search, on 6.8B
    // parameters and 227B tokens, 9.1 epochs.
    let mo = stdout(&[
        "laws",
        "optimum",
        "--compute",
        "9.259e21",
        "--unique",
        "25e9",
        "--law",
        "muennighoff",
    ]);
    let field = |key: &str| -> f64 {
        let at = mo.find(key).unwrap_or_else(|| panic!("no {key}: {mo}")) + key.len();
        mo[at..].split_whitespace().next().unwrap().parse().unwrap()
    };
    assert!((field(" N ") / 6.8e9 - 1.0).abs() < 0.01, "{mo}");
    assert!((field(" D ") / 227e9 - 1.0).abs() < 0.01, "{mo}");
    assert!(mo.contains("9.07 epochs"), "{mo}");
}

#[test]
fn cost_and_test_time_give_hand_computed_values() {
    let dir = tempfile::tempdir().unwrap();
    let fit = toy(dir.path());
    // Toy law, N = D = 100: loss 2/10 = 0.2, Chinchilla's own model for that loss. Served
    // tokens 10·100·2 = 2000: inference 2·100·2000 = 4e5 FLOPs, training 6·100·100 = 6e4;
    // at $1e-3 per FLOP, $60 + $400 = $460. Inference is 4e5/4.6e5 = 87.0% of the FLOPs.
    let c = stdout(&[
        "laws",
        "cost",
        "--n",
        "100",
        "--d",
        "100",
        "--tokens-per-request",
        "10",
        "--requests-per-year",
        "100",
        "--years",
        "2",
        "--usd-per-flop",
        "1e-3",
        "--fit",
        &fit,
    ]);
    let row = |label: &str| {
        c.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} row: {c}"))
            .split('$')
            .skip(1)
            .map(|v| v.split_whitespace().next().unwrap().parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(row("as given"), [60.0, 400.0, 460.0], "{c}");
    assert_eq!(row("Chinchilla-optimal"), [60.0, 400.0, 460.0], "{c}");
    // Serving 2000 tokens makes a smaller, longer-trained model cheaper for that loss.
    assert!(row("inference-optimal")[2] < 460.0, "{c}");
    assert!(c.contains("inference is 87.0%"), "{c}");
    // Test time, defaults 0.2 at 1e3 tokens and 0.15 per decade: 1e4 tokens is one
    // decade on, 0.35; 1e5 is 0.50; accuracy 1 takes (1 − 0.2)/0.15 = 5.333 decades,
    // 1e3·10^5.333 = 2.154e8 tokens.
    let t = stdout(&["laws", "test-time", "--tokens", "1e4"]);
    assert!(t.contains("illustrative"), "{t}");
    assert!(
        t.contains("1.000e4     0.350") && t.contains("1.000e5     0.500"),
        "{t}"
    );
    assert!(t.contains("2.154e8"), "{t}");
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
    assert_input_error(
        &ladder(&[
            "laws", "loss", "--n", "1e9", "--d", "1e10", "--unique", "1e9",
        ]),
        &["--unique", "muennighoff"],
    );
    assert_input_error(
        &ladder(&[
            "laws",
            "inference",
            "--compute",
            "1e22",
            "--tokens",
            "1e12",
            "--law",
            "kaplan",
        ]),
        &["kaplan", "E + A/N^α + B/D^β"],
    );
    assert_input_error(
        &ladder(&[
            "laws",
            "cost",
            "--n",
            "1e9",
            "--d",
            "1e10",
            "--tokens-per-request",
            "100",
            "--requests-per-year",
            "1e6",
            "--years",
            "-1",
        ]),
        &["--years"],
    );
    assert_input_error(
        &ladder(&[
            "laws",
            "test-time",
            "--tokens",
            "1e4",
            "--anchor-accuracy",
            "2",
        ]),
        &["--anchor-accuracy"],
    );
}
