//! A second vocabulary is data, not code: the illustrative EU test pack
//! (tests/packs/eu-annex-i) declares other forms, purposes, transfer kinds,
//! licence types, a stricter code grammar and another regulator, and the
//! same binary and engine classify, check licences and report in its words.
//! Nothing in the code names any of them.

use catalogue_lsp::catalogue;
use catalogue_lsp::diagnostic::{Code, Diagnostic};
use catalogue_lsp::engine::{Analysis, FileResult, Options, Verdict};
use catalogue_lsp::rules::RulePack;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packs/eu-annex-i")
}

fn eu() -> Arc<RulePack> {
    Arc::new(RulePack::load(&dir().join("eu-annex-i.toml")).expect("the EU test pack loads"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_catalogue-lsp"))
        .args(args)
        .output()
        .expect("run binary");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Analyses one text with `pack` on `as_of`.
fn analyse(text: &str, pack: Arc<RulePack>, as_of: &str) -> (String, FileResult) {
    let cat = catalogue::parse(text);
    let ws = Analysis::new().file(&cat, pack).build();
    let r = ws.analyse_file(
        0,
        &Options {
            as_of: Some(as_of.parse().unwrap()),
            today: "2026-06-01".parse().unwrap(),
            explain: true,
            keep_judgements: false,
        },
    );
    (text.to_string(), r)
}

fn at<'a>(text: &'a str, d: &Diagnostic) -> &'a str {
    &text[d.span.start()..d.span.end()]
}

fn one(r: &FileResult, code: Code, text: &str, covering: &str) -> Diagnostic {
    let found: Vec<&Diagnostic> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == code && at(text, d) == covering)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {code:?} at {covering:?} in {:#?}",
        r.diagnostics
    );
    found[0].clone()
}

