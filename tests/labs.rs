//! The teaching labs' documents quote only committed numbers: every number marked in
//! docs/labs/*.md must equal, at the precision quoted, the value in the committed file
//! the marker names; every figure they show must exist; `ladder lab list` lists them.
//!
//! Markers are HTML comments right after the number, invisible when rendered:
//! - `0.052<!-- lab1-cpu/fit.json kaplan.L_N.without_e.alpha -->`: a value from a file
//!   under results/labs/ (a dotted path; numbers index arrays);
//! - `0.048–0.055<!-- seeds lab1-cpu fit.json kaplan.L_N.without_e.alpha -->`: the range
//!   over results/labs/lab1-cpu and every lab1-cpu-seed<S> (at least three seeds);
//! - a trailing `%` multiplies the value by 100 (`-3.1<!-- … rel_error % -->`).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{ladder, root, text};
use serde_json::Value;

fn labs_dir() -> PathBuf {
    root().join("docs/labs")
}

fn results() -> PathBuf {
    root().join("results/labs")
}

/// The lab documents and the instructor notes.
fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(labs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs
}

/// A number as quoted: its value and half a unit of its last digit.
fn quoted(s: &str) -> Option<(f64, f64)> {
    let s = s.replace(',', "").replace('−', "-").replace('+', "");
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().ok()?),
        None => (s.clone(), 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    let value = mantissa.parse::<f64>().ok()? * 10f64.powi(exponent);
    Some((value, 0.5 * 10f64.powi(exponent - decimals)))
}

/// The value at a dotted `path` of `json`.
fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(json, |v, key| match key.parse::<usize>() {
            Ok(i) if v.is_array() => v.get(i),
            _ => v.get(key),
        })
}

fn value_in(file: &Path, path: &str, percent: bool) -> f64 {
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
    )
    .unwrap();
    let v = lookup(&json, path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{}: no number at {path}", file.display()));
    if percent {
        100.0 * v
    } else {
        v
    }
}

/// The directories of one lab result and its seeds: `name` and `name-seed<S>`.
fn seed_dirs(name: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(results())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            f == name
                || f.strip_prefix(&format!("{name}-seed"))
                    .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    dirs.sort();
    dirs
}

fn close(quote: &str, actual: f64) -> bool {
    let (q, half) = quoted(quote).unwrap_or_else(|| panic!("`{quote}` is not a number"));
    (q - actual).abs() <= half * (1.0 + 1e-9) + 1e-12
}

/// Every marker of `text`: (the quoted text before it, the marker's words).
fn markers(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<!-- ") {
        let before = &rest[..at];
        let end = rest[at..].find("-->").unwrap() + at;
        let words: Vec<String> = rest[at + 5..end]
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let quote: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || ".,+-−–".contains(*c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if words
            .first()
            .is_some_and(|w| w.contains(".json") || w == "seeds")
        {
            found.push((quote, words));
        }
        rest = &rest[end + 3..];
    }
    found
}

#[test]
fn quoted_numbers_match_the_committed_results() {
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let name = doc.file_name().unwrap().to_string_lossy().into_owned();
        let mut in_doc = 0;
        for (quote, words) in markers(&text) {
            let percent = words.last().is_some_and(|w| w == "%");
            let words: Vec<&str> = words
                .iter()
                .map(String::as_str)
                .filter(|w| *w != "%")
                .collect();
            match words.as_slice() {
                ["seeds", lab, file, path] => {
                    let dirs = seed_dirs(lab);
                    assert!(
                        dirs.len() >= 3,
                        "{name}: `{lab}` has {} committed seeds; a spread needs at least 3",
                        dirs.len()
                    );
                    let values: Vec<f64> = dirs
                        .iter()
                        .map(|d| value_in(&d.join(file), path, percent))
                        .collect();
                    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let (qlo, qhi) = quote
                        .split_once('–')
                        .unwrap_or_else(|| panic!("{name}: `{quote}` is not a range LO–HI"));
                    assert!(
                        close(qlo, lo) && close(qhi, hi),
                        "{name}: quoted {quote} for {lab}/{file} {path}, the seeds give {lo}–{hi} ({values:?})"
                    );
                }
                [file, path] => {
                    let actual = value_in(&results().join(file), path, percent);
                    assert!(
                        close(&quote, actual),
                        "{name}: quoted {quote} for {file} {path}, the file has {actual}"
                    );
                }
                other => panic!(
                    "{name}: a marker must be `FILE PATH` or `seeds LAB FILE PATH`: {other:?}"
                ),
            }
            in_doc += 1;
        }
        assert!(
            in_doc >= 3,
            "{name}: only {in_doc} quoted numbers are tied to results"
        );
        checked += in_doc;
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn every_figure_the_labs_show_is_committed() {
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (i, _) in text.match_indices("](") {
            let target = &text[i + 2..i + 2 + text[i + 2..].find(')').unwrap()];
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let path = labs_dir().join(target.split('#').next().unwrap());
            assert!(
                path.exists(),
                "{}: links to {target}, which does not exist",
                doc.display()
            );
        }
    }
}

#[test]
fn the_markers_are_read_as_written() {
    assert_eq!(quoted("1,875"), Some((1875.0, 0.5)));
    assert_eq!(quoted("0.052").map(|q| q.0), Some(0.052));
    assert!((quoted("2.6e5").unwrap().1 - 5e3).abs() < 1e-9);
    assert!(close("−3.1", -3.12) && !close("−3.1", -3.16));
    let m = markers("α = 0.048–0.055<!-- seeds lab1-cpu fit.json a.b --> and 12<!-- lab2-cpu/fit.json x.0 %--> <!-- a comment -->");
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].0, "0.048–0.055");
    assert_eq!(m[1].0, "12");
    assert_eq!(m[1].1, ["lab2-cpu/fit.json", "x.0", "%"]);
}

#[test]
fn lab_list_names_every_lab_and_its_guide() {
    let out = ladder(&["lab", "list"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    for n in 1..=4 {
        assert!(stdout.contains(&format!("lab {n}:")), "{stdout}");
    }
    for line in stdout.lines().filter(|l| l.contains("guide:")) {
        let doc = line.split_whitespace().last().unwrap();
        assert!(root().join(doc).is_file(), "{doc} is not committed");
    }
}

#[test]
fn an_unknown_lab_is_exit_2() {
    let out = ladder(&["lab", "run", "7", "--size", "smoke"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    assert!(text(&out).1.contains("ladder lab list"));
}

#[test]
fn lab_config_prints_a_config_that_plans_with_its_seed() {
    let out = ladder(&["lab", "config", "2", "--seed", "3"]);
    let (config, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(config.contains("\nseed = 3\n"), "{config}");
    assert!(
        config.contains("name = \"lab2-isoflop-cpu-seed3\""),
        "{config}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab2.toml");
    std::fs::write(&path, &config).unwrap();
    let plan = ladder(&["plan", path.to_str().unwrap(), "--no-timing"]);
    let (stdout, stderr) = text(&plan);
    assert!(plan.status.success(), "{stderr}");
    assert!(
        stdout.contains("lab2-isoflop-cpu-seed3: 21 runs"),
        "{stdout}"
    );
    // The committed config is the one built in.
    let built_in = text(&ladder(&["lab", "config", "1"])).0;
    let file = std::fs::read_to_string(root().join("configs/labs/lab1-kaplan-cpu.toml")).unwrap();
    assert_eq!(built_in, file);
    let target = ladder(&["lab", "config", "2", "--target"]);
    assert_eq!(target.status.code(), Some(2));
    assert!(text(&target).1.contains("only lab 3"));
}
