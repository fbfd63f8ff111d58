//! The teaching labs of `docs/labs/`: each a built-in sweep (at three sizes), its fit,
//! its report and the lab's own numbers (`lab.json`), run by [`run_lab`].
//!
//! The labs' configs (`configs/labs/`) are built into the binary, so that `ladder lab
//! run` works from any directory; `ladder plan configs/labs/…` shows the same runs.

mod inference;
mod isoflop;
mod kaplan;
mod pipeline;
mod predict;

use std::path::Path;

use ladder_sweep::Plan;

use crate::{plan_text, LabError};

pub use pipeline::{run_lab, Host, LabRun};

/// How large a lab's sweep is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Size {
    /// A laptop: at most 30 minutes on 2 CPU cores.
    Cpu,
    /// One 24 GB consumer GPU: at most 10 minutes (use with --device cuda).
    Gpu,
    /// Seconds, for CI: the same commands and plots, too small to mean anything.
    Smoke,
}

impl Size {
    /// Every size, in the order of [`Lab::configs`].
    pub const ALL: [Size; 3] = [Size::Cpu, Size::Gpu, Size::Smoke];

    /// The size's name on the command line and in output directories.
    pub fn name(self) -> &'static str {
        match self {
            Size::Cpu => "cpu",
            Size::Gpu => "gpu",
            Size::Smoke => "smoke",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A config built into the binary: its path in the repository and its text.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Where it is in the repository.
    pub path: &'static str,
    /// Its text.
    pub text: &'static str,
}

macro_rules! config {
    ($file:literal) => {
        Config {
            path: concat!("configs/labs/", $file),
            text: include_str!(concat!("../../../../configs/labs/", $file)),
        }
    };
}

/// What a lab computes after its fit.
#[derive(Debug, Clone, Copy)]
pub enum Extra {
    /// Kaplan's exponents, from fit.json and fit-nonemb.json.
    Kaplan,
    /// Each IsoFLOP minimum and its tokens per parameter (lab.json).
    IsoFlop,
    /// Predict the target run (one config per size) from the fit, then train it and
    /// compare.
    Predict([Config; 3]),
    /// Inference-aware sizing with the fitted law and Chinchilla's.
    Inference,
}

/// One lab.
#[derive(Debug, Clone, Copy)]
pub struct Lab {
    /// Its number, from 1.
    pub number: usize,
    /// What it shows.
    pub title: &'static str,
    /// Its guide.
    pub doc: &'static str,
    /// The sweep per size, in the order of [`Size::ALL`].
    pub configs: [Config; 3],
    /// Also fit with non-embedding parameters (fit-nonemb.json).
    pub non_embedding: bool,
    /// What it computes after the fit.
    pub extra: Extra,
}

/// Every lab, in order.
pub const LABS: [Lab; 4] = [
    Lab {
        number: 1,
        title: "Kaplan's power laws: L(N) at a large D, L(D) at a large N",
        doc: "docs/labs/lab1-kaplan.md",
        configs: [
            config!("lab1-kaplan-cpu.toml"),
            config!("lab1-kaplan-gpu.toml"),
            config!("lab1-kaplan-smoke.toml"),
        ],
        non_embedding: true,
        extra: Extra::Kaplan,
    },
    Lab {
        number: 2,
        title: "Chinchilla IsoFLOPs: three budgets, a parabola through each",
        doc: "docs/labs/lab2-isoflop.md",
        configs: [
            config!("lab2-isoflop-cpu.toml"),
            config!("lab2-isoflop-gpu.toml"),
            config!("lab2-isoflop-smoke.toml"),
        ],
        non_embedding: false,
        extra: Extra::IsoFlop,
    },
    Lab {
        number: 3,
        title: "Approach 3 and its uncertainty: predict a larger run, then train it",
        doc: "docs/labs/lab3-approach3.md",
        configs: [
            config!("lab3-approach3-cpu.toml"),
            config!("lab3-approach3-gpu.toml"),
            config!("lab3-approach3-smoke.toml"),
        ],
        non_embedding: false,
        extra: Extra::Predict([
            config!("lab3-target-cpu.toml"),
            config!("lab3-target-gpu.toml"),
            config!("lab3-target-smoke.toml"),
        ]),
    },
    Lab {
        number: 4,
        title:
            "Inference-aware sizing: Sardana's shift and Llama 3 8B's 1,875 tokens per parameter",
        doc: "docs/labs/lab4-inference.md",
        configs: [
            config!("lab4-inference-cpu.toml"),
            config!("lab4-inference-gpu.toml"),
            config!("lab4-inference-smoke.toml"),
        ],
        non_embedding: false,
        extra: Extra::Inference,
    },
];

/// Lab `number`, or bad input listing the labs.
pub fn find_lab(number: usize) -> Result<&'static Lab, LabError> {
    LABS.iter().find(|l| l.number == number).ok_or_else(|| {
        LabError::Input(format!(
            "lab {number}: no such lab: the labs are 1 to {} (`ladder lab list`)",
            LABS.len()
        ))
    })
}