#[test]
fn the_example_catalogue_is_judged_in_the_packs_own_words() {
    let f = dir().join("example.catalogue.toml");
    let (code, out, err) = run(&["check", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let file = &v["files"][0];
    // The catalogue's `[catalogue].rules` names the pack beside it.
    assert_eq!(file["rule_pack"]["id"], "eu-annex-i-test");
    let verdicts: Vec<(String, String, Value)> = file["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["sku"].as_str().unwrap().to_string(),
                p["verdict"].as_str().unwrap().to_string(),
                p["control_codes"].clone(),
            )
        })
        .collect();
    let expected = [
        ("SMCO-1", "controlled", serde_json::json!(["1C003.a"])),
        ("TBDY-1", "controlled", serde_json::json!(["1C003.b.1"])),
        // A part, by role: classified by what it contains.
        ("ASM-1", "controlled", serde_json::json!(["1C003.b.1"])),
        // The default pack's words are not this pack's.
        ("CN-WORDS", "indeterminate", serde_json::json!([])),
        ("FE-1", "not-controlled", serde_json::json!([])),
    ];
    assert_eq!(verdicts.len(), expected.len(), "{verdicts:?}");
    for ((sku, verdict, codes), (s, ve, c)) in verdicts.iter().zip(expected) {
        assert_eq!((sku.as_str(), verdict.as_str(), codes), (s, ve, &c));
    }
    let messages = |code: &str| -> Vec<String> {
        file["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == code)
            .map(|d| d["message"].as_str().unwrap().to_string())
            .collect()
    };
    let invalid = messages("invalid-value");
    for (word, valid) in [
        (
            "`magnet` is not a valid `form`",
            "magnetic-alloy, chemical, assembly, machine, software",
        ),
        ("`gift` is not a valid `transfer`", "export, re-export"),
        (
            "`spare-parts` is not a valid `purpose`",
            "production, repair-replacement, temporary-exhibition",
        ),
        (
            "`testing` is not a valid `purposes`",
            "production, repair-replacement, temporary-exhibition",
        ),
        (
            "`individual` is not a valid `type`",
            "individual-authorisation, global-authorisation, general-authorisation",
        ),
        ("`1C905.a.4x` is not a control code", "\"1C003.b.1\""),
        (
            "`1C003.a4b` is not a control code",
            "sub-items alternating letter and number",
        ),
    ] {
        assert!(
            invalid
                .iter()
                .any(|m| m.starts_with(word) && m.contains(valid)),
            "{word} ... {valid} not in {invalid:#?}"
        );
    }
    assert_eq!(invalid.len(), 7, "{invalid:#?}");
    let missing = messages("missing-licence");
    assert_eq!(
        missing,
        [
            "controlled item (1C003.b.1) exported (export) without a licence: every export of a controlled item, whether export or re-export, needs an individual export authorisation, a global export authorisation or a Union general export authorisation. Set its `licence` field to the id of one"
        ]
    );
    let multiple = messages("individual-licence-multiple-end-users");
    assert_eq!(multiple.len(), 1);
    assert!(
        multiple[0].starts_with("individual export authorisation names 2 end users, but an individual export authorisation covers exactly one.")
            && multiple[0].contains("Use a global export authorisation or one individual export authorisation per end user"),
        "{multiple:?}"
    );
    let too_long = messages("licence-validity-too-long");
    assert_eq!(too_long.len(), 1);
    assert!(
        too_long[0].starts_with("individual export authorisation runs 2026-01-01 to 2029-01-01, longer than the 2 years its type allows (latest expiry 2028-01-01)"),
        "{too_long:?}"
    );
    assert_eq!(
        messages("certificate-purpose-not-allowed"),
        [
            "Union general export authorisation `EU003` was obtained for repair-replacement, not `production`: register a Union general export authorisation for this purpose"
        ]
    );
    // An unknown purpose is reported once, as an unknown word, not also as unusual.
    assert!(messages("certificate-purpose-unusual").is_empty());
}

#[test]
fn the_packs_own_tests_pass_with_full_coverage() {
    let pack = dir().join("eu-annex-i.toml");
    let (code, out, err) = run(&["rules", "test", "--rules", pack.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("3 cases, 0 failed; coverage: 5 of 5 rules exercised"),
        "{out}"
    );
}

#[test]
fn sarif_cites_the_instruments_the_pack_declares() {
    let pack = dir().join("eu-annex-i.toml");
    let f = dir().join("example.catalogue.toml");
    let (_, out, err) = run(&[
        "check",
        f.to_str().unwrap(),
        "--rules",
        pack.to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for id in ["controlled", "missing-licence", "licence-validity-too-long"] {
        let r = rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no rule {id}"));
        assert_eq!(
            r["helpUri"], "https://eur-lex.europa.eu/eli/reg/2021/821/oj",
            "{r}"
        );
    }
}

#[test]
fn the_same_words_mean_what_each_pack_says() {
    const TEXT: &str = "[[product]]\nsku = \"A\"\nform = \"magnetic-alloy\"\ncomposition = { Sm = 35, Co = 65 }\ncontrol_code = \"1C003.a4b\"\n\n[[product]]\nsku = \"B\"\nform = \"alloy\"\ncomposition = { Sm = 35, Co = 65 }\n";
    // The EU pack: `magnetic-alloy` is its form, `alloy` is not; its grammar
    // refuses a sub-item mixing letters and digits.
    let (text, r) = analyse(TEXT, eu(), "2026-06-01");
    assert_eq!(r.products[0].verdict(), Verdict::Controlled);
    assert_eq!(r.products[0].classification.codes, ["1C003.a"]);
    assert_eq!(r.products[1].verdict(), Verdict::Indeterminate);
    let d = one(&r, Code::InvalidValue, &text, "\"alloy\"");
    // The quick fix offers the pack's forms, nearest first.
    let mut offered = d.fix.replacements.clone();
    assert_eq!(offered[0], "assembly", "{offered:?}");
    offered.sort();
    assert_eq!(
        offered,
        [
            "assembly",
            "chemical",
            "machine",
            "magnetic-alloy",
            "software"
        ]
    );
    one(&r, Code::InvalidValue, &text, "\"1C003.a4b\"");
    // The default pack: the other way round, and `1C003.a4b` is a code.
    let (text, r) = analyse(TEXT, RulePack::embedded(), "2026-06-01");
    assert_eq!(r.products[0].verdict(), Verdict::Indeterminate);
    assert_eq!(r.products[1].verdict(), Verdict::Controlled);
    one(&r, Code::InvalidValue, &text, "\"magnetic-alloy\"");
    assert!(
        !r.diagnostics
            .iter()
            .any(|d| d.code == Code::InvalidValue && at(&text, d) == "\"1C003.a4b\""),
        "{:#?}",
        r.diagnostics
    );
}

#[test]
fn a_stale_pack_names_its_own_regulator() {
    let (_, r) = analyse(
        "[[product]]\nsku = \"A\"\nform = \"chemical\"\ncomposition = { Fe2O3 = 100 }\n",
        eu(),
        "2027-01-01",
    );
    let stale: Vec<&Diagnostic> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::RulePackStale)
        .collect();
    assert_eq!(stale.len(), 1, "{:#?}", r.diagnostics);
    assert!(
        stale[0]
            .message
            .contains("Check current the competent authority of the Member State announcements"),
        "{}",
        stale[0].message
    );
    assert!(!stale[0].message.contains("MOFCOM"));
}

#[test]
fn a_pack_without_a_vocabulary_or_with_a_bad_grammar_is_refused_with_its_line() {
    let text = std::fs::read_to_string(dir().join("eu-annex-i.toml")).unwrap();
    let bad = text.replacen("code_pattern = '^[0-9]", "code_pattern = '^[0-9", 1);
    let e = RulePack::parse(&bad, "eu.toml").unwrap_err();
    assert!(e.message.contains("not a regular expression"), "{e}");
    let bad = text.replacen("roles = [\"magnet\"]", "roles = [\"magnit\"]", 1);
    let e = RulePack::parse(&bad, "eu.toml").unwrap_err();
    assert!(e.message.contains("unknown role `magnit`"), "{e}");
    assert!(e.line.is_some(), "{e}");
    let bad = text.replacen("code = \"1C003.a\"", "code = \"1C003.a1\"", 1);
    let e = RulePack::parse(&bad, "eu.toml").unwrap_err();
    assert!(
        e.message
            .contains("`1C003.a1` is not a control code like 1C003.b.1"),
        "{e}"
    );
    let bad = text.replacen("forms = [\"magnetic-alloy\"]", "forms = [\"magnet\"]", 1);
    let e = RulePack::parse(&bad, "eu.toml").unwrap_err();
    assert!(
        e.message
            .contains("unknown form `magnet`; forms: magnetic-alloy, chemical"),
        "{e}"
    );
}

/// What a licence application needs and how long the regulator has to
/// decide are the pack's words (`[vocabulary]` `application_needs`,
/// `decision_working_days`): a pack that says neither gets its regulator
/// named and no period invented.
#[test]
fn end_use_evidence_names_the_packs_regulator_and_invents_no_period() {
    let text = "[[product]]\nsku = \"A\"\nform = \"magnetic-alloy\"\ncomposition = { Sm = 25, Co = 75 }\ndestination = \"US\"\nend_user = \"Example Inc\"\n";
    let (text, r) = analyse(text, eu(), "2026-06-01");
    let d = one(&r, Code::MissingEndUseEvidence, &text, "[[product]]");
    let full = d.full_message();
    assert!(
        full.contains(
            "a licence application to the competent authority of the Member State needs them"
        ),
        "{full}"
    );
    assert!(!full.contains("working days"), "{full}");
    assert!(!full.contains("MOFCOM"), "{full}");
    // The explanation is the pack's, shared: the embedded pack's says
    // what MOFCOM needs; this one invents nothing.
    let why = d.explanation_sentence().unwrap_or("");
    assert_eq!(
        why,
        "a licence application to the competent authority of the Member State needs them"
    );
}
