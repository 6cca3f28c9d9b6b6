//! Golden tests for facts that are missing, unreadable or ambiguous: none
//! of them may clear a product (contract §5: "Absence of data is never
//! clearance"; a wrong `not-controlled` is the worst error the tool can
//! make). Each test names the contract section or source it encodes; the
//! facts are in rules/default.toml and the domain notes it cites
//! (Ann. 18/2025 in force, not suspended; Ann. 57/2025 and Ann. 61/2025
//! suspended by Ann. 70/2025 from 2025-11-07 to 2026-11-10, unconfirmed
//! after).

mod common;
use catalogue_lsp::diagnostic::Code;
use catalogue_lsp::engine::Verdict;
use common::*;

/// Inside the Ann. 70 suspension: Ann. 18 applies, Ann. 57 and 61 do not.
const SUSPENDED: &str = "2026-06-01";

/// The missing facts of a product's classification, in one string.
fn missing(c: &Checked, sku: &str) -> String {
    c.product(sku).classification.missing.join(" | ")
}

// ---------------------------------------------------------------------------
// H2. Where an export leaves from: `made_in` alone does not say. A product
// made abroad may be exported from China (Ann. 18/2025 applies: it covers
// exports from the PRC of the listed items, wherever they were made) or by
// an operator abroad (Ann. 61/2025 §1, suspended by Ann. 70 on 2026-06-01).

const JP_MADE: &str = "[catalogue]\nas_of = 2026-06-01\nexporter = \"Ningbo Example Magnetics Co., Ltd.\"\n\n\
    [[product]]\nsku = \"JP-MADE\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\n\
    made_in = \"JP\"\ndestination = \"US\"\n";

/// The reviewer's case: a Dy-NdFeB magnet made in Japan, catalogued by a
/// Ningbo exporter, `exported_from` not stated. Exported from China it is
/// 1C905.a.4 (Ann. 18, in force); exported from Japan only Ann. 61 could
/// reach it (suspended). Not decided: indeterminate, saying to set
/// `exported_from`, never `not-controlled`.
#[test]
fn made_in_alone_does_not_clear_a_magnet_made_abroad() {
    let c = check(JP_MADE, SUSPENDED);
    assert_eq!(
        c.verdict("JP-MADE"),
        Verdict::Indeterminate,
        "{:#?}",
        c.diags()
    );
    assert!(c.codes("JP-MADE").is_empty());
    let m = missing(&c, "JP-MADE");
    assert!(m.contains("`exported_from`"), "{m}");
    assert!(m.contains("controlled (1C905.a.4)"), "{m}");
    let d = c.find(Code::IndeterminateClassification);
    assert!(d.message.contains("exported_from"), "{}", d.message);
    // The suspended Ann. 61 limbs that would reach it from Japan are still
    // reported (their facts missing did not silence them).
    assert!(
        c.codes_for("JP-MADE").contains(&Code::SuspendedControl),
        "{:?}",
        c.codes_for("JP-MADE")
    );
}

/// Saying where it leaves from decides: from China, Ann. 18 (controlled
/// 1C905.a.4, missing-licence); from Japan, Ann. 61 alone, suspended on
/// 2026-06-01 (not controlled, with the suspended-control note).
#[test]
fn exported_from_decides_a_product_made_abroad() {
    let from = |cc: &str| {
        check(
            &JP_MADE.replace(
                "made_in = \"JP\"\n",
                &format!("made_in = \"JP\"\nexported_from = \"{cc}\"\n"),
            ),
            SUSPENDED,
        )
    };
    let cn = from("CN");
    assert_eq!(cn.verdict("JP-MADE"), Verdict::Controlled);
    assert_eq!(cn.codes("JP-MADE"), ["1C905.a.4"]);
    assert!(cn.codes_for("JP-MADE").contains(&Code::MissingLicence));
    let jp = from("JP");
    assert_eq!(jp.verdict("JP-MADE"), Verdict::NotControlled);
    assert!(jp.codes_for("JP-MADE").contains(&Code::SuspendedControl));
}