impl Lab {
    /// The lab's sweep at `size`.
    pub fn config(&self, size: Size) -> Config {
        self.configs[size.index()]
    }

    /// Lab 3's target run at `size`; bad input for the other labs.
    pub fn target(&self, size: Size) -> Result<Config, LabError> {
        match self.extra {
            Extra::Predict(targets) => Ok(targets[size.index()]),
            _ => Err(LabError::Input(format!(
                "--target: lab {} has no target run (only lab 3 has)",
                self.number
            ))),
        }
    }
}

/// `text` with its top-level `seed` set to `seed` and `-seed<S>` appended to its name,
/// comments and layout kept. Both keys must be set on their own line before any table.
fn with_seed(text: &str, seed: u64) -> Result<String, String> {
    let (mut seen_seed, mut seen_name) = (false, false);
    let mut out = String::with_capacity(text.len() + 16);
    let mut top = true;
    for l in text.lines() {
        let trimmed = l.trim_start();
        top &= !trimmed.starts_with('[');
        let key = trimmed.split('=').next().unwrap_or("").trim();
        if top && key == "seed" {
            out.push_str(&format!("seed = {seed}\n"));
            seen_seed = true;
        } else if top && key == "name" {
            let value = trimmed.split_once('=').map_or("", |(_, v)| v).trim();
            let name = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or("the name is not a plain quoted string")?;
            out.push_str(&format!("name = \"{name}-seed{seed}\"\n"));
            seen_name = true;
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    match (seen_name, seen_seed) {
        (true, true) => Ok(out),
        _ => Err("it has no top-level `name = …` and `seed = …` lines".into()),
    }
}

impl Config {
    /// The config's text, with its seed replaced when one is given.
    pub fn text(&self, seed: Option<u64>) -> Result<String, LabError> {
        match seed {
            Some(s) => with_seed(self.text, s)
                .map_err(|e| LabError::Runtime(format!("{}: cannot set the seed: {e}", self.path))),
            None => Ok(self.text.to_string()),
        }
    }

    /// The config planned, with its seed replaced when one is given. A built-in config
    /// that does not plan is a failure of ladder, not of the input.
    pub fn plan(&self, seed: Option<u64>) -> Result<Plan, LabError> {
        plan_text(&self.text(seed)?, Path::new(self.path))
            .map_err(|e| LabError::Runtime(format!("built-in config {}: {e}", self.path)))
    }
}

/// `100·x` as a signed percentage with `decimals` decimals, never `-0.0%`.
fn signed_percent(x: f64, decimals: usize) -> String {
    crate::laws::signed_percent(x, decimals)
}

/// `80% [lo, hi]` of a spread, or `no interval`.
fn ci80(spread: Option<ladder_fit::Spread>, precision: usize) -> String {
    spread.map_or_else(
        || "no interval".into(),
        |s| format!("80% [{:.p$}, {:.p$}]", s.ci80[0], s.ci80[1], p = precision),
    )
}

use crate::text::line;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_built_in_config_plans() {
        for lab in &LABS {
            let mut configs = lab.configs.to_vec();
            if let Extra::Predict(targets) = lab.extra {
                configs.extend(targets);
            }
            for config in configs {
                let plan = config.plan(None).unwrap();
                assert!(!plan.runs.is_empty(), "{}", config.path);
                let reseeded = config.plan(Some(7)).unwrap();
                assert!(reseeded.name.ends_with("-seed7"), "{}", config.path);
                assert_eq!(reseeded.runs.len(), plan.runs.len(), "{}", config.path);
            }
        }
    }

    #[test]
    fn with_seed_replaces_the_top_level_keys_only() {
        let text = "# a comment\nname = \"x\"\nseed = 0\n\n[data]\nseed = 3\n";
        let out = with_seed(text, 2).unwrap();
        assert_eq!(
            out,
            "# a comment\nname = \"x-seed2\"\nseed = 2\n\n[data]\nseed = 3\n"
        );
        assert!(with_seed("name = \"x\"\n[data]\nseed = 1\n", 2).is_err());
    }

    #[test]
    fn an_unknown_lab_is_bad_input() {
        assert!(find_lab(9).unwrap_err().is_bad_input());
    }
}
