//! The contract's JSON report (spec §8), with added keys: per-diagnostic
//! `source`, per-product `missing` facts, per-file `rule_pack` when a file
//! uses another pack than the run's.

use super::Run;
use crate::diagnostic::Diagnostic;
use crate::engine::Verdict;
use crate::text::LineIndex;
use serde_json::{Value, json};

pub fn render(run: &Run) -> Value {
    let files: Vec<Value> = run
        .files
        .iter()
        .zip(&run.results)
        .map(|(f, r)| {
            let products: Vec<Value> = r
                .products
                .iter()
                .map(|p| {
                    let prod = &f.catalogue.products[p.index];
                    let c = &p.classification;
                    let mut v = json!({
                        "sku": p.sku,
                        "line": f.lines.line_col(&f.text, prod.header.start).line,
                        "as_of": p.as_of.to_string(),
                        "verdict": c.verdict.as_str(),
                        "control_codes": if c.verdict == Verdict::Controlled || c.verdict == Verdict::Excluded { c.codes.clone() } else { vec![] },
                        "exclusion": c.exclusion,
                        "licence": p.licence,
                    });
                    if c.verdict == Verdict::Indeterminate {
                        v["missing"] = json!(c.missing);
                    }
                    v
                })
                .collect();
            let diagnostics: Vec<Value> = r.diagnostics.iter().map(|d| diagnostic(d, &f.text, &f.lines)).collect();
            let mut v = json!({ "path": f.path, "products": products, "diagnostics": diagnostics });
            if f.pack.sha256 != run.pack.sha256 {
                v["rule_pack"] = pack(&f.pack);
            }
            v
        })
        .collect();
    json!({
        "tool": { "name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION") },
        "rule_pack": pack(&run.pack),
        "files": files,
        "summary": run.summary(),
    })
}

fn pack(p: &crate::rules::RulePack) -> Value {
    json!({ "id": p.id, "version": p.version, "sha256": p.sha256, "reviewed_through": p.reviewed_through.to_string() })
}

pub fn diagnostic(d: &Diagnostic, text: &str, lines: &LineIndex) -> Value {
    let s = lines.line_col(text, d.span.start);
    let e = lines.line_col(text, d.span.end);
    let mut v = json!({
        "code": d.code.as_str(),
        "severity": d.severity.as_str(),
        "sku": d.sku,
        "range": { "start": s, "end": e },
        "message": d.message,
    });
    if let Some(src) = &d.source {
        v["source"] = json!(src);
    }
    v
}
