//! Human output, as compilers print it: `path:line:col: severity[code]: message`,
//! the source line, the rule's source, then a summary.

use super::Run;
use crate::diagnostic::Severity;
use std::fmt::Write;

pub fn render(run: &Run, color: bool) -> String {
    let mut out = String::new();
    let paint = |s: Severity, t: &str| -> String {
        if !color {
            return t.to_string();
        }
        let c = match s {
            Severity::Error => "31",
            Severity::Warning => "33",
            Severity::Information => "36",
            Severity::Hint => "32",
        };
        format!("\x1b[1;{c}m{t}\x1b[0m")
    };
    for (f, r) in run.files.iter().zip(&run.results) {
        for d in &r.diagnostics {
            let lc = f.lines.line_col(&f.text, d.span.start());
            let label = paint(
                d.severity,
                &format!("{}[{}]", d.severity.as_str(), d.code.as_str()),
            );
            let _ = writeln!(
                out,
                "{}:{}:{}: {label}: {}",
                f.path, lc.line, lc.column, d.message
            );
            let line = lc.line - 1;
            let src = &f.text[f.lines.line_start(line)..f.lines.line_end(&f.text, line)];
            if src.len() <= 200 {
                let _ = writeln!(out, "  | {src}");
            }
            if let Some(s) = &d.source {
                let _ = writeln!(out, "  = source: {} <{}>", s.cite(), s.url);
            }
        }
    }
    let s = run.summary();
    let _ = writeln!(
        out,
        "{} file{}, {} product{}: {} controlled, {} excluded, {} not controlled, {} indeterminate; {} error{}, {} warning{} (rule pack {} {}, reviewed through {})",
        run.files.len(),
        plural(run.files.len()),
        s.products,
        plural(s.products),
        s.controlled,
        s.excluded,
        s.not_controlled,
        s.indeterminate,
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        run.pack.id,
        run.pack.version,
        run.pack.reviewed_through
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
