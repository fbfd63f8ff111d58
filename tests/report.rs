//! `ladder report`: every figure as valid SVG and PNG, a self-contained index.html, and
//! the CSV exports, on a small IsoFLOP sweep; bad arguments exit 2.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;

const FIGURES: [&str; 7] = [
    "curves",
    "loss_vs_n",
    "loss_vs_d",
    "isoflop",
    "frontier",
    "contours",
    "residuals",
];

/// 3 sizes x 2 IsoFLOP budgets of the micro source: approach 2 gets profiles.
fn isoflop_micro() -> String {
    MICRO_SOURCE
        .replace(
            "  { d_model = 16, n_layer = 1, n_head = 2 },",
            "  { d_model = 16, n_layer = 1, n_head = 2 },\n  { d_model = 24, n_layer = 1, n_head = 2 },",
        )
        .replace("counts = [2048, 4096, 8192]", "budgets = [2e8, 6e8]")
}

const MICRO_SOURCE: &str = include_str!("fixtures/micro.toml");

/// PNG signature, then the IHDR chunk's width and height.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let sig = b"\x89PNG\r\n\x1a\n";
    (bytes.len() > 24 && bytes.starts_with(sig) && &bytes[12..16] == b"IHDR").then(|| {
        let be =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        (be(16), be(20))
    })
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn report_writes_every_figure_the_page_and_the_exports() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "iso.toml", &isoflop_micro());
    let out = dir.path().join("sweep");
    let run = ladder(&[
        "run",
        &cfg,
        "--out",
        out.to_str().unwrap(),
        "--bootstrap",
        "0",
    ]);
    assert!(run.status.success(), "{:?}", text(&run));

    let rep = ladder(&["report", out.to_str().unwrap(), "--bootstrap", "50"]);
    let (stdout, stderr) = text(&rep);
    assert!(rep.status.success(), "{stdout}\n{stderr}");
    let report = out.join("report");
    assert!(stdout.contains("index.html"), "{stdout}");

    for name in FIGURES {
        let svg = std::fs::read_to_string(report.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}.svg is not an SVG document"
        );
        assert!(
            svg.contains("<text"),
            "{name}.svg has no text (axes, title)"
        );
        let png = std::fs::read(report.join(format!("{name}.png"))).unwrap();
        assert_eq!(png_size(&png), Some((900, 560)), "{name}.png");
    }

    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert_eq!(
        html.matches("src=\"data:image/svg+xml;base64,").count(),
        FIGURES.len()
    );
    // Self-contained: nothing is fetched from the network.
    for needle in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!html.contains(needle), "index.html fetches `{needle}`");
    }
    for id in [
        "id=\"tokens\"",
        "id=\"inf-n\"",
        "id=\"law\"",
        "id=\"checks\"",
    ] {
        assert!(html.contains(id), "index.html lacks {id}");
    }

    // runs.csv: a header and one row per run (3 sizes x 2 budgets).
    let runs = lines(&report.join("runs.csv"));
    let header: Vec<&str> = runs[0].split(',').collect();
    for col in [
        "run_id",
        "status",
        "N_total",
        "N_nonemb",
        "D",
        "C_budget",
        "final_val_loss",
    ] {
        assert!(header.contains(&col), "runs.csv lacks {col}: {header:?}");
    }
    assert_eq!(runs.len(), 1 + 6);
    // curves.csv: one row per evaluation of every run, and each run's last val_loss is
    // its final_val_loss in runs.csv.
    let curves = lines(&report.join("curves.csv"));
    assert_eq!(
        curves[0],
        "run_id,step,tokens,flops,train_loss,val_loss,lr,wall_s"
    );
    // Quoted attributes hold commas, so read the trailing numeric columns from the end:
    // final_val_loss, final_train_loss, tokens_trained, wall_s.
    assert_eq!(header.iter().rev().nth(3), Some(&"final_val_loss"));
    for row in &runs[1..] {
        let id = row.split(',').next().unwrap();
        let final_val_loss = row.rsplit(',').nth(3).unwrap();
        let last = curves
            .iter()
            .rev()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap();
        let val_loss = last.split(',').nth(5).unwrap();
        assert_eq!(val_loss, final_val_loss, "run {id}");
    }

    let fit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("fit.json")).unwrap()).unwrap();
    assert!(fit["approach3"]["E"].is_number());
    assert_eq!(fit["points"], 6);
}

/// A sweep too small to fit (one size, three runs: a probe) still gets its runs
/// exported, and the failure says why there is no page.
#[test]
fn a_sweep_too_small_to_fit_still_gets_its_exports() {
    let dir = tempfile::tempdir().unwrap();
    let one_size = MICRO_SOURCE.replace("  { d_model = 16, n_layer = 1, n_head = 2 },\n", "");
    assert_ne!(one_size, MICRO_SOURCE);
    let cfg = write(dir.path(), "probe.toml", &one_size);
    let out = dir.path().join("sweep");
    let run = ladder(&["run", &cfg, "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{:?}", text(&run));

    let rep = ladder(&["report", out.to_str().unwrap()]);
    assert_input_error(&rep, &["too few", "runs are exported", "runs.csv"]);
    let report = out.join("report");
    assert_eq!(lines(&report.join("runs.csv")).len(), 1 + 3);
    assert!(lines(&report.join("curves.csv")).len() > 3);
    assert!(!report.join("index.html").exists());
}

#[test]
fn bad_report_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    assert_input_error(
        &ladder(&["report", missing.to_str().unwrap()]),
        &["nowhere", "sweep.h5", "ladder run"],
    );
    let fake = dir.path().join("fake");
    std::fs::create_dir(&fake).unwrap();
    write(&fake, "sweep.h5", "not an HDF5 file");
    assert_input_error(&ladder(&["report", fake.to_str().unwrap()]), &["sweep.h5"]);
    assert_input_error(
        &ladder(&["report", fake.to_str().unwrap(), "--bootstrap=-3"]),
        &["--bootstrap"],
    );
}

/// The page says when approach 2's bootstrap drew the profiles' misfit
/// (results/lab-cpu-knob, whose profiles reject) and not otherwise (results/lab-cpu), and
/// how a rejected law's misfit runs across sizes.
#[test]
fn the_page_says_when_approach_2_drew_the_profiles_misfit() {
    let page = |lab: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report");
        let lab = root().join(lab);
        ladder_ok(&[
            "report",
            lab.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--bootstrap",
            "40",
        ]);
        std::fs::read_to_string(out.join("index.html")).unwrap()
    };
    let said = "Besides the seeds' noise it drew a term of SD";
    let knob = page("results/lab-cpu-knob");
    assert!(knob.contains(said));
    assert!(knob.contains("each from a parabola around the lowest size"));
    let lab_cpu = page("results/lab-cpu");
    assert!(!lab_cpu.contains(said));
    // Its law is rejected and its misfit prefers a length across sizes: the page says so.
    assert!(lab_cpu.contains("Misfit by size") && lab_cpu.contains("correlation length 0.75"));
}
