//! `ladder data`: the known corpora, a corpus checked against its manifest, and a
//! config's data once its token cache is ready.

use ladder_data::{DataError, FileCheck, Manifest};
use ladder_sweep::{DataSpec, Plan};

use super::line;

/// Every known corpus: title, source, licence, files and split rule.
pub fn corpora_text() -> Result<String, DataError> {
    let mut out = String::new();
    for name in Manifest::known() {
        let m = Manifest::find(name)?;
        line(&mut out, format!("{name}: {}", m.title));
        line(&mut out, format!("  source: {}", m.source));
        line(&mut out, format!("  licence: {}", m.licence));
        let files: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
        line(
            &mut out,
            format!("  files: {}; split: {}", files.join(", "), m.split.rule),
        );
    }
    Ok(out)
}

/// Each file's checksum against the manifest `m`.
pub fn verified_text(m: &Manifest, checks: &[FileCheck]) -> String {
    let mut out = String::new();
    for c in checks {
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
        format!("{}: ok (files and {} split)", m.name, m.split.rule),
    );
    out
}

/// A planned config's data and tokenizer (its token cache is built by planning).
pub fn prepared_text(plan: &Plan) -> String {
    let mut out = String::new();
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
    out
}