/// The reviewer's second case: a Dy2O3 oxide made in Japan (1C905.b under
/// Ann. 18 when exported from China) is not cleared by `made_in` alone.
#[test]
fn made_in_alone_does_not_clear_an_oxide_made_abroad() {
    let c = check(
        &product(
            "form = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nmade_in = \"JP\"\ndestination = \"US\"",
        ),
        SUSPENDED,
    );
    assert_eq!(c.verdict("P"), Verdict::Indeterminate, "{:#?}", c.diags());
    assert!(missing(&c, "P").contains("controlled (1C905.b)"));
}

/// When both readings agree, that verdict stands: a ferrite magnet made in
/// Japan is no listed item whichever way it leaves; `made_in = "CN"` is a
/// PRC export (Ann. 18), as before.
#[test]
fn made_in_abroad_keeps_a_verdict_both_readings_give() {
    let c = check(
        &product("form = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\nmade_in = \"JP\""),
        SUSPENDED,
    );
    assert_eq!(c.verdict("P"), Verdict::NotControlled, "{:#?}", c.diags());
    // `made_in = "CN"` (or none) is a PRC export, as before.
    let c = check(
        &product("form = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nmade_in = \"CN\""),
        SUSPENDED,
    );
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(c.codes("P"), ["1C905.b"]);
}

// ---------------------------------------------------------------------------
// H7. The evaluation date is `ship_date` (contract §6). Ho-NdFeB is 1C909.a.4
// of Ann. 57/2025: suspended on 2026-06-01 (the catalogue's as_of), applied
// as in force (unconfirmed) on 2026-12-01 after Ann. 70's scheduled end.

const HO_MAGNET: &str =
    "form = \"magnet\"\ncomposition = { Nd = 29, Ho = 3, Fe = 67, B = 1 }\ndestination = \"US\"";

fn shipped(ship_date: &str) -> Checked {
    check(
        &format!(
            "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"P\"\n{HO_MAGNET}\nship_date = {ship_date}\n"
        ),
        SUSPENDED,
    )
}

/// The written date, as a TOML date: controlled under 1C909.a.4 (the
/// reference the other cases are compared with).
#[test]
fn a_ship_date_decides_the_evaluation_date() {
    let c = shipped("2026-12-01");
    assert_eq!(c.verdict("P"), Verdict::Controlled, "{:#?}", c.diags());
    assert_eq!(c.codes("P"), ["1C909.a.4"]);
    // On the catalogue's date it would be not controlled (suspended).
    let c = shipped("2026-06-01");
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
}

/// A TOML datetime or a quoted ISO date is still reported (invalid-value,
/// saying how to write it) but its date is read unambiguously, so the
/// product is judged on the day written, not on the fallback date.
#[test]
fn a_ship_date_with_a_readable_date_part_is_judged_on_that_date() {
    for (written, hint) in [
        ("2026-12-01T10:00:00", "write 2026-12-01"),
        ("2026-12-01T10:00:00Z", "write 2026-12-01"),
        ("\"2026-12-01\"", "without quotes"),
    ] {
        let c = shipped(written);
        let d = c.find(Code::InvalidValue);
        assert!(d.message.contains(hint), "{written}: {}", d.message);
        assert_eq!(
            c.verdict("P"),
            Verdict::Controlled,
            "{written}: {:#?}",
            c.diags()
        );
        assert_eq!(c.codes("P"), ["1C909.a.4"], "{written}");
    }
}

