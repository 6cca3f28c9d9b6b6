//! SARIF 2.1.0 output: one rule per diagnostic code (stable ids = the codes),
//! `helpUri` to the rule's source, the rule pack's id/version/sha256 in the
//! run properties.

use super::{Diagnostics, LoadedFile, Run};
use crate::diagnostic::{Code, Diagnostic, SPEC_URI, Severity};
use serde::Serialize;
use serde::ser::{Error as _, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel,
    Run as SarifRun, Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    }
}

/// The general help link of a code: the instrument behind it in the default pack, else the docs.
fn help_uri(run: &Run, code: Code) -> String {
    let pack = &run.pack;
    let by_index = |i: Option<usize>| {
        i.and_then(|i| pack.instruments.get(i))
            .map(|i| i.url.to_string())
    };
    let v = &pack.vocab;
    let inst = match code {
        Code::Controlled
        | Code::MissingLicence
        | Code::SuspendedControl
        | Code::UpcomingControl
        | Code::DeclaredCodeMismatch
        | Code::IndeterminateClassification => by_index(v.classification_instrument),
        Code::Excluded => by_index(v.exclusion_instrument),
        Code::LicenceExpired
        | Code::LicenceNotYetValid
        | Code::LicenceItemNotCovered
        | Code::LicenceEndUserNotCovered
        | Code::LicenceDestinationNotCovered
        | Code::LicenceValidityTooLong
        | Code::IndividualLicenceMultipleEndUsers
        | Code::CertificatePurposeNotAllowed
        | Code::UnnecessaryLicence => by_index(v.licence_instrument),
        _ => None,
    };
    inst.unwrap_or_else(|| format!("{SPEC_URI}#{}", code.as_str()))
}

/// The whole document as a tree: [`write`] streams the same bytes without
/// holding it (at a million products the tree took 9 GB).
pub fn render(run: &Run) -> Value {
    let results = run
        .files
        .iter()
        .zip(&run.results)
        .flat_map(|(f, r)| r.diagnostics.iter().map(move |d| result(f, &f.text, d)))
        .collect();
    document(run, results)
}

/// Writes the document as pretty JSON and a newline: the bytes of
/// `serde_json::to_string_pretty(&render(run))` and a newline. The document
/// is built without results, and its `runs[0].results` array is written one
/// result at a time, each converted to a tree of its own.
pub fn write(run: &Run, out: &mut impl std::io::Write) -> std::io::Result<()> {
    write_from(run, run, out)
}

/// [`write`] with the diagnostics from `diags` (`check`'s stream: each
/// result is written as its diagnostic is computed).
pub fn write_from(
    run: &Run,
    diags: &dyn Diagnostics,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    // SARIF lists no exports.
    diags.release_ledger();
    let doc = document(run, Vec::new());
    serde_json::to_writer_pretty(&mut *out, &Top(&doc, Results(run, diags)))?;
    out.write_all(b"\n")
}

/// The document's top level: its `runs` array holds the streamed run.
struct Top<'a>(&'a Value, Results<'a>);
/// The `runs` array: its first run gets the streamed results.
struct Runs<'a>(&'a Value, Results<'a>);
/// The run whose `results` are written from [`Results`].
struct RunNode<'a>(&'a Value, Results<'a>);
/// Every diagnostic of the run as a SARIF result, one at a time.
#[derive(Clone, Copy)]
struct Results<'a>(&'a Run, &'a dyn Diagnostics);

/// Serializes the object `v` in its order, with the value under `key`
/// written by `with` instead.
fn map_with<S: Serializer>(
    v: &Value,
    s: S,
    key: &str,
    with: impl Serialize,
) -> Result<S::Ok, S::Error> {
    let Value::Object(m) = v else {
        return v.serialize(s);
    };
    let mut map = s.serialize_map(Some(m.len()))?;
    for (k, x) in m {
        if k == key {
            map.serialize_entry(k, &with)?;
        } else {
            map.serialize_entry(k, x)?;
        }
    }
    map.end()
}

impl Serialize for Top<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        map_with(self.0, s, "runs", Runs(&self.0["runs"], self.1))
    }
}

impl Serialize for Runs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Array(runs) = self.0 else {
            return self.0.serialize(s);
        };
        let mut seq = s.serialize_seq(Some(runs.len()))?;
        for (i, r) in runs.iter().enumerate() {
            if i == 0 {
                seq.serialize_element(&RunNode(r, self.1))?;
            } else {
                seq.serialize_element(r)?;
            }
        }
        seq.end()
    }
}

impl Serialize for RunNode<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        map_with(self.0, s, "results", self.1)
    }
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (run, diags) = (self.0, self.1);
        // No length: the stream does not know it (serde_json writes the
        // same bytes, `[]` when empty).
        let mut seq = s.serialize_seq(None)?;
        // The serializer's error, kept while `each` speaks io::Error.
        let mut failed = None;
        for (i, f) in run.files.iter().enumerate() {
            let text = diags.text(run, i).map_err(S::Error::custom)?;
            diags
                .each(i, &mut |d| {
                    // The tree `render` would hold, for this result only.
                    let v =
                        serde_json::to_value(result(f, &text, d)).map_err(std::io::Error::other)?;
                    seq.serialize_element(&v).map_err(|e| {
                        failed = Some(e);
                        std::io::Error::other("serializing a result")
                    })
                })
                .map_err(|e| failed.take().unwrap_or_else(|| S::Error::custom(e)))?;
        }
        seq.end()
    }
}

