//! The contract's JSON report (docs/format.md §8), streamed to the writer without an
//! intermediate tree. Added keys: per-diagnostic `source`, per-product
//! `missing` facts for indeterminate verdicts, per-file `rule_pack` when a
//! file uses another pack than the run's, `reviewed_through` in `rule_pack`.

use super::{Diagnostics, LoadedFile, Run, Summary};
use crate::diagnostic::{Diagnostic, SourceRef};
use crate::engine::{ProductResult, Verdict};

use crate::rules::RulePack;
use crate::text::LineCol;
use serde::Serialize;
use serde::ser::{Error as _, SerializeSeq, Serializer};
use std::cell::Cell;
use std::io::Write;

#[derive(Serialize)]
struct Report<'a> {
    tool: Tool,
    rule_pack: Pack<'a>,
    parties: Parties<'a>,
    files: Files<'a>,
    /// Counted while `files` is written (its diagnostics are streamed).
    summary: Late<'a>,
}

/// The summary as counted by the time it is written.
struct Late<'a>(&'a Cell<Summary>);

impl Serialize for Late<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.get().serialize(s)
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
pub(crate) struct Pack<'a> {
    id: &'a str,
    version: &'a str,
    sha256: &'a str,
    reviewed_through: String,
}

impl<'a> Pack<'a> {
    pub(crate) fn of(p: &'a RulePack) -> Self {
        Pack {
            id: &p.id,
            version: &p.version,
            sha256: &p.sha256,
            reviewed_through: p.reviewed_through.to_string(),
        }
    }
}

/// The party list names were screened against (contract §8 v2).
#[derive(Serialize)]
struct Parties<'a> {
    id: &'a str,
    version: &'a str,
    sha256: &'a str,
    reviewed_through: String,
}

struct Files<'a>(&'a Run, &'a dyn Diagnostics, &'a Cell<Summary>);

impl Serialize for Files<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let run = self.0;
        let mut seq = s.serialize_seq(Some(run.files.len()))?;
        for (i, f) in run.files.iter().enumerate() {
            seq.serialize_element(&File {
                path: &f.path,
                rule_pack: (f.pack.sha256 != run.pack.sha256).then(|| Pack::of(&f.pack)),
                products: Products(run, i, self.1),
                licences: Licences(f, i, self.1),
                diagnostics: Diags(f, i, self.1, self.2, i + 1 == run.files.len(), run),
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct File<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_pack: Option<Pack<'a>>,
    products: Products<'a>,
    /// v2 §8: the licences defined in this file, their limits and use.
    licences: Licences<'a>,
    diagnostics: Diags<'a>,
}

/// File `.1`'s products, with their exports from `.2`'s ledger.
struct Products<'a>(&'a Run, usize, &'a dyn Diagnostics);

impl Serialize for Products<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (run, i) = (self.0, self.1);
        let (f, r) = (&run.files[i], &run.results[i]);
        let ledger = self.2.ledger();
        let mut seq = s.serialize_seq(Some(r.products.len()))?;
        for p in &r.products {
            let mut out = Product::of(f, p);
            out.exports = super::exports::of_product(run, ledger.as_deref(), i, p.index);
            seq.serialize_element(&out)?;
        }
        seq.end()
    }
}

/// The licences defined in file `.1`, from `.2`'s ledger (read as they
/// are written: nothing holds the ledger after them).
struct Licences<'a>(&'a LoadedFile, usize, &'a dyn Diagnostics);

impl Serialize for Licences<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ledger = self.2.ledger();
        super::exports::licences(self.0, self.1, ledger.as_deref()).serialize(s)
    }
}

#[derive(Serialize)]
struct Product<'a> {
    sku: Option<&'a str>,
    line: usize,
    as_of: String,
    verdict: &'static str,
    control_codes: &'a [String],
    exclusion: Option<&'a str>,
    licence: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<&'a [String]>,
    /// Contract v2 §6: unconfirmed statuses the verdict rests on.
    assumptions: Vec<Assumption<'a>>,
    /// Contract v2 §4a, §8: its exports in date order.
    exports: Vec<super::exports::ExportJson<'a>>,
}

/// An unconfirmed status a verdict rests on (contract v2 §6).
#[derive(Serialize)]
struct Assumption<'a> {
    instrument: &'a str,
    status: &'static str,
    /// The scheduled end of the suspension, after which no source confirms the status.
    suspension_ended: Option<String>,
    /// The codes that rest on it.
    control_codes: &'a [String],
    /// What is assumed, the other reading and what the sources say.
    text: Option<String>,
    other_reading: Option<OtherReading<'a>>,
}