/// A ship_date that cannot be read (not a date, or a date in a form that
/// could be read two ways) leaves the evaluation date unknown: the product
/// is indeterminate when its verdict differs between the dates the pack
/// tells apart (here: suspended on the fallback date, in force later).
#[test]
fn an_unreadable_ship_date_is_not_judged_on_the_fallback_date() {
    for written in [
        "\"2026/12/01\"",
        "\"01.12.2026\"",
        "\"next week\"",
        "20261201",
        "10:00:00",
    ] {
        let c = shipped(written);
        assert!(c.codes_for("P").contains(&Code::InvalidValue), "{written}");
        assert_eq!(
            c.verdict("P"),
            Verdict::Indeterminate,
            "{written}: {:#?}",
            c.diags()
        );
        let m = missing(&c, "P");
        assert!(
            m.contains("`ship_date`") && m.contains("1C909.a.4"),
            "{written}: {m}"
        );
        assert!(
            c.codes_for("P")
                .contains(&Code::IndeterminateClassification)
        );
    }
}

/// A product whose verdict is the same on every date the pack tells apart
/// keeps it: a ferrite magnet is not controlled on any date.
#[test]
fn an_unreadable_ship_date_keeps_a_verdict_no_date_changes() {
    let c = check(
        &product("form = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\nship_date = \"someday\""),
        SUSPENDED,
    );
    assert!(c.codes_for("P").contains(&Code::InvalidValue));
    assert_eq!(c.verdict("P"), Verdict::NotControlled, "{:#?}", c.diags());
}

/// The same for CSV catalogues (docs/format.md §10): a cell is read as a
/// TOML literal, so 2026-12-01T10:00:00 keeps its date, while 2026/12/01
/// and 01.12.2026 (day or month first?) leave the product undecided.
#[test]
fn csv_ship_dates_follow_the_same_rule() {
    use catalogue_lsp::catalogue::csv::{self, CsvKind};
    use catalogue_lsp::engine::{Analysis, Options};
    use catalogue_lsp::rules::RulePack;
    let verdict = |cell: &str| {
        let text = format!(
            "sku,form,composition,destination,ship_date\nP,magnet,Nd=29; Ho=3; Fe=67; B=1,US,{cell}\n"
        );
        let cat = csv::parse(&text, CsvKind::Products);
        let pack = RulePack::embedded();
        let ws = Analysis::new()
            .files(std::slice::from_ref(&cat), &pack)
            .build();
        let r = ws.analyse_all(&Options {
            as_of: Some(date(SUSPENDED)),
            today: date(SUSPENDED),
            explain: false,
            keep_judgements: false,
        });
        let invalid = r[0]
            .diagnostics
            .iter()
            .any(|d| d.code == Code::InvalidValue);
        (r[0].products[0].verdict(), invalid)
    };
    assert_eq!(verdict("2026-12-01"), (Verdict::Controlled, false));
    assert_eq!(verdict("2026-12-01T10:00:00"), (Verdict::Controlled, true));
    assert_eq!(verdict("2026/12/01"), (Verdict::Indeterminate, true));
    assert_eq!(verdict("01.12.2026"), (Verdict::Indeterminate, true));
}

// ---------------------------------------------------------------------------
// H8. A duplicate SKU (contract §7 `duplicate-sku`) makes a component
// reference ambiguous: the assembly takes its components' codes (§5), so it
// must be judged with each product of that SKU.

const ROTOR_WITH_TWO_MAGS: &str = "[[product]]\nsku = \"MAG\"\nform = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\n\n\
    [[product]]\nsku = \"ROTOR\"\nform = \"rotor-assembly\"\ncomponents = [\"MAG\"]\nmounting = \"loose\"\n\n\
    [[product]]\nsku = \"MAG\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\n";