/// The SARIF result of diagnostic `d` of file `f`, whose text is `text`.
fn result(f: &LoadedFile, text: &str, d: &Diagnostic) -> SarifResult {
    let s = f.lines.line_col(text, d.span.start());
    let e = f.lines.line_col(text, d.span.end());
    let region = Region::builder()
        .start_line(s.line as i64)
        .start_column(s.column as i64)
        .end_line(e.line as i64)
        .end_column(e.column as i64)
        .build();
    let loc = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(f.path.replace('\\', "/"))
                        .build(),
                )
                .region(region)
                .build(),
        )
        .build();
    let mut props = BTreeMap::new();
    if let Some(sku) = &d.sku {
        props.insert("sku".to_string(), json!(sku));
    }
    if let Some(src) = &d.source {
        props.insert("source".to_string(), json!(src));
    }
    props.insert("severity".to_string(), json!(d.severity.as_str()));
    let lvl = match d.severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        _ => ResultLevel::Note,
    };
    SarifResult::builder()
        .rule_id(d.code.as_str())
        .rule_index(Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0) as i64)
        .level(lvl)
        .message(
            Message::builder()
                .text(d.full_message().into_owned())
                .build(),
        )
        .locations(vec![loc])
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build()
}

/// The document with these results.
fn document(run: &Run, results: Vec<SarifResult>) -> Value {
    let rules: Vec<ReportingDescriptor> = Code::ALL
        .iter()
        .map(|c| {
            ReportingDescriptor::builder()
                .id(c.as_str())
                .name(c.as_str())
                .short_description(MultiformatMessageString::builder().text(c.title()).build())
                .help_uri(help_uri(run, *c))
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(json!(level(c.default_severity())))
                        .build(),
                )
                .build()
        })
        .collect();
    let mut run_props = BTreeMap::new();
    run_props.insert(
        "rule_pack".to_string(),
        json!({ "id": run.pack.id, "version": run.pack.version, "sha256": run.pack.sha256, "reviewed_through": run.pack.reviewed_through.to_string() }),
    );
    run_props.insert(
        "parties".to_string(),
        json!({ "id": run.parties.id, "version": run.parties.version, "sha256": run.parties.sha256, "reviewed_through": run.parties.reviewed_through.to_string() }),
    );
    let tool = Tool::builder()
        .driver(
            ToolComponent::builder()
                .name(env!("CARGO_PKG_NAME"))
                .version(env!("CARGO_PKG_VERSION"))
                .semantic_version(env!("CARGO_PKG_VERSION"))
                .information_uri("https://github.com/catalogue-lsp/catalogue-lsp")
                .rules(rules)
                .build(),
        )
        .build();
    let sarif_run = SarifRun::builder()
        .tool(tool)
        .results(results)
        .properties(
            PropertyBag::builder()
                .additional_properties(run_props)
                .build(),
        )
        .build();
    let doc = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![sarif_run])
        .build();
    serde_json::to_value(doc).unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Options;
    use std::path::PathBuf;

    fn run_of(paths: &[PathBuf]) -> Run {
        let d = jiff::civil::date(2026, 6, 1);
        let opts = Options::on(d);
        super::super::run(paths, None, &opts).unwrap()
    }

    /// `write` streams the results; the bytes are those of the whole tree
    /// (`render`, what `check --format sarif` printed before it streamed):
    /// on the examples (several files, shipments, CSV) and on each alone.
    #[test]
    fn streamed_sarif_is_the_tree_byte_for_byte() {
        let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut cases = vec![vec![examples.clone()]];
        for name in [
            "magnets.catalogue.toml",
            "motors.catalogue.toml",
            "shipments.catalogue.toml",
            "spreadsheet.catalogue.csv",
        ] {
            cases.push(vec![examples.join(name)]);
        }
        let mut results = 0;
        for paths in cases {
            let run = run_of(&paths);
            let mut streamed = Vec::new();
            write(&run, &mut streamed).unwrap();
            let mut tree = serde_json::to_string_pretty(&render(&run)).unwrap();
            tree.push('\n');
            assert_eq!(String::from_utf8(streamed).unwrap(), tree, "{paths:?}");
            results += tree.matches("\"ruleId\"").count();
        }
        assert!(results > 20, "the examples give results: {results}");
    }

    /// A run without diagnostics: the streamed empty `results` is `[]` as in the tree.
    #[test]
    fn streamed_sarif_without_results_is_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.catalogue.toml");
        std::fs::write(&path, "").unwrap();
        let run = run_of(&[path]);
        let mut streamed = Vec::new();
        write(&run, &mut streamed).unwrap();
        let mut tree = serde_json::to_string_pretty(&render(&run)).unwrap();
        tree.push('\n');
        assert_eq!(String::from_utf8(streamed).unwrap(), tree);
    }
}
