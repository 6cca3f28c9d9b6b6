//! v2 export tables and fields (docs/format.md §3, §4, §4a): `[[shipment]]`
//! tables, the amounts of licences (limits) and of exports, and a product's
//! export evidence (`importer`, `end_use`, `contract`, `euc`).

use super::{Reader, type_name};
use crate::catalogue::model::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::text::Span;
use toml::de::{DeTable, DeValue};

pub const SHIPMENT_KEYS: &[&str] = &[
    "sku",
    "ship_date",
    "quantity",
    "unit",
    "value",
    "currency",
    "destination",
    "end_user",
    "importer",
    "licence",
    "end_use",
    "contract",
    "euc",
    "transfer",
    "purpose",
];

/// Reads a `[[shipment]]` table.
pub(super) fn read_shipment(r: &mut Reader, t: &DeTable, header: Span, span: Span) -> Shipment {
    let sku = r.nonempty_string(t, "sku");
    r.sku = sku.as_ref().map(|s| s.value.clone());
    r.unknown_keys(t, SHIPMENT_KEYS, "[[shipment]]");
    let ship_date = r.ship_date(t);
    let missing: Vec<&str> = ["sku", "ship_date"]
        .into_iter()
        .filter(|k| r.get(t, k).is_none())
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        r.diags.push(
            Diagnostic::new(
                Code::MissingField,
                header,
                format!("shipment is missing required {list}: a shipment records one export of a product on one date, so it needs the product's `sku` and its `ship_date`; until then it is not judged and uses no licence"),
            )
            .with_sku(r.sku.as_deref()),
        );
    }
    let mut x = Shipment {
        header,
        span,
        sku,
        ship_date,
        destination: r
            .string(t, "destination")
            .and_then(|f| r.country("destination", f)),
        end_user: r.nonempty_string(t, "end_user"),
        licence: r.nonempty_string(t, "licence"),
        transfer: r.name(t, "transfer"),
        purpose: r.name(t, "purpose"),
        facts: r.export_facts(t).unwrap_or_default(),
        broken: false,
        invalid: Vec::new(),
    };
    x.invalid = std::mem::take(&mut r.invalid);
    x
}

impl Reader<'_> {
    /// `importer`, `end_use`, `contract`, `euc` and the amounts; None when
    /// the table has none of them.
    pub(super) fn export_facts(&mut self, t: &DeTable) -> Option<ExportFacts> {
        let f = ExportFacts {
            importer: self.nonempty_string(t, "importer"),
            end_use: self.nonempty_string(t, "end_use"),
            contract: self.nonempty_string(t, "contract"),
            euc: self.nonempty_string(t, "euc"),
            amounts: self.amounts(t),
        };
        let empty = f.importer.is_none()
            && f.end_use.is_none()
            && f.contract.is_none()
            && f.euc.is_none()
            && f.amounts.is_empty();
        (!empty).then_some(f)
    }

    /// `quantity` with `unit` and `value` with `currency`. Each number
    /// needs its unit (and each unit its number): a half pair is reported
    /// and not used.
    pub(super) fn amounts(&mut self, t: &DeTable) -> Amounts {
        let mut a = Amounts {
            quantity: self.positive(t, "quantity"),
            unit: self.enum_value(t, "unit", Unit::parse, &Unit::names()),
            value: self.positive(t, "value"),
            currency: self.string(t, "currency").and_then(|f| self.currency(f)),
        };
        for (number, unit, what) in [
            ("quantity", "unit", "kg, g, t or pcs"),
            ("value", "currency", "an ISO 4217 code such as \"CNY\""),
        ] {
            let (n, u) = (self.get(t, number), self.get(t, unit));
            let (given, absent, span) = match (n, u) {
                (Some((k, _)), None) => (number, unit, self.span(k.span())),
                (None, Some((k, _))) => (unit, number, self.span(k.span())),
                _ => continue,
            };
            self.report(
                given,
                Code::MissingField,
                span,
                format!("`{given}` without `{absent}`: an amount needs both (`{unit}`: {what}); add `{absent}` or remove `{given}`. Until then it is not counted"),
            );
            match number {
                "quantity" => (a.quantity, a.unit) = (None, None),
                _ => (a.value, a.currency) = (None, None),
            }
        }
        a
    }

    /// A finite number greater than zero.
    fn positive(&mut self, t: &DeTable, key: &'static str) -> Option<Field<f64>> {
        let (k, v) = self.get(t, key)?;
        let (ks, vs) = (self.span(k.span()), self.span(v.span()));
        let n = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|x| x as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::String(s) => {
                let msg = match s.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => {
                        format!("`{key}` must be a number, not a string: write {x} without quotes")
                    }
                    _ => format!(
                        "`{key}` must be a number (e.g. 250 or 12.5), not the string \"{s}\""
                    ),
                };
                self.report(key, Code::InvalidValue, vs, msg);
                return None;
            }
            other => {
                self.report(
                    key,
                    Code::InvalidValue,
                    vs,
                    format!(
                        "`{key}` must be a number (e.g. 250 or 12.5), not {}",
                        type_name(other)
                    ),
                );
                return None;
            }
        };
        match n {
            Some(x) if x.is_finite() && x > 0.0 => Some(Field {
                value: x,
                span: vs,
                key: ks,
            }),
            _ => {
                self.report(
                    key,
                    Code::InvalidValue,
                    vs,
                    format!("`{key}` must be a number greater than 0: an amount of nothing (or less) cannot be exported or licensed; correct it or remove the field"),
                );
                None
            }
        }
    }

    /// An ISO 4217 currency code: three upper-case letters.
    fn currency(&mut self, f: Field<String>) -> Option<Field<String>> {
        if f.value.len() == 3 && f.value.bytes().all(|b| b.is_ascii_uppercase()) {
            return Some(f);
        }
        let upper = f.value.to_ascii_uppercase();
        let (msg, fix) = if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
            (
                format!("`currency` must be an upper-case ISO 4217 code: write \"{upper}\""),
                vec![upper],
            )
        } else {
            (
                format!(
                    "`{}` is not an ISO 4217 currency code (three letters, e.g. \"CNY\", \"USD\", \"EUR\")",
                    f.value
                ),
                vec![],
            )
        };
        self.report_fix("currency", Code::InvalidValue, f.span, msg, fix, true);
        None
    }
}