/// The reviewer's case: the first MAG is ferrite, the second Dy-NdFeB
/// (1C905.a.4); a rotor with loose magnets takes its magnets' codes (§5),
/// so which MAG is meant decides: indeterminate, with a diagnostic on the
/// reference linking both tables.
#[test]
fn a_component_with_a_duplicate_sku_is_judged_with_each_product() {
    let c = check(ROTOR_WITH_TWO_MAGS, SUSPENDED);
    assert_eq!(
        c.verdict("ROTOR"),
        Verdict::Indeterminate,
        "{:#?}",
        c.diags()
    );
    assert!(missing(&c, "ROTOR").contains("component `MAG`"));
    let on_ref: Vec<_> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::DuplicateSku && d.sku.as_deref() == Some("ROTOR"))
        .collect();
    assert_eq!(on_ref.len(), 1, "{:#?}", c.diags());
    assert_eq!(c.text_of(on_ref[0]), "\"MAG\"");
    assert_eq!(on_ref[0].related.len(), 2);
    assert!(on_ref[0].message.contains("2 products"));
    // The rotor's trace says what the two readings are.
    let explained =
        c.product("ROTOR").classification.trace.iter().any(|s| {
            s.text.contains("not-controlled") && s.text.contains("controlled (1C905.a.4)")
        });
    assert!(explained, "{:#?}", c.product("ROTOR").classification.trace);
    // The order of the tables does not matter.
    let swapped = ROTOR_WITH_TWO_MAGS
        .replace("{ SrFe12O19 = 100 }", "{ TMP }")
        .replace("{ Nd = 29, Dy = 3, Fe = 67, B = 1 }", "{ SrFe12O19 = 100 }")
        .replace("{ TMP }", "{ Nd = 29, Dy = 3, Fe = 67, B = 1 }");
    assert_eq!(
        check(&swapped, SUSPENDED).verdict("ROTOR"),
        Verdict::Indeterminate
    );
}

/// Duplicates judged alike leave the verdict as it is (still reported on
/// the reference: the SKU is ambiguous either way).
#[test]
fn duplicates_judged_alike_keep_the_verdict() {
    let text =
        ROTOR_WITH_TWO_MAGS.replace("{ SrFe12O19 = 100 }", "{ Nd = 28, Dy = 4, Fe = 67, B = 1 }");
    let c = check(&text, SUSPENDED);
    assert_eq!(c.verdict("ROTOR"), Verdict::Controlled, "{:#?}", c.diags());
    assert_eq!(c.codes("ROTOR"), ["1C905.a.4"]);
    assert!(c.codes_for("ROTOR").contains(&Code::DuplicateSku));
    // Without a duplicate there is no such diagnostic on the reference.
    let single = ROTOR_WITH_TWO_MAGS
        .rsplit_once("\n\n[[product]]\nsku = \"MAG\"")
        .map(|(a, _)| format!("{a}\n"))
        .unwrap();
    let c = check(&single, SUSPENDED);
    assert_eq!(c.verdict("ROTOR"), Verdict::NotControlled);
    assert!(!c.has(Code::DuplicateSku));
}

/// Across files: the duplicate may be in another catalogue of the workspace.
#[test]
fn a_duplicate_in_another_file_is_ambiguous_too() {
    let (a, b) = ROTOR_WITH_TWO_MAGS
        .rsplit_once("\n\n[[product]]\nsku = \"MAG\"")
        .map(|(a, b)| (format!("{a}\n"), format!("[[product]]\nsku = \"MAG\"{b}")))
        .unwrap();
    let c = check_files(&[&a, &b], SUSPENDED);
    assert_eq!(
        c.verdict("ROTOR"),
        Verdict::Indeterminate,
        "{:#?}",
        c.diags()
    );
}

