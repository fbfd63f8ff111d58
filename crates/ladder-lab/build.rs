//! Records the resolved versions of the key dependencies (from Cargo.lock) so that every
//! run file can say which candle and hdf5-pure produced it.

use std::path::PathBuf;

fn main() {
    let lock = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut versions = Vec::new();
    for name in ["candle-core", "candle-nn", "hdf5-pure"] {
        let needle = format!("name = \"{name}\"\nversion = \"");
        let version = text
            .find(&needle)
            .and_then(|i| text[i + needle.len()..].split('"').next())
            .unwrap_or("unknown");
        versions.push(format!("{name} {version}"));
    }
    println!(
        "cargo:rustc-env=LADDER_DEP_VERSIONS={}",
        versions.join(", ")
    );
}
