//! Any string as a composition key: parsed or refused, never a panic; shares sum to 1.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(shares) = catalogue_lsp::chem::parse_formula(s) {
        let sum: f64 = shares.iter().map(|(_, x)| x).sum();
        assert!((sum - 1.0).abs() < 1e-6, "{s}: {sum}");
    }
});