/// A SKU shared by more products than the classifier judges one by one
/// (`MAX_SHARED_SKU`) leaves the assembly indeterminate rather than picking
/// one, and the reference links a bounded number of them (the work and the
/// output grow with the number of references, not with its square).
#[test]
fn a_component_shared_by_too_many_products_is_indeterminate() {
    use catalogue_lsp::diagnostic::MAX_RELATED;
    use catalogue_lsp::engine::MAX_SHARED_SKU;
    let mag =
        "[[product]]\nsku = \"MAG\"\nform = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\n\n";
    let rotor = "[[product]]\nsku = \"ROTOR\"\nform = \"rotor-assembly\"\ncomponents = [\"MAG\"]\nmounting = \"loose\"\n\n";
    // All alike and within the bound: the verdict stands.
    let c = check(&format!("{rotor}{}", mag.repeat(MAX_SHARED_SKU)), SUSPENDED);
    assert_eq!(c.verdict("ROTOR"), Verdict::NotControlled);
    // One more: not judged one by one, so not decided.
    let c = check(
        &format!("{rotor}{}", mag.repeat(MAX_SHARED_SKU + 1)),
        SUSPENDED,
    );
    assert_eq!(c.verdict("ROTOR"), Verdict::Indeterminate);
    let d = c
        .diags()
        .into_iter()
        .find(|d| d.code == Code::DuplicateSku && d.sku.as_deref() == Some("ROTOR"))
        .expect("a duplicate-sku on the reference");
    assert_eq!(d.related.len(), MAX_RELATED);
}

/// The language server keeps this up to date as the duplicate comes and
/// goes: an edit that adds a second `MAG` makes the rotor indeterminate
/// with `duplicate-sku` on its reference, exactly as a fresh analysis of the
/// same text publishes; removing it brings the first publication back.
#[test]
fn the_server_follows_a_duplicate_added_and_removed_by_edits() {
    use common::lsp::{Client, url};
    use serde_json::{Value, json};
    let first = "[[product]]\nsku = \"MAG\"\nform = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\n\n\
        [[product]]\nsku = \"ROTOR\"\nform = \"rotor-assembly\"\ncomponents = [\"MAG\"]\nmounting = \"loose\"\n";
    let dup = "\n[[product]]\nsku = \"MAG\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\n";
    let pos = |line: u32, character: u32| json!({"line": line, "character": character});
    let codes = |d: &[Value]| -> Vec<String> {
        d.iter()
            .map(|x| x["code"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let uri = url(&dir.path().join("rotor.catalogue.toml"));
    let start = || {
        let mut c = Client::spawn();
        c.initialize(dir.path(), &["utf-16"], json!({"asOf": SUSPENDED}));
        c
    };
    let mut c = start();
    c.open(&uri, first, 1);
    let before = c.diagnostics(&uri, Some(1));
    assert!(
        !codes(&before).contains(&"duplicate-sku".to_string()),
        "{before:#?}"
    );
    // Append the second MAG at the end (line 10).
    c.change(
        &uri,
        2,
        json!([{"range": {"start": pos(10, 0), "end": pos(10, 0)}, "text": dup}]),
    );
    let after = c.diagnostics(&uri, Some(2));
    let on_ref: Vec<&Value> = after
        .iter()
        .filter(|d| d["code"] == "duplicate-sku" && d["range"]["start"] == pos(8, 14))
        .collect();
    assert_eq!(on_ref.len(), 1, "{after:#?}");
    assert_eq!(on_ref[0]["range"]["end"], pos(8, 19));
    assert_eq!(
        on_ref[0]["relatedInformation"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(
        after
            .iter()
            .any(|d| d["code"] == "indeterminate-classification"
                && d["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("component `MAG`")),
        "{after:#?}"
    );
    // A fresh server on the edited text publishes the same.
    let mut fresh = start();
    fresh.open(&uri, &format!("{first}{dup}"), 1);
    assert_eq!(fresh.diagnostics(&uri, Some(1)), after);
    assert_eq!(fresh.shutdown_and_exit(), Some(0));
    // Remove it again: back to the first publication.
    c.change(
        &uri,
        3,
        json!([{"range": {"start": pos(10, 0), "end": pos(15, 0)}, "text": ""}]),
    );
    assert_eq!(c.diagnostics(&uri, Some(3)), before);
    assert_eq!(c.shutdown_and_exit(), Some(0));
}
