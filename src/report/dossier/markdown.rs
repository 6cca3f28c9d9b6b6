//! The dossier as Markdown: one section per application, each fact with its
//! source.

use super::{Application, Dossier, Party, amount};
use std::fmt::Write;

/// Keeps text the catalogue supplied on its line and readable as written:
/// pipes escaped (table cells), line breaks as spaces (a name cannot start a
/// heading or a list), other control, bidirectional and invisible
/// formatting characters as `\u{XXXX}` (a U+202E must not reorder the line).
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c if c.is_control()
                || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}') =>
            {
                let _ = write!(out, "\\u{{{:04X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn party(p: &Party) -> String {
    p.name.as_deref().map_or("**MISSING**".into(), cell)
}

pub fn render(d: &Dossier) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Licence-application dossier\n");
    let _ = writeln!(
        s,
        "Prepared for {} by {} {} with rule pack {} {} (reviewed through {}).\n",
        d.date,
        d.tool.name,
        d.tool.version,
        d.rule_pack.id,
        d.rule_pack.version,
        d.rule_pack.reviewed_through
    );
    let exports: usize = d.applications.iter().map(|a| a.items.len()).sum();
    let _ = writeln!(
        s,
        "Selection: {}. {} application{}, {} export{}.\n",
        d.selection,
        d.applications.len(),
        plural(d.applications.len()),
        exports,
        plural(exports)
    );
    let _ = writeln!(s, "> {}\n", d.disclaimer);
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "| # | end user | destination | items | first ship date | latest day to file | missing |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for a in &d.applications {
        let missing: Vec<&str> = a.missing.iter().map(|m| m.field).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {}{} | {} |",
            a.number,
            party(&a.end_user),
            party(&a.destination),
            a.items.len(),
            a.dates.first_ship_date.as_deref().unwrap_or("not given"),
            a.dates.latest_filing_day.as_deref().unwrap_or("-"),
            if a.dates.filing_day_passed {
                " **PASSED**"
            } else {
                ""
            },
            if missing.is_empty() {
                "nothing".into()
            } else {
                missing.join(", ")
            }
        );
    }
    s.push('\n');
    for a in &d.applications {
        application(&mut s, a);
    }
    if !d.not_included.is_empty() {
        let _ = writeln!(s, "## Not included\n");
        for l in &d.not_included {
            let _ = writeln!(
                s,
                "- `{}` ({}:{}): {}",
                cell(&l.sku),
                l.file,
                l.line,
                cell(&l.reason)
            );
        }
        s.push('\n');
    }
    let p = &d.decision_period;
    let _ = writeln!(s, "## How the dates are counted\n");
    let _ = writeln!(
        s,
        "MOFCOM decides within {} working days. Source: {}{}.\n",
        p.working_days,
        p.source.cite(),
        url(&p.source.url)
    );
    let _ = writeln!(s, "{}\n", p.counting);
    let _ = writeln!(s, "Holiday notices embedded:\n");
    for c in &p.calendars {
        let _ = writeln!(s, "- {}: {} <{}>", c.year, c.notice, c.url);
    }
    s
}

