//! Human output, as compilers print it: `path:line:col: severity[code] SKU: message`
//! (the SKU when the diagnostic concerns a product), the source line, the
//! rule's source; then the products judged not controlled (they carry no
//! diagnostic), what the search skipped and why, and a summary.

use super::{Diagnostics, Run, Summary};
use crate::diagnostic::Severity;
use crate::engine::Verdict;
use std::fmt::Write as _;

/// A SKU as shown in a line: control, bidirectional and invisible
/// formatting characters escaped (a U+202E must not reorder the line).
pub fn sku_shown(sku: &str) -> String {
    let mut out = String::with_capacity(sku.len());
    for c in sku.chars() {
        let hidden = c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}');
        if hidden {
            let _ = write!(out, "\\u{{{:04X}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    crate::fsread::shown_str(&out)
}

/// The report as a string (what [`write`] writes).
pub fn render(run: &Run, color: bool) -> String {
    let mut out = Vec::new();
    // Writing to a Vec fails only for lack of memory, which aborts anyway.
    let _ = write(run, color, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the report line by line (a million products make 400 MB of it).
pub fn write(run: &Run, color: bool, out: &mut impl std::io::Write) -> std::io::Result<()> {
    write_from(run, run, color, out)
}

/// [`write`] with the diagnostics from `diags` (`check`'s stream: each
/// diagnostic is written as it is computed).
pub fn write_from(
    run: &Run,
    diags: &dyn Diagnostics,
    color: bool,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
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
    // The human report lists no exports.
    diags.release_ledger();
    // The products are counted after the diagnostics: `check` may classify
    // them as it computes those.
    let mut sum = Summary::default();
    // Products judged not controlled carry no diagnostic: listed after all
    // the diagnostics, so that every product of the run appears by its SKU;
    // their lines are written while the file's text is at hand, which
    // `check` read again for this file only and which goes with it.
    let mut not_controlled = String::new();
    for (i, f) in run.files.iter().enumerate() {
        let text = diags.text(run, i)?;
        diags.each(i, &mut |d| {
            sum.count(d);
            let lc = f.lines.line_col(&text, d.span.start());
            let label = paint(
                d.severity,
                &format!("{}[{}]", d.severity.as_str(), d.code.as_str()),
            );
            let sku = d.sku.as_deref().map(|s| format!(" {}", sku_shown(s)));
            writeln!(
                out,
                "{}:{}:{}: {label}{}: {}",
                f.path,
                lc.line,
                lc.column,
                sku.unwrap_or_default(),
                d.full_message()
            )?;
            let line = lc.line - 1;
            let src = &text[f.lines.line_start(line)..f.lines.line_end(&text, line)];
            if src.len() <= 200 {
                writeln!(out, "  | {src}")?;
            }
            if let Some(s) = &d.source {
                writeln!(out, "  = source: {} <{}>", s.cite(), s.url)?;
            }
            Ok(())
        })?;
        // (`check` has the file's products once its diagnostics were handed out.)
        diags.with_products(run, i, &mut |products| {
            sum.count_products(products);
            for p in products
                .iter()
                .filter(|p| p.verdict() == Verdict::NotControlled)
            {
                let Some(prod) = f.catalogue.products.get(p.index) else {
                    continue;
                };
                let lc = f.lines.line_col(&text, prod.header.start());
                let _ = writeln!(
                    not_controlled,
                    "  {}:{}:{}: {}",
                    f.path,
                    lc.line,
                    lc.column,
                    p.sku.as_deref().map_or("(no sku)".into(), sku_shown)
                );
            }
            Ok(())
        })?;
    }
    if !not_controlled.is_empty() {
        writeln!(out, "not controlled (no listed item matches):")?;
        out.write_all(not_controlled.as_bytes())?;
    }
    for n in crate::source::skip_notes(&run.skipped) {
        writeln!(out, "{n}")?;
    }
    writeln!(
        out,
        "{} file{}, {} product{}: {} controlled, {} excluded, {} not controlled, {} indeterminate; {} error{}, {} warning{} (rule pack {} {}, reviewed through {})",
        run.files.len(),
        plural(run.files.len()),
        sum.products,
        plural(sum.products),
        sum.controlled,
        sum.excluded,
        sum.not_controlled,
        sum.indeterminate,
        sum.errors,
        plural(sum.errors),
        sum.warnings,
        plural(sum.warnings),
        run.pack.id,
        run.pack.version,
        run.pack.reviewed_through
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
