//! The v2 export keys of the JSON report (docs/format.md §8): per product its
//! `exports`, per file its `licences` with limits and use.

use super::{LoadedFile, Run};
use crate::engine::exports::{Balance, Ledger, Source, Use};
use serde::Serialize;

/// One export of a product.
#[derive(Serialize)]
pub struct ExportJson<'a> {
    /// `"product"` (the product's own export) or `"shipment"`.
    kind: &'static str,
    /// The file it is written in, when another than the product's.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    /// 1-based line of its table's header.
    line: usize,
    date: String,
    quantity: Option<f64>,
    unit: Option<&'static str>,
    value: Option<f64>,
    currency: Option<&'a str>,
    licence: Option<&'a str>,
    /// The licence's use after this export (when the licence has limits).
    licence_use: Option<UseJson<'a>>,
}

/// A licence's use, in the licence's units.
#[derive(Serialize)]
pub struct UseJson<'a> {
    quantity: Option<f64>,
    unit: Option<&'static str>,
    value: Option<f64>,
    currency: Option<&'a str>,
    /// The larger used share of the limits, percent.
    share: Option<f64>,
}

impl<'a> UseJson<'a> {
    fn of(b: &'a Balance, u: &Use) -> Self {
        UseJson {
            quantity: u.quantity.map(round),
            unit: b.quantity_limit.map(|(_, u)| u.as_str()),
            value: u.value.map(round),
            currency: b.value_limit.as_ref().map(|(_, c)| c.as_str()),
            share: b.share(u).map(round),
        }
    }
}

/// Limits or what is left of them.
#[derive(Serialize)]
pub struct AmountsJson<'a> {
    quantity: Option<f64>,
    unit: Option<&'static str>,
    value: Option<f64>,
    currency: Option<&'a str>,
}

/// A licence of the file with its limits and use.
#[derive(Serialize)]
pub struct LicenceJson<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    line: usize,
    issued: Option<String>,
    expires: Option<String>,
    limits: AmountsJson<'a>,
    used: AmountsJson<'a>,
    share: Option<f64>,
    remaining: AmountsJson<'a>,
    /// How many exports name it.
    exports: usize,
}

/// Amounts in a report: three decimals are enough and keep sums readable.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The exports of product `index` of file `file`, in date order.
pub fn of_product<'a>(
    run: &'a Run,
    ledger: Option<&'a Ledger>,
    file: usize,
    index: usize,
) -> Vec<ExportJson<'a>> {
    let Some(ledger) = ledger else {
        return Vec::new();
    };
    ledger
        .exports_of((file, index))
        .filter_map(|i| {
            let e = &ledger.exports[i];
            let f: &LoadedFile = run.files.get(e.file)?;
            let (kind, header) = match e.source {
                Source::Product(p) => ("product", f.catalogue.products.get(p)?.header),
                Source::Shipment(s) => ("shipment", f.catalogue.shipments.get(s)?.header),
            };
            let balance = e.licence.as_deref().and_then(|id| ledger.balance(id));
            Some(ExportJson {
                kind,
                path: (e.file != file).then_some(f.path.as_str()),
                line: f.lines.line_of(header.start()) + 1,
                date: e.date.to_string(),
                quantity: e.quantity.map(|q| q.0),
                unit: e.quantity.map(|q| q.1.as_str()),
                value: e.value.as_ref().map(|v| v.0),
                currency: e.value.as_ref().map(|v| v.1.as_str()),
                licence: e.licence.as_deref(),
                licence_use: balance.zip(ledger.after(i)).map(|(b, u)| UseJson::of(b, u)),
            })
        })
        .collect()
}

/// The licences defined in file `file`, with their use by the workspace's exports.
pub fn licences<'a>(
    f: &'a LoadedFile,
    file: usize,
    ledger: Option<&'a Ledger>,
) -> Vec<LicenceJson<'a>> {
    f.catalogue
        .licences
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let id = l.id_str()?;
            // The balance belongs to the first definition of the id.
            let b = ledger
                .and_then(|x| x.balance(id))
                .filter(|b| b.at == (file, i));
            let limits = &l.limits;
            let q = limits.quantity();
            let v = limits.value();
            let used = b.map(|b| b.used.clone()).unwrap_or(Use {
                quantity: q.map(|_| 0.0),
                value: v.map(|_| 0.0),
            });
            let left = |limit: Option<f64>, u: Option<f64>| {
                limit.zip(u).map(|(l, u)| round((l - u).max(0.0)))
            };
            Some(LicenceJson {
                id,
                kind: l.kind.as_ref().map(|k| k.value.as_str()),
                line: f.lines.line_of(l.header.start()) + 1,
                issued: l.issued.as_ref().map(|d| d.value.to_string()),
                expires: l.expires.as_ref().map(|d| d.value.to_string()),
                limits: AmountsJson {
                    quantity: q.map(|q| q.0),
                    unit: q.map(|q| q.1.as_str()),
                    value: v.map(|v| v.0),
                    currency: v.map(|v| v.1),
                },
                used: AmountsJson {
                    quantity: used.quantity.map(round),
                    unit: q.map(|q| q.1.as_str()),
                    value: used.value.map(round),
                    currency: v.map(|v| v.1),
                },
                share: b
                    .and_then(|b| b.share(&b.used))
                    .map(round)
                    .or((q.is_some() || v.is_some()).then_some(0.0)),
                remaining: AmountsJson {
                    quantity: left(q.map(|q| q.0), used.quantity),
                    unit: q.map(|q| q.1.as_str()),
                    value: left(v.map(|v| v.0), used.value),
                    currency: v.map(|v| v.1),
                },
                exports: b.map_or(0, |b| b.exports.len()),
            })
        })
        .collect()
}
