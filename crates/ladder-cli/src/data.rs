//! `ladder data list | verify NAME PATH | prepare CONFIG`.

use std::path::PathBuf;

use anyhow::Context;
use ladder_data::Manifest;
use ladder_sweep::DataSpec;

use crate::exit::{emit, line, Failure, ResultExt};

/// Arguments of `ladder data`.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DataCommand {
    /// List the known corpora (datasets/*.toml): name, source and licence.
    List,
    /// Check a corpus file (or the directory of its files) against its manifest: size,
    /// SHA-256 and the split.
    Verify {
        /// A known corpus, e.g. gutenberg_en.
        name: String,
        /// The corpus file, or the directory holding its files.
        path: PathBuf,
    },
    /// Tokenise a config's corpus once into the token cache (BPE: train the tokenizer
    /// on the training split, save tokenizer.json beside the tokens).
    Prepare {
        /// Sweep config (TOML) whose [data] names the corpus and tokenizer.
        config: PathBuf,
    },
}

pub(crate) fn data(args: &DataArgs) -> Result<(), Failure> {
    let mut out = String::new();
    match &args.command {
        DataCommand::List => {
            for name in Manifest::known() {
                let m = Manifest::find(name).input()?;
                line(&mut out, format!("{name}: {}", m.title));
                line(&mut out, format!("  source: {}", m.source));
                line(&mut out, format!("  licence: {}", m.licence));
                let files: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
                line(
                    &mut out,
                    format!("  files: {}; split: {}", files.join(", "), m.split.rule),
                );
            }
        }
        DataCommand::Verify { name, path } => {
            let m = Manifest::find(name).input()?;
            let checks = m
                .verify(path)
                .with_context(|| format!("verifying {} as {name}", path.display()))
                .input()?;
            for c in &checks {
                let status = if c.published {
                    "matches the manifest"
                } else {
                    "no published checksum: record this one in the manifest"
                };
                line(
                    &mut out,
                    format!("{}: sha256 {} {status}", c.path.display(), c.sha256),
                );
            }
            line(
                &mut out,
                format!("{name}: ok (files and {} split)", m.split.rule),
            );
        }
        DataCommand::Prepare { config } => {
            let plan = ladder_lab::load_plan(config)?;
            line(&mut out, format!("data: {}", plan.source.describe()));
            if let DataSpec::Text { tokenizer, .. } = &plan.data {
                line(
                    &mut out,
                    format!(
                        "tokenizer {}: vocabulary {} (embedding parameters scale with it; \
                         plan and fit report N both with and without them)",
                        tokenizer.name(),
                        plan.source.vocab_size()
                    ),
                );
            }
        }
    }
    emit(&out)
}
