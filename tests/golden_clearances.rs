//! Golden tests for wrongful clearances a review found (a wrong
//! `not-controlled` or `excluded` is the worst error this tool can make,
//! contract §5): each test cites the contract section or source it encodes.

mod common;
use catalogue_lsp::catalogue::{Catalogue, Format};
use catalogue_lsp::diagnostic::Code;
use catalogue_lsp::engine::{Analysis, Options, Verdict};
use catalogue_lsp::rules::RulePack;
use common::*;

/// Inside Ann. 70/2025's suspension of Ann. 57/2025 (to 2026-11-10).
const SUSPENDED: &str = "2026-06-01";
/// After the suspension's scheduled end: Ann. 57 `unconfirmed`, applied as
/// in force (contract §6).
const UNCONFIRMED: &str = "2026-12-01";

fn codes(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------
// H1. A wider alloy system or target never hides an item of another element,
// nor one in force behind one suspended. Contract §5: `controlled` = a listed
// item in force on the evaluation date; every matching code is listed.

/// Contract §5 with Ann. 18/2025 1C908.a.3.a (Y targets, in force) and Ann.
/// 57/2025 1C909.a.3.b (Ho-Cu targets, suspended by Ann. 70/2025 until
/// 2026-11-10): the suspended Ho-Cu system does not hide the Y target.
#[test]
fn a_suspended_wider_target_system_does_not_hide_an_in_force_item() {
    let text = product("form = \"target\"\ncomposition = { Y = 50, Ho = 25, Cu = 25 }");
    let c = check(&text, SUSPENDED);
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(c.codes("P"), codes(&["1C908.a.3.a"]));
    // The suspended item is reported as a note, the widest of its family.
    let dormant: Vec<&str> = c
        .product("P")
        .classification
        .dormant
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(dormant, ["1C909.a.3.b"]);
    assert!(c.codes_for("P").contains(&Code::SuspendedControl));
    assert!(c.codes_for("P").contains(&Code::MissingLicence));
}

/// Contract §6: after the suspension's scheduled end Ann. 57 is applied as in
/// force; both items are codes, and the other reading (still suspended) is
/// `controlled` under the Y target, never `not-controlled`.
#[test]
fn after_the_suspension_both_targets_are_codes_and_the_other_reading_keeps_the_y_target() {
    let text = product("form = \"target\"\ncomposition = { Y = 50, Ho = 25, Cu = 25 }");
    let c = check(&text, UNCONFIRMED);
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(c.codes("P"), codes(&["1C908.a.3.a", "1C909.a.3.b"]));
    let other = c
        .product("P")
        .classification
        .other_reading
        .clone()
        .expect("the verdict rests on Ann. 57's unconfirmed status");
    assert_eq!(other.verdict, Verdict::Controlled);
    assert_eq!(other.codes, codes(&["1C908.a.3.a"]));
    assert!(c.codes_for("P").contains(&Code::UnconfirmedStatus));
}

/// Contract §5 with Ann. 18/2025 1C906.a.3 (Lu targets) and 1C902.a.3.b
/// (Sm-Co targets): the Sm-Co system does not hide the Lu target, so a
/// licence for 1C902 only does not cover the product (contract §7,
/// `licence-item-not-covered`).
#[test]
fn a_wider_system_of_another_element_does_not_hide_a_target() {
    let text = r#"
[[licence]]
id = "GL-SM"
type = "general"
issued = 2026-01-01
expires = 2027-12-31
items = ["1C902"]

[[product]]
sku = "P"
form = "target"
composition = { Lu = 50, Sm = 25, Co = 25 }
licence = "GL-SM"
"#;
    let c = check(text, SUSPENDED);
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(c.codes("P"), codes(&["1C902.a.3.b", "1C906.a.3"]));
    let d = c.find(Code::LicenceItemNotCovered);
    assert!(d.message.contains("1C906.a.3"), "{}", d.message);
}

/// Contract §5 ("the ones with the most elements win") still holds for the
/// systems a wider one contains: a Sm-Co target is not also a Sm target; a
/// Tb-Dy-Fe target (1C905.a.3.b) is not also a Dy or Tb target; a Tb-Co-Fe
/// alloy is not also Tb-Co. Alloys of two elements' systems keep both.
#[test]
fn a_wider_system_still_hides_the_systems_it_contains() {
    let cases: &[(&str, &[&str])] = &[
        (
            "form = \"target\"\ncomposition = { Sm = 40, Co = 60 }",
            &["1C902.a.3.b"],
        ),
        (
            "form = \"target\"\ncomposition = { \"Tb0.3Dy0.7Fe2\" = 100 }",
            &["1C905.a.3.b"],
        ),
        (
            "form = \"alloy\"\ncomposition = { Tb = 30, Co = 40, Fe = 30 }",
            &["1C904.a.2.b"],
        ),
        (
            "form = \"alloy\"\ncomposition = { Sm = 30, Co = 40, Fe = 30 }",
            &["1C902.a.2.a", "1C902.a.2.b"],
        ),
        // Two elements' alloy systems: both (Ann. 18 1C908.a.2.d Y-Cu; the
        // Ho-Cu alloy of Ann. 57 is suspended on this date).
        (
            "form = \"alloy\"\ncomposition = { Y = 10, Ho = 10, Cu = 80 }",
            &["1C908.a.2.d"],
        ),
        // Two elements' targets, both of Ann. 18 and in force.
        (
            "form = \"target\"\ncomposition = { Gd = 30, Co = 40, Y = 30 }",
            &["1C903.a.3.c", "1C908.a.3.a"],
        ),
    ];
    for (body, want) in cases {
        let c = check(&product(body), SUSPENDED);
        assert_eq!(c.verdict("P"), Verdict::Controlled, "{body}");
        assert_eq!(c.codes("P"), codes(want), "{body}");
    }
}

// ---------------------------------------------------------------------------
// H4. The downstream-product and motor exclusions take out magnets only.
// Contract §5: `downstream-product` concerns goods "that contain magnets as
// functional parts"; FAQ V answer 3(3) (16 Sep 2025) speaks of magnetic
// functional parts containing SmCo, Tb-NdFeB or Dy-NdFeB, FAQ IV of motors
// containing those magnets.

const PARTS: &str = r#"
[[product]]
sku = "SCAL"
form = "alloy"
composition = { Sc = 2, Al = 98 }

[[product]]
sku = "DYOX"
form = "oxide"
composition = { Dy2O3 = 100 }

[[product]]
sku = "MAG"
form = "magnet"
composition = { Nd = 29, Dy = 2, Fe = 68, B = 1 }
"#;

fn with_parts(goods: &str) -> String {
    format!("{PARTS}\n{goods}")
}

/// FAQ V 3(3): a consumer product whose only controlled part is a Sc-Al alloy
/// (Ann. 18 1C907.a.2.a) holds no magnet: it stays controlled.
#[test]
fn a_consumer_product_without_magnets_is_not_excluded() {
    let c = check(
        &with_parts(
            "[[product]]\nsku = \"TOY\"\nform = \"consumer-product\"\ncomponents = [\"SCAL\"]\n",
        ),
        SUSPENDED,
    );
    assert_eq!(c.verdict("TOY"), Verdict::Controlled);
    assert_eq!(c.codes("TOY"), codes(&["1C907.a.2.a"]));
    assert_eq!(c.exclusion("TOY"), None);
    assert!(c.codes_for("TOY").contains(&Code::MissingLicence));
}

/// FAQ V 3(3) / FAQ IV: a finished product with a Dy2O3 oxide part (Ann. 18
/// 1C905.b) and a fixture with a Sc-Al part stay controlled under those codes.
#[test]
fn finished_products_and_fixtures_with_non_magnet_items_stay_controlled() {
    let c = check(
        &with_parts(
            "[[product]]\nsku = \"SPEAKER\"\nform = \"finished-product\"\ncomponents = [\"DYOX\"]\n\n\
             [[product]]\nsku = \"CLAMP\"\nform = \"fixture\"\ncomponents = [\"SCAL\"]\n",
        ),
        SUSPENDED,
    );
    assert_eq!(c.verdict("SPEAKER"), Verdict::Controlled);
    assert_eq!(c.codes("SPEAKER"), codes(&["1C905.b"]));
    assert_eq!(c.verdict("CLAMP"), Verdict::Controlled);
    assert_eq!(c.codes("CLAMP"), codes(&["1C907.a.2.a"]));
}

/// FAQ V 3(3): the magnet of a good is taken out, its other items are not;
/// with only a magnet the good is `excluded` under the magnet's code.
#[test]
fn a_good_with_a_magnet_and_another_item_keeps_the_other_item() {
    let c = check(
        &with_parts(
            "[[product]]\nsku = \"CHARGER\"\nform = \"consumer-product\"\ncomponents = [\"MAG\", \"SCAL\"]\n\n\
             [[product]]\nsku = \"CASE\"\nform = \"consumer-product\"\ncomponents = [\"MAG\"]\n",
        ),
        SUSPENDED,
    );
    assert_eq!(c.verdict("CHARGER"), Verdict::Controlled);
    assert_eq!(c.codes("CHARGER"), codes(&["1C907.a.2.a"]));
    assert_eq!(c.verdict("CASE"), Verdict::Excluded);
    assert_eq!(c.exclusion("CASE").as_deref(), Some("downstream-product"));
    assert_eq!(c.codes("CASE"), codes(&["1C905.a.4"]));
}

/// FAQ IV: motors containing SmCo, Tb-NdFeB or Dy-NdFeB magnets are outside
/// Ann. 18; a motor with a Dy2O3 part is not such a motor and stays controlled.
#[test]
fn the_motor_exclusion_takes_out_magnets_only() {
    let c = check(
        &with_parts(
            "[[product]]\nsku = \"M1\"\nform = \"motor\"\ncomponents = [\"MAG\"]\n\n\
             [[product]]\nsku = \"M2\"\nform = \"motor\"\ncomponents = [\"DYOX\"]\n\n\
             [[product]]\nsku = \"M3\"\nform = \"motor\"\n",
        ),
        SUSPENDED,
    );
    assert_eq!(c.verdict("M1"), Verdict::Excluded);
    assert_eq!(c.exclusion("M1").as_deref(), Some("motor"));
    assert_eq!(c.codes("M1"), codes(&["1C905.a.4"]));
    assert_eq!(c.verdict("M2"), Verdict::Controlled);
    assert_eq!(c.codes("M2"), codes(&["1C905.b"]));
    // Contract §5: an exclusion of the product's own form (a motor) gives
    // `excluded` even when its contents are unknown.
    assert_eq!(c.verdict("M3"), Verdict::Excluded);
}

/// Contract §5 ("absence of data is never clearance"): the exclusion now
/// reaches magnets only, so a good with an unknown component beside its
/// magnet may hold another listed item: `indeterminate`, not `excluded`.
/// A motor or good without `components` keeps the form-level exclusion
/// (contract §5: "a motor … gives `excluded` even when its contents are
/// unknown").
#[test]
fn a_good_with_an_unknown_component_is_not_cleared_by_a_magnet_exclusion() {
    let c = check(
        &with_parts(
            "[[product]]\nsku = \"CHARGER\"\nform = \"consumer-product\"\ncomponents = [\"MAG\", \"NO-SUCH-SKU\"]\n\n\
             [[product]]\nsku = \"MOTOR\"\nform = \"motor\"\ncomponents = [\"MAG\", \"NO-SUCH-SKU\"]\n",
        ),
        SUSPENDED,
    );
    for sku in ["CHARGER", "MOTOR"] {
        assert_eq!(c.verdict(sku), Verdict::Indeterminate, "{sku}");
        assert!(
            c.codes_for(sku)
                .contains(&Code::IndeterminateClassification),
            "{sku}"
        );
    }
}

/// Contract §5: `excluded` is for a product that "is, or contains, a listed
/// item"; a good whose only magnet is a ferrite (nothing listed) is
/// `not-controlled`, and a rotor with a ferrite magnet likewise.
#[test]
fn a_good_with_nothing_listed_is_not_controlled_rather_than_excluded() {
    let c = check(
        "[[product]]\nsku = \"FERRITE\"\nform = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\n\n\
         [[product]]\nsku = \"SPEAKER\"\nform = \"finished-product\"\ncomponents = [\"FERRITE\"]\n\n\
         [[product]]\nsku = \"ROTOR\"\nform = \"rotor-assembly\"\ncomponents = [\"FERRITE\"]\nmounting = \"embedded\"\n",
        SUSPENDED,
    );
    for sku in ["SPEAKER", "ROTOR"] {
        assert_eq!(c.verdict(sku), Verdict::NotControlled, "{sku}");
        assert_eq!(c.exclusion(sku), None, "{sku}");
        assert!(!c.codes_for(sku).contains(&Code::Excluded), "{sku}");
    }
}

// ---------------------------------------------------------------------------
// H3. Placeholders in `integrates` name no part. Contract §5: "a rotor whose
// magnets are loose and that integrates nothing … stays controlled"; §4
// accepts an unknown part name, but an empty value, a word for "nothing" or
// the magnets themselves are not part names.

fn rotor(integrates: &str) -> String {
    format!(
        "{PARTS}\n[[product]]\nsku = \"ROTOR\"\nform = \"rotor-assembly\"\ncomponents = [\"MAG\"]\nmounting = \"loose\"\nintegrates = {integrates}\n"
    )
}

#[test]
fn placeholder_integrates_do_not_trigger_the_rotor_exclusion() {
    for v in [
        "\"none\"", "\"\"", "\"  \"", "\"N/A\"", "\"n/a\"", "\"-\"", "\"null\"", "\"no\"",
        "\"无\"", "\"NONE\"",
    ] {
        let c = check(&rotor(&format!("[{v}]")), SUSPENDED);
        assert_eq!(c.verdict("ROTOR"), Verdict::Controlled, "{v}");
        assert_eq!(c.codes("ROTOR"), codes(&["1C905.a.4"]), "{v}");
        assert_eq!(c.exclusion("ROTOR"), None, "{v}");
        let d = c.find(Code::InvalidValue);
        assert_eq!(d.sku.as_deref(), Some("ROTOR"), "{v}");
        assert_eq!(c.text_of(d), v, "{v}: the diagnostic points at the entry");
        assert!(d.message.contains("not a part name"), "{}", d.message);
        assert!(!c.codes_for("ROTOR").contains(&Code::UnknownPart), "{v}");
        assert!(!c.codes_for("ROTOR").contains(&Code::Excluded), "{v}");
    }
}

/// Contract §5: the magnets are the controlled item itself, not a part
/// integrated with them.
#[test]
fn magnets_in_integrates_are_not_an_integrated_part() {
    for v in ["\"magnet\"", "\"magnets\"", "\"Magnet\""] {
        let c = check(&rotor(&format!("[{v}]")), SUSPENDED);
        assert_eq!(c.verdict("ROTOR"), Verdict::Controlled, "{v}");
        assert_eq!(c.codes("ROTOR"), codes(&["1C905.a.4"]), "{v}");
        let d = c.find(Code::InvalidValue);
        assert!(d.message.contains("components"), "{}", d.message);
    }
}

/// FAQ V answer 1 ("等零部件", and other parts): a real part beside a
/// placeholder still counts; an unknown part name still counts with an
/// `unknown-part` hint (contract §4).
#[test]
fn real_parts_beside_placeholders_still_count() {
    let c = check(&rotor("[\"none\", \"shaft\"]"), SUSPENDED);
    assert_eq!(c.verdict("ROTOR"), Verdict::Excluded);
    assert_eq!(
        c.exclusion("ROTOR").as_deref(),
        Some("rotor-stator-assembly")
    );
    let c = check(&rotor("[\"rivet\"]"), SUSPENDED);
    assert_eq!(c.verdict("ROTOR"), Verdict::Excluded);
    assert!(c.codes_for("ROTOR").contains(&Code::UnknownPart));
    assert!(!c.codes_for("ROTOR").contains(&Code::InvalidValue));
    // `integrates = []` says it integrates nothing: controlled, no diagnostic.
    let c = check(&rotor("[]"), SUSPENDED);
    assert_eq!(c.verdict("ROTOR"), Verdict::Controlled);
    assert!(!c.codes_for("ROTOR").contains(&Code::InvalidValue));
}

/// Contract §10: a CSV catalogue is judged like the TOML one; placeholder
/// cells in `integrates` count as nothing and are `invalid-value` at the cell.
#[test]
fn csv_placeholder_integrates_do_not_trigger_the_rotor_exclusion() {
    let csv = "sku,form,composition,components,mounting,integrates\n\
               MAG,magnet,Nd=29; Dy=2; Fe=68; B=1,,,\n\
               R-NONE,rotor-assembly,,MAG,loose,none\n\
               R-NA,rotor-assembly,,MAG,loose,N/A\n\
               R-DASH,rotor-assembly,,MAG,loose,-\n\
               R-MAG,rotor-assembly,,MAG,loose,magnet\n\
               R-SHAFT,rotor-assembly,,MAG,loose,none; shaft\n";
    let cat: Catalogue = Format::of_name("rotors.catalogue.csv")
        .expect("a CSV catalogue name")
        .parse(csv);
    let pack = RulePack::embedded();
    let cats = [cat];
    let ws = Analysis::new().files(&cats, &pack).build();
    let results = ws.analyse_all(&Options {
        as_of: Some(date(SUSPENDED)),
        today: date(SUSPENDED),
        explain: false,
        keep_judgements: false,
    });
    let r = &results[0];
    let verdict = |sku: &str| {
        r.products
            .iter()
            .find(|p| p.sku.as_deref() == Some(sku))
            .unwrap_or_else(|| panic!("no {sku}"))
    };
    for (sku, cell) in [
        ("R-NONE", "none"),
        ("R-NA", "N/A"),
        ("R-DASH", "-"),
        ("R-MAG", "magnet"),
    ] {
        let p = verdict(sku);
        assert_eq!(p.verdict(), Verdict::Controlled, "{sku}");
        assert_eq!(p.classification.codes, codes(&["1C905.a.4"]), "{sku}");
        let d = r
            .diagnostics
            .iter()
            .find(|d| d.sku.as_deref() == Some(sku) && d.code == Code::InvalidValue)
            .unwrap_or_else(|| panic!("{sku}: no invalid-value in {:#?}", r.diagnostics));
        assert_eq!(&csv[d.span.start()..d.span.end()], cell, "{sku}");
    }
    assert_eq!(verdict("R-SHAFT").verdict(), Verdict::Excluded);
}
