//! Golden tests for Ann. 56/2025 (1C914 raw and auxiliary materials), Ann.
//! 62/2025 (1E902 technologies) and Ann. 61/2025 (exports by operators
//! abroad), each at a date before the announcement takes effect, during the
//! Ann. 70/2025 suspension (2026-06-01) and after its scheduled end
//! (2026-12-01: unconfirmed, applied as in force). Sources are the records
//! in rules/default.toml; the texts read are quoted there.

mod common;
use catalogue_lsp::diagnostic::Code;
use catalogue_lsp::engine::Verdict;
use common::*;

/// Before Ann. 56/61/62 (2025-10-09 and 2025-11-08).
const BEFORE: &str = "2025-10-01";
/// Ann. 62 and Ann. 61 §1(3) in force; Ann. 56 and Ann. 61 §1(1), (2) not yet.
const OCTOBER: &str = "2025-10-20";
/// Inside the Ann. 70 suspension (2025-11-07 → 2026-11-10).
const SUSPENDED: &str = "2026-06-01";
/// After the suspension's scheduled end: status unconfirmed.
const AFTER: &str = "2026-12-01";

fn on(body: &str, date: &str) -> Checked {
    check(&product(body), date)
}

/// The verdict is controlled with `codes`, rests on the unconfirmed status
/// (warning), and the other reading is named.
fn controlled_unconfirmed(c: &Checked, codes: &[&str]) {
    assert_eq!(c.verdict("P"), Verdict::Controlled, "{:#?}", c.diags());
    assert_eq!(c.codes("P"), codes);
    assert!(
        c.codes_for("P").contains(&Code::UnconfirmedStatus),
        "{:?}",
        c.codes_for("P")
    );
    let p = c.product("P");
    assert!(!p.classification.assumptions.is_empty());
    assert!(p.classification.other_reading.is_some());
}

/// The verdict is not controlled and a dormant announcement is reported.
fn dormant(c: &Checked, code: Code) {
    assert_eq!(c.verdict("P"), Verdict::NotControlled, "{:#?}", c.diags());
    assert!(
        c.codes_for("P").contains(&code),
        "{code:?} in {:?}",
        c.codes_for("P")
    );
}

// ---------------------------------------------------------------------------
// Ann. 56/2025, 1C914 (text: exportcontrol.mofcom.gov.cn .../202510/1176.html
// via the weiqi-kids scrape; effective 2025-11-08: '本公告自2025年11月8日起正式实施').

