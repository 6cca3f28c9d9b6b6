//! SARIF 2.1.0 output: one rule per diagnostic code (stable ids = the codes),
//! `helpUri` to the rule's source, the rule pack's id/version/sha256 in the
//! run properties.

use super::Run;
use crate::diagnostic::{Code, SPEC_URI, Severity};
use serde_json::json;
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

pub fn render(run: &Run) -> serde_json::Value {
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
    let mut results = Vec::new();
    for (f, r) in run.files.iter().zip(&run.results) {
        for d in &r.diagnostics {
            let s = f.lines.line_col(&f.text, d.span.start());
            let e = f.lines.line_col(&f.text, d.span.end());
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
            results.push(
                SarifResult::builder()
                    .rule_id(d.code.as_str())
                    .rule_index(Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0) as i64)
                    .level(lvl)
                    .message(Message::builder().text(d.message.clone()).build())
                    .locations(vec![loc])
                    .properties(PropertyBag::builder().additional_properties(props).build())
                    .build(),
            );
        }
    }
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
