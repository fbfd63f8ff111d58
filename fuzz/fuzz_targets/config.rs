//! The sweep config: parse any text as TOML and plan it, as `ladder plan` does. Errors
//! are the expected outcome; a panic, a hang or an allocation blow-up is a finding.
#![no_main]

use std::path::Path;

use ladder_sweep::{Plan, SweepConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let path = Path::new("fuzz/config.toml");
    if let Ok(cfg) = SweepConfig::parse(text, path) {
        let _ = Plan::new(&cfg, text, path);
    }
});