/// 1C914.a 稀土矿: an ore containing a rare-earth element.
#[test]
fn rare_earth_ore_1c914_a() {
    let ore = "form = \"ore\"\ncomposition = { CeO2 = 30, La2O3 = 15, Nd2O3 = 5, SiO2 = 50 }";
    dormant(&on(ore, BEFORE), Code::UpcomingControl);
    dormant(&on(ore, SUSPENDED), Code::SuspendedControl);
    controlled_unconfirmed(&on(ore, AFTER), &["1C914.a"]);
    // An ore without a composition is never cleared while the item applies.
    let c = on("form = \"ore\"", AFTER);
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    // An ore with no rare-earth element is not the item.
    let c = on(
        "form = \"ore\"\ncomposition = { Fe2O3 = 60, SiO2 = 40 }",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
}

/// 1C914.b 含有羟肟酸类或磷酸酯类捕收剂的稀土矿浮选药剂: matched by `collectors`.
#[test]
fn flotation_reagents_1c914_b() {
    let r = "form = \"reagent\"\ncollectors = [\"hydroxamic-acid\"]";
    dormant(&on(r, BEFORE), Code::UpcomingControl);
    dormant(&on(r, SUSPENDED), Code::SuspendedControl);
    controlled_unconfirmed(&on(r, AFTER), &["1C914.b"]);
    // A reagent that states neither collectors nor CAS numbers: indeterminate.
    let c = on("form = \"reagent\"", AFTER);
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    let missing = &c.product("P").classification.missing;
    assert!(
        missing.iter().any(|m| m.contains("collectors")),
        "{missing:?}"
    );
    assert!(missing.iter().any(|m| m.contains("cas")), "{missing:?}");
    assert!(c.codes_for("P").contains(&Code::UnconfirmedStatus));
    // No collectors of those classes, CAS given: not the item.
    let c = on(
        "form = \"reagent\"\ncollectors = [\"xanthate\"]\ncas = \"140-89-6\"",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
    // During the suspension nothing applies: not controlled, even without facts.
    assert_eq!(
        on("form = \"reagent\"", SUSPENDED).verdict("P"),
        Verdict::NotControlled
    );
}

/// 1C914.c extractants, matched by the CAS numbers the text gives.
#[test]
fn extractants_1c914_c_by_cas() {
    for (cas, code) in [
        ("14802-03-0", "1C914.c.1"), // P507
        ("298-07-7", "1C914.c.2"),   // P204
        ("1338-24-5", "1C914.c.3"),  // naphthenic acid
        ("68814-95-9", "1C914.c.4"), // N235
        ("83411-71-6", "1C914.c.5"), // C272
    ] {
        let r = format!("form = \"reagent\"\ncas = \"{cas}\"\ncollectors = []");
        dormant(&on(&r, SUSPENDED), Code::SuspendedControl);
        controlled_unconfirmed(&on(&r, AFTER), &[code]);
    }
    // A compound that states the CAS number (array form) matches too.
    let c = on(
        "form = \"compound\"\ncomposition = { C = 60, H = 11, O = 19, P = 10 }\ncas = [\"298-07-7\"]",
        AFTER,
    );
    assert_eq!(c.codes("P"), ["1C914.c.2"]);
    // A bad CAS number is an invalid value and never clears a reagent.
    let c = on(
        "form = \"reagent\"\ncas = \"14802-03-1\"\ncollectors = []",
        AFTER,
    );
    assert!(c.codes_for("P").contains(&Code::InvalidValue));
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
}

// ---------------------------------------------------------------------------
// Ann. 62/2025, 1E902 (text: caiwennews.com, hk.crntt.com, MOFCOM scrape
// .../202510/1170.html; '本公告自发布之日起实施', 2025-10-09).

#[test]
fn technologies_1e902() {
    let t = "form = \"technology\"\ntechnology_area = \"magnet-manufacturing\"";
    dormant(&on(t, BEFORE), Code::UpcomingControl);
    let c = on(t, OCTOBER);
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(c.codes("P"), ["1E902.a"]);
    assert!(!c.codes_for("P").contains(&Code::UnconfirmedStatus));
    dormant(&on(t, SUSPENDED), Code::SuspendedControl);
    controlled_unconfirmed(&on(t, AFTER), &["1E902.a"]);
    // 1E902.b: production-line assembly, commissioning, maintenance...
    let c = on(
        "form = \"technology\"\ntechnology_area = [\"separation\", \"production-line-services\"]",
        OCTOBER,
    );
    assert_eq!(c.codes("P"), ["1E902.a", "1E902.b"]);
    // Without an area: indeterminate, never cleared.
    let c = on("form = \"technology\"", OCTOBER);
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    assert!(
        c.product("P")
            .classification
            .missing
            .iter()
            .any(|m| m.contains("technology_area"))
    );
    // Another area: not 1E902.
    let c = on(
        "form = \"technology\"\ntechnology_area = \"other\"",
        OCTOBER,
    );
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
    // An unknown area is an invalid value, and the technology is not cleared.
    let c = on(
        "form = \"technology\"\ntechnology_area = \"minig\"",
        OCTOBER,
    );
    assert!(c.codes_for("P").contains(&Code::InvalidValue));
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
}

// ---------------------------------------------------------------------------
// Ann. 61/2025 §1 (text: politics.neamco.com reproduction of the MOFCOM page;
// limb dates from udn.com 9059047: '前2項自2025年12月1日起實施，第3項自公布日起實施').

const DY_MAGNET: &str = "composition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }";

/// §1(1): a foreign-made Part II item (Dy-NdFeB magnet) with Chinese-origin
/// Part I material worth ≥ 0.1 % of its value.
#[test]
fn foreign_made_part_ii_item_with_chinese_content_1_1() {
    let m = |v: &str| {
        format!(
            "form = \"magnet\"\n{DY_MAGNET}\nmade_in = \"DE\"\nexported_from = \"DE\"\ncn_origin = false\ncn_technology = false\ncn_content_value = {v}"
        )
    };
    // Before 2025-12-01 §1(1) is not yet in force; from 2025-11-07 suspended.
    dormant(&on(&m("0.5"), OCTOBER), Code::UpcomingControl);
    dormant(&on(&m("0.5"), SUSPENDED), Code::SuspendedControl);
    controlled_unconfirmed(&on(&m("0.5"), AFTER), &["1C905.a.4"]);
    // Exactly 0.1 % is caught ('达到0.1%及以上').
    controlled_unconfirmed(&on(&m("0.1"), AFTER), &["1C905.a.4"]);
    // Below 0.1 %: not controlled under §1(1) (and the other limbs say no).
    assert_eq!(on(&m("0.05"), AFTER).verdict("P"), Verdict::NotControlled);
    // The value share missing: indeterminate, naming the fact.
    let c = on(
        &format!(
            "form = \"magnet\"\n{DY_MAGNET}\nmade_in = \"DE\"\nexported_from = \"DE\"\ncn_origin = false\ncn_technology = false"
        ),
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    assert!(
        c.product("P")
            .classification
            .missing
            .iter()
            .any(|m| m.contains("cn_content_value"))
    );
    // An NdFeB magnet without Dy or Tb is not an Annex 1 item.
    let c = on(
        "form = \"magnet\"\ncomposition = { Nd = 31, Fe = 68, B = 1 }\nmade_in = \"DE\"\nexported_from = \"DE\"",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
}

/// §1(1) reaches parts, components and assemblies containing the magnets
/// (the FAQ V exclusions concern Ann. 18 only); finished goods are undecided.
#[test]
fn foreign_assemblies_containing_part_ii_magnets() {
    let text = format!(
        "[[product]]\nsku = \"MAG\"\nform = \"magnet\"\n{DY_MAGNET}\nmade_in = \"CN\"\n\n\
         [[product]]\nsku = \"P\"\nform = \"rotor-assembly\"\ncomponents = [\"MAG\"]\nmounting = \"embedded\"\n\
         made_in = \"DE\"\nexported_from = \"DE\"\ncn_origin = false\ncn_technology = false\ncn_content_value = 2.5\n\n\
         [[product]]\nsku = \"PHONE\"\nform = \"consumer-product\"\ncomponents = [\"MAG\"]\n\
         made_in = \"VN\"\nexported_from = \"VN\"\ncn_origin = false\ncn_technology = false\ncn_content_value = 2.5\n"
    );
    // Exported from China, the same rotor is excluded (FAQ V answer 1).
    let prc = check(
        &text.replace(
            "made_in = \"DE\"\nexported_from = \"DE\"\ncn_origin = false\ncn_technology = false\ncn_content_value = 2.5\n",
            "",
        ),
        AFTER,
    );
    assert_eq!(prc.verdict("P"), Verdict::Excluded);
    let c = check(&text, AFTER);
    controlled_unconfirmed(&c, &["1C905.a.4"]);
    assert_eq!(c.verdict("PHONE"), Verdict::Indeterminate);
    // The magnet itself, exported from China, is controlled under Ann. 18
    // (in force, no assumption) whatever the assemblies around it say.
    assert_eq!(c.verdict("MAG"), Verdict::Controlled);
    assert!(!c.codes_for("MAG").contains(&Code::UnconfirmedStatus));
}

/// §1(3): a Chinese-origin Annex 1 item exported from abroad (in force from
/// publication, 2025-10-09, until the suspension of 2025-11-07).
#[test]
fn chinese_origin_items_exported_from_abroad_1_3() {
    let oxide =
        "form = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nmade_in = \"CN\"\nexported_from = \"NL\"";
    dormant(&on(oxide, BEFORE), Code::UpcomingControl);
    let c = on(oxide, OCTOBER);
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(c.codes("P"), ["1C905.b"]);
    assert!(c.codes_for("P").contains(&Code::MissingLicence));
    dormant(&on(oxide, SUSPENDED), Code::SuspendedControl);
    controlled_unconfirmed(&on(oxide, AFTER), &["1C905.b"]);
    // Origin not stated: indeterminate, naming `cn_origin`.
    let c = on(
        "form = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nexported_from = \"NL\"",
        OCTOBER,
    );
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    assert!(
        c.product("P")
            .classification
            .missing
            .iter()
            .any(|m| m.contains("cn_origin"))
    );
    // Sc oxide is an Ann. 18 item but not in Annex 1 of Ann. 61: an export
    // from abroad is not reached.
    let c = on(
        "form = \"oxide\"\ncomposition = { Sc2O3 = 100 }\nmade_in = \"CN\"\nexported_from = \"NL\"",
        OCTOBER,
    );
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
    // Tb-Fe alloy: in Annex 1 Part I, with no Ann. 18 item.
    let c = on(
        "form = \"alloy\"\ncomposition = { Tb = 40, Fe = 60 }\ncn_origin = true\nexported_from = \"US\"",
        OCTOBER,
    );
    assert_eq!(c.verdict("P"), Verdict::Controlled);
}

/// §1(2): Annex 1 items produced abroad with Chinese-origin technology.
#[test]
fn items_made_abroad_with_chinese_technology_1_2() {
    let t = "form = \"target\"\ncomposition = { Nd = 100 }\nmade_in = \"JP\"\nexported_from = \"JP\"\ncn_origin = false\ncn_content_value = 0\ncn_technology = true";
    // A neodymium target is a rare-earth target (Part II) though not an Ann. 18 item.
    dormant(&on(t, SUSPENDED), Code::SuspendedControl);
    let c = on(t, AFTER);
    assert_eq!(c.verdict("P"), Verdict::Controlled, "{:#?}", c.diags());
    assert!(c.codes_for("P").contains(&Code::UnconfirmedStatus));
    // Technology not stated: indeterminate.
    let c = on(
        "form = \"target\"\ncomposition = { Nd = 100 }\nmade_in = \"JP\"\nexported_from = \"JP\"\ncn_origin = false\ncn_content_value = 0",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    // Every fact stated and negative: not controlled.
    let c = on(
        "form = \"target\"\ncomposition = { Nd = 100 }\nmade_in = \"JP\"\nexported_from = \"JP\"\ncn_origin = false\ncn_content_value = 0\ncn_technology = false",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
}

/// Missing facts about what the product is never clear an export from
/// abroad while a limb applies; a bad value of a new field is invalid-value.
#[test]
fn exports_from_abroad_are_never_cleared_on_missing_facts() {
    let c = on(
        "form = \"magnet\"\nmade_in = \"DE\"\ncn_origin = false\ncn_technology = false\ncn_content_value = 1",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    let c = on(
        "form = \"magnet\"\ncomposition = { Nd = 30, Dy = \"2\", Fe = 67, B = 1 }\nmade_in = \"DE\"\ncn_origin = false\ncn_technology = false\ncn_content_value = 1",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    let c = on(
        &format!("form = \"magnet\"\n{DY_MAGNET}\nmade_in = \"Germany\"\ncn_content_value = 120"),
        AFTER,
    );
    let codes = c.codes_for("P");
    assert_eq!(
        codes.iter().filter(|c| **c == Code::InvalidValue).count(),
        2,
        "{codes:?}"
    );
    // made_in invalid: exported from China (Ann. 18, in force) it would be
    // controlled; from abroad, indeterminate: not decided.
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    // A neodymium target is no Ann. 18 item but an Ann. 61 Part II one: an
    // unreadable origin must not clear it.
    let c = on(
        "form = \"target\"\ncomposition = { Nd = 100 }\nexported_from = \"J P\"\ncn_origin = true",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    let c = on(
        "form = \"target\"\ncomposition = { Nd = 100 }\nexported_from = \"JP\"\ncn_origin = true",
        AFTER,
    );
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(
        on("form = \"target\"\ncomposition = { Nd = 100 }", AFTER).verdict("P"),
        Verdict::NotControlled
    );
}