fn url(u: &str) -> String {
    if u.is_empty() {
        String::new()
    } else {
        format!(" <{u}>")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn application(s: &mut String, a: &Application) {
    let _ = writeln!(
        s,
        "## Application {}: {} ({})\n",
        a.number,
        a.end_user
            .name
            .as_deref()
            .map_or("end user not named".into(), cell),
        a.destination.name.as_deref().unwrap_or("?")
    );
    for w in &a.warnings {
        let _ = writeln!(s, "> **WARNING** {}\n", cell(w));
    }
    let _ = writeln!(s, "### Parties\n");
    let _ = writeln!(s, "| | | source |");
    let _ = writeln!(s, "|---|---|---|");
    for (label, p) in [
        ("Exporter (applicant)", &a.exporter),
        ("End user", &a.end_user),
        ("Importer (consignee)", &a.importer),
        ("Destination", &a.destination),
    ] {
        let name = match (&p.name, label) {
            (None, "Importer (consignee)") => "not given".to_string(),
            _ => party(p),
        };
        let _ = writeln!(s, "| {label} | {name} | {} |", cell(&p.source));
    }
    let _ = writeln!(
        s,
        "| Licence to apply for | {} | {} |\n",
        cell(&a.licence.title),
        cell(&a.licence.source.cite())
    );
    let _ = writeln!(s, "{}\n", a.licence.rule);
    let _ = writeln!(s, "### Dates\n");
    let dt = &a.dates;
    let _ = writeln!(
        s,
        "- First ship date: {}",
        dt.first_ship_date.as_deref().unwrap_or("**not given**")
    );
    match &dt.latest_filing_day {
        Some(l) if dt.filing_day_passed => {
            let _ = writeln!(s, "- Latest day to file: **{l} — ALREADY PASSED**");
        }
        Some(l) => {
            let _ = writeln!(s, "- Latest day to file: **{l}**");
        }
        None => {
            let _ = writeln!(s, "- Latest day to file: cannot be counted");
        }
    }
    if let Some(due) = &dt.decision_due_if_filed_on_date {
        let _ = writeln!(s, "- Decision due if filed on the dossier's date: {due}");
    }
    let _ = writeln!(s, "\n{}\n", dt.explanation);
    let _ = writeln!(s, "### Items\n");
    let _ = writeln!(
        s,
        "| SKU | product | control code | official title | quantity | value | contract | EUC | end use | ship date | catalogue |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for i in &a.items {
        let codes: Vec<String> = i
            .control_codes
            .iter()
            .map(|c| c.code.clone())
            .chain(i.uncoded.iter().cloned())
            .collect();
        let titles: Vec<String> = i
            .control_codes
            .iter()
            .map(|c| {
                if c.title_zh.is_empty() {
                    c.title.clone()
                } else {
                    format!("{} ({})", c.title, c.title_zh)
                }
            })
            .collect();
        let m = |v: Option<&str>| v.map_or("**MISSING**".into(), cell);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}:{} |",
            cell(&i.label()),
            i.name.as_deref().map_or("-".into(), cell),
            cell(&codes.join(", ")),
            cell(&titles.join("; ")),
            m(amount(i.quantity, i.unit.as_deref()).as_deref()),
            amount(i.value, i.currency.as_deref()).map_or("-".into(), |v| cell(&v)),
            m(i.contract.as_deref()),
            m(i.euc.as_deref()),
            m(i.end_use.as_deref()),
            i.ship_date.as_deref().map_or("**MISSING**".into(), cell),
            i.file,
            i.line
        );
    }
    s.push('\n');
    let _ = writeln!(s, "Sources of the control codes:\n");
    for i in &a.items {
        for c in &i.control_codes {
            let _ = writeln!(
                s,
                "- {} `{}`: {}{}",
                cell(&i.label()),
                c.code,
                c.source.cite(),
                url(&c.source.url)
            );
        }
    }
    s.push('\n');
    let _ = writeln!(s, "Why each needs a licence (the engine's findings):\n");
    for i in &a.items {
        let how = match &i.purpose {
            Some(p) => format!("{}, purpose {p}", i.transfer),
            None => i.transfer.to_string(),
        };
        let _ = writeln!(
            s,
            "- {} (evaluated on {}, {how}; licence {}):",
            cell(&i.label()),
            i.evaluated_on,
            i.licence
                .as_deref()
                .map_or("none named".into(), |l| format!("`{l}`"))
        );
        for f in &i.licence_findings {
            let _ = writeln!(s, "  - `{}`: {}", f.code, cell(&f.message));
        }
        if let Some(l) = &i.exceeds_licence {
            let _ = writeln!(
                s,
                "  - **Exceeds licence `{}`**: what it does not cover needs a new licence (or the licence amended) before it ships",
                cell(l)
            );
        }
    }
    s.push('\n');
    let _ = writeln!(s, "### Missing\n");
    if a.missing.is_empty() {
        let _ = writeln!(s, "Nothing: every field an application needs is given.\n");
    } else {
        for m in &a.missing {
            if m.skus.is_empty() {
                let _ = writeln!(s, "- `{}`: {}", m.field, m.needed_for);
            } else {
                let _ = writeln!(
                    s,
                    "- `{}` on {}: {}",
                    m.field,
                    cell(&m.skus.join(", ")),
                    m.needed_for
                );
            }
            for f in &m.findings {
                let _ = writeln!(s, "  - {}", cell(f));
            }
        }
        s.push('\n');
    }
    let _ = writeln!(s, "### Documents to attach\n");
    for (n, doc) in a.documents.iter().enumerate() {
        let _ = writeln!(s, "{}. **{}**", n + 1, doc.title);
        for c in &doc.contents {
            let _ = writeln!(s, "   - {}", cell(c));
        }
        let _ = writeln!(
            s,
            "   - Source: {}{}",
            doc.source.cite(),
            url(&doc.source.url)
        );
    }
    s.push('\n');
}
