//! `catalogue-lsp import FILE.csv`: the TOML equivalent of a CSV catalogue
//! (docs/format.md §10). Each row becomes a `[[product]]` (or `[[licence]]`,
//! `[[shipment]]`) table with one key per non-empty cell, written so that `check` gives the
//! TOML the same verdicts and codes as the CSV: a value the CSV reader
//! would reject is written as a string the TOML reader rejects the same way.
//! A file with syntax errors (ragged rows, an unclosed quote, a repeated
//! column) is not converted: which cell means what is unclear.

use super::csv::{self, CsvKind, Shape};
use super::format::toml_string;
use crate::diagnostic::{Code, Diagnostic};
use toml::de::DeValue;

/// The TOML text, or the syntax errors that stop the conversion.
pub fn to_toml(text: &str, kind: CsvKind, source: &str) -> Result<String, Vec<Diagnostic>> {
    let cat = csv::parse(text, kind);
    let errors: Vec<Diagnostic> = cat
        .all_diagnostics()
        .filter(|d| matches!(d.code, Code::SyntaxError | Code::FileTooLarge))
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let rows = csv::rows(text, 0, text.len());
    let mut out = format!("# Imported from {source} by `catalogue-lsp import`.\n");
    let Some((head, body)) = rows.split_first() else {
        return Ok(out);
    };
    let names: Vec<&str> = head.cells.iter().map(|c| c.trimmed().0).collect();
    for row in body {
        if row.cells.iter().all(|c| c.content.trim().is_empty()) {
            continue;
        }
        out.push('\n');
        out.push_str(kind.toml_header());
        out.push('\n');
        for (cell, name) in row.cells.iter().zip(&names) {
            let (value, _) = cell.trimmed();
            if name.is_empty() || value.is_empty() {
                continue;
            }
            out.push_str(&key(name));
            out.push_str(" = ");
            out.push_str(&render(name, cell));
            out.push('\n');
        }
    }
    Ok(out)
}

/// A key, bare when TOML allows it.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        toml_string(k)
    }
}

/// A date, boolean or number as written, anything else as a string.
fn literal(v: &str) -> String {
    match DeValue::parse(v).map(|x| x.into_inner()) {
        Ok(
            DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) | DeValue::Datetime(_),
        ) => v.to_string(),
        _ => toml_string(v),
    }
}

fn render(name: &str, cell: &csv::Cell) -> String {
    let (value, _) = cell.trimmed();
    match csv::shape(name) {
        Shape::Text => toml_string(value),
        Shape::Literal => literal(value),
        Shape::List => format!(
            "[{}]",
            cell.pieces()
                .iter()
                .map(|(p, _)| toml_string(p))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Shape::Composition => {
            let entries: Vec<String> = cell
                .pieces()
                .iter()
                .map(|(p, _)| match p.split_once('=') {
                    Some((k, v)) => {
                        let v = v.trim();
                        let v = match DeValue::parse(v).map(|x| x.into_inner()) {
                            Ok(DeValue::Integer(_) | DeValue::Float(_)) => v.to_string(),
                            _ => toml_string(v),
                        };
                        format!("{} = {v}", key(k.trim()))
                    }
                    // Not `key=value`: a key the TOML reader rejects too.
                    None => format!("{} = \"\"", toml_string(p)),
                })
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_tables_with_typed_values() {
        let text = "sku,name,composition,components,moulded,ship_date,hs_code,x y\nA,\"Block, \"\"N42\"\"\",Nd=29; Tb0.3Dy0.7Fe2=1,M1; M2,true,2026-06-01,0850,1\n";
        let toml = to_toml(text, CsvKind::Products, "a.catalogue.csv").unwrap();
        assert_eq!(
            toml,
            "# Imported from a.catalogue.csv by `catalogue-lsp import`.\n\n[[product]]\nsku = \"A\"\nname = \"Block, \\\"N42\\\"\"\ncomposition = { Nd = 29, \"Tb0.3Dy0.7Fe2\" = 1 }\ncomponents = [\"M1\", \"M2\"]\nmoulded = true\nship_date = 2026-06-01\nhs_code = \"0850\"\n\"x y\" = \"1\"\n"
        );
        let cat = crate::catalogue::parse(&toml);
        assert_eq!(
            cat.products[0].composition.as_ref().unwrap().entries.len(),
            2
        );
    }

    #[test]
    fn syntax_errors_stop_the_conversion() {
        let e = to_toml("sku,form\nA,magnet,extra\n", CsvKind::Products, "a").unwrap_err();
        assert_eq!(e[0].code, Code::SyntaxError);
    }
}
