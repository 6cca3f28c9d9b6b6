//! Any text as a rule pack: loaded or refused with file and message, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Err(e) = catalogue_lsp::rules::RulePack::parse(s, "fuzz.toml") {
        assert!(e.to_string().starts_with("fuzz.toml"));
    }
});
