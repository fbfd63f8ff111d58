//! `ladder data list | verify NAME PATH | prepare CONFIG`.

use std::path::PathBuf;

use anyhow::Context;
use ladder_data::Manifest;
use ladder_lab::text::{corpora_text, prepared_text, verified_text};

use crate::exit::{emit, Failure, ResultExt};

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
    let text = match &args.command {
        DataCommand::List => corpora_text().input()?,
        DataCommand::Verify { name, path } => {
            let m = Manifest::find(name).input()?;
            let checks = m
                .verify(path)
                .with_context(|| format!("verifying {} as {name}", path.display()))
                .input()?;
            verified_text(&m, &checks)
        }
        DataCommand::Prepare { config } => prepared_text(&ladder_lab::load_plan(config)?),
    };
    emit(&text)
}