#[derive(Serialize)]
struct OtherReading<'a> {
    verdict: &'static str,
    control_codes: &'a [String],
}

impl<'a> Product<'a> {
    fn of(f: &'a LoadedFile, p: &'a ProductResult) -> Self {
        let c = &p.classification;
        let header = f.catalogue.products[p.index].header.start();
        Product {
            sku: p.sku.as_deref(),
            line: f.lines.line_of(header) + 1,
            as_of: p.as_of.to_string(),
            verdict: c.verdict.as_str(),
            control_codes: if matches!(c.verdict, Verdict::Controlled | Verdict::Excluded) {
                &c.codes
            } else {
                &[]
            },
            exclusion: c.exclusion.as_deref(),
            licence: p.licence.as_deref(),
            missing: (c.verdict == Verdict::Indeterminate).then_some(c.missing.as_slice()),
            assumptions: c
                .assumptions
                .iter()
                .map(|a| Assumption {
                    instrument: f.pack.instruments.get(a.instrument).map_or("", |i| &i.id),
                    status: a.status.name(),
                    suspension_ended: match a.status {
                        crate::rules::Status::Unconfirmed { ended, .. } => Some(ended.to_string()),
                        _ => None,
                    },
                    control_codes: &a.codes,
                    text: f.pack.assumption_text(a.instrument, a.status),
                    other_reading: c.other_reading.as_ref().map(|o| OtherReading {
                        verdict: o.verdict.as_str(),
                        control_codes: &o.codes,
                    }),
                })
                .collect(),
            exports: Vec::new(),
        }
    }
}

/// File `.1`'s diagnostics as `.2` hands them, each counted into `.3`;
/// `.4`: the last file (the ledger is read no more).
struct Diags<'a>(
    &'a LoadedFile,
    usize,
    &'a dyn Diagnostics,
    &'a Cell<Summary>,
    bool,
    &'a Run,
);

impl Serialize for Diags<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (f, file, diags, sum) = (self.0, self.1, self.2, self.3);
        if self.4 {
            diags.release_ledger();
        }
        let text = diags.text(self.5, file).map_err(S::Error::custom)?;
        // No length: the stream does not know it (serde_json writes the
        // same bytes, `[]` when empty).
        let mut seq = s.serialize_seq(None)?;
        // The serializer's error, kept while `each` speaks io::Error.
        let mut failed = None;
        let r = diags.each(file, &mut |d| {
            let mut c = sum.get();
            c.count(d);
            sum.set(c);
            seq.serialize_element(&Diag::of_text(d, f, &text))
                .map_err(|e| {
                    failed = Some(e);
                    std::io::Error::other("serializing a diagnostic")
                })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        r.map_err(S::Error::custom)?;
        seq.end()
    }
}

/// One diagnostic in the contract's shape.
#[derive(Serialize)]
pub struct Diag<'a> {
    code: &'static str,
    severity: &'static str,
    sku: Option<&'a str>,
    range: Range,
    /// The full text (the message with its explanation), built as it is written.
    message: std::borrow::Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a SourceRef>,
}

#[derive(Serialize)]
struct Range {
    start: LineCol,
    end: LineCol,
}

impl<'a> Diag<'a> {
    pub fn of(d: &'a Diagnostic, f: &LoadedFile) -> Self {
        Self::of_text(d, f, &f.text)
    }

    /// [`Diag::of`] with the file's `text` given.
    pub fn of_text(d: &'a Diagnostic, f: &LoadedFile, text: &str) -> Self {
        Diag {
            code: d.code.as_str(),
            severity: d.severity.as_str(),
            sku: d.sku.as_deref(),
            range: Range {
                start: f.lines.line_col(text, d.span.start()),
                end: f.lines.line_col(text, d.span.end()),
            },
            message: d.full_message(),
            source: d.source.as_ref(),
        }
    }
}

/// Writes the report as pretty JSON.
pub fn write(run: &Run, out: &mut impl Write) -> std::io::Result<()> {
    write_from(run, run, out)
}

/// [`write`] with the diagnostics from `diags` (`check`'s stream: each
/// diagnostic is written as it is computed; the summary, written last, is
/// counted meanwhile).
pub fn write_from(run: &Run, diags: &dyn Diagnostics, out: &mut impl Write) -> std::io::Result<()> {
    let sum = Cell::new(run.product_summary());
    let report = Report {
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        rule_pack: Pack::of(&run.pack),
        parties: Parties {
            id: &run.parties.id,
            version: &run.parties.version,
            sha256: &run.parties.sha256,
            reviewed_through: run.parties.reviewed_through.to_string(),
        },
        files: Files(run, diags, &sum),
        summary: Late(&sum),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}
