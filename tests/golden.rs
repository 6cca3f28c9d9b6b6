//! Golden tests: one per item family, exclusion, licence rule and diagnostic
//! code, each citing the source it encodes (see rules/default.toml).

mod common;
use catalogue_lsp::diagnostic::{Code, Severity};
use catalogue_lsp::engine::Verdict;
use common::*;

const D: &str = "2026-06-01";

fn one(body: &str) -> Checked {
    check(&product(body), D)
}

/// Ann. 18/2025, Annex: for each element, .a.1 metal, .a.2 alloys, .a.3
/// targets, .a.4 magnets (Sm, Tb, Dy only), .b oxide, .c compounds.
#[test]
fn announcement_18_item_families() {
    let cases: &[(&str, &str)] = &[
        // metals (.a.1): the metal of the largest constituent
        ("form = \"metal\"\ncomposition = { Sm = 99.9 }", "1C902.a.1"),
        ("form = \"metal\"\ncomposition = { Gd = 99.9 }", "1C903.a.1"),
        ("form = \"metal\"\ncomposition = { Tb = 99.9 }", "1C904.a.1"),
        (
            "form = \"metal\"\ncomposition = { Dy = 99.5, Fe = 0.5 }",
            "1C905.a.1",
        ),
        ("form = \"metal\"\ncomposition = { Lu = 99.9 }", "1C906.a.1"),
        ("form = \"metal\"\ncomposition = { Sc = 99.9 }", "1C907.a.1"),
        ("form = \"metal\"\ncomposition = { Y = 99.9 }", "1C908.a.1"),
        // alloys (.a.2)
        (
            "form = \"alloy\"\ncomposition = { Sm = 35, Co = 65 }",
            "1C902.a.2.a",
        ),
        (
            "form = \"alloy\"\ncomposition = { Sm = 20, Mg = 80 }",
            "1C902.a.2.e",
        ),
        (
            "form = \"alloy\"\ncomposition = { Gd = 25, Mg = 75 }",
            "1C903.a.2.a",
        ),
        (
            "form = \"alloy\"\ncomposition = { Tb = 30, Co = 40, Fe = 30 }",
            "1C904.a.2.b",
        ),
        (
            "form = \"alloy\"\ncomposition = { Dy = 80, Fe = 20 }",
            "1C905.a.2.a",
        ),
        (
            "form = \"alloy\"\ncomposition = { Yb = 50, Lu = 50 }",
            "1C906.a.2",
        ),
        (
            "form = \"alloy\"\ncomposition = { Sc = 2, Al = 98 }",
            "1C907.a.2.a",
        ),
        (
            "form = \"alloy\"\ncomposition = { Y = 10, Cu = 90 }",
            "1C908.a.2.d",
        ),
        // targets (.a.3)
        (
            "form = \"target\"\ncomposition = { Sm = 99.95 }",
            "1C902.a.3.a",
        ),
        (
            "form = \"target\"\ncomposition = { Gd = 30, Co = 70 }",
            "1C903.a.3.c",
        ),
        (
            "form = \"target\"\ncomposition = { Tb = 40, Co = 60 }",
            "1C904.a.3.b",
        ),
        (
            "form = \"target\"\ncomposition = { \"Tb0.3Dy0.7Fe2\" = 100 }",
            "1C905.a.3.b",
        ),
        (
            "form = \"target\"\ncomposition = { Lu = 99.9 }",
            "1C906.a.3",
        ),
        (
            "form = \"target\"\ncomposition = { Sc = 99.9 }",
            "1C907.a.3",
        ),
        (
            "form = \"target\"\ncomposition = { Y = 10, Zr = 90 }",
            "1C908.a.3.c",
        ),
        // magnets (.a.4): SmCo, Tb-NdFeB, Dy-NdFeB; magnet powder too
        (
            "form = \"magnet\"\ncomposition = { Sm2Co17 = 100 }",
            "1C902.a.4",
        ),
        (
            "form = \"magnet-powder\"\ncomposition = { Nd = 29, Tb = 0.5, Fe = 69.5, B = 1 }",
            "1C904.a.4",
        ),
        (
            "form = \"magnet\"\ncomposition = { Nd = 27.5, Pr = 2.0, Dy = 2.5, Fe = 67.0, B = 1.0 }",
            "1C905.a.4",
        ),
        // oxides (.b) and compounds (.c)
        ("form = \"oxide\"\ncomposition = { Sm2O3 = 100 }", "1C902.b"),
        ("form = \"oxide\"\ncomposition = { Gd2O3 = 100 }", "1C903.b"),
        ("form = \"oxide\"\ncomposition = { Tb4O7 = 100 }", "1C904.b"),
        ("form = \"oxide\"\ncomposition = { Dy2O3 = 100 }", "1C905.b"),
        ("form = \"oxide\"\ncomposition = { Lu2O3 = 100 }", "1C906.b"),
        ("form = \"oxide\"\ncomposition = { Sc2O3 = 100 }", "1C907.b"),
        ("form = \"oxide\"\ncomposition = { Y2O3 = 100 }", "1C908.b"),
        (
            "form = \"compound\"\ncomposition = { SmF3 = 100 }",
            "1C902.c",
        ),
        (
            "form = \"compound\"\ncomposition = { GdCl3 = 100 }",
            "1C903.c",
        ),
        (
            "form = \"compound\"\ncomposition = { TbF3 = 100 }",
            "1C904.c",
        ),
        (
            "form = \"compound\"\ncomposition = { DyF3 = 100 }",
            "1C905.c",
        ),
        (
            "form = \"compound\"\ncomposition = { LuCl3 = 100 }",
            "1C906.c",
        ),
        (
            "form = \"compound\"\ncomposition = { ScF3 = 100 }",
            "1C907.c",
        ),
        (
            "form = \"compound\"\ncomposition = { \"Y(NO3)3\" = 100 }",
            "1C908.c",
        ),
    ];
    for (body, code) in cases {
        let c = one(body);
        assert_eq!(c.verdict("P"), Verdict::Controlled, "{body}");
        assert_eq!(c.codes("P"), vec![code.to_string()], "{body}");
    }
}

/// Ann. 18/2025: Nd and Pr are not listed; NdFeB without Tb/Dy is outside it;
/// no content threshold exists (any Dy counts).
#[test]
fn announcement_18_boundaries_of_the_list() {
    assert_eq!(
        one("form = \"magnet\"\ncomposition = { Nd = 30, Fe = 69, B = 1 }").verdict("P"),
        Verdict::NotControlled
    );
    assert_eq!(
        one("form = \"magnet\"\ncomposition = { SrFe12O19 = 100 }").verdict("P"),
        Verdict::NotControlled
    );
    assert_eq!(
        one("form = \"magnet\"\ncomposition = { Nd = 30, Dy = 0.001, Fe = 68.999, B = 1 }")
            .codes("P"),
        ["1C905.a.4"]
    );
    assert_eq!(
        one("form = \"oxide\"\ncomposition = { La2O3 = 100 }").verdict("P"),
        Verdict::NotControlled
    );
    // A zero percent is not presence.
    assert_eq!(
        one("form = \"magnet\"\ncomposition = { Nd = 30, Dy = 0, Fe = 69, B = 1 }").verdict("P"),
        Verdict::NotControlled
    );
}

/// Spec §5: the alloy systems with most elements win; mixtures of oxides match every listed element.
#[test]
fn widest_alloy_system_wins_and_oxide_mixtures_match_each_element() {
    let c = one("form = \"alloy\"\ncomposition = { \"Tb0.3Dy0.7Fe2\" = 100 }");
    assert_eq!(c.codes("P"), ["1C905.a.2.b"]);
    let c = one("form = \"alloy\"\ncomposition = { Sm = 30, Co = 40, Fe = 30 }");
    assert_eq!(c.codes("P"), ["1C902.a.2.a", "1C902.a.2.b"]);
    let c = one("form = \"oxide\"\ncomposition = { Dy2O3 = 50, Tb4O7 = 50 }");
    assert_eq!(c.codes("P"), ["1C904.b", "1C905.b"]);
    // Gadolinium metal with a Dy impurity is Gd metal (largest constituent).
    assert_eq!(
        one("form = \"metal\"\ncomposition = { Gd = 99, Dy = 1 }").codes("P"),
        ["1C903.a.1"]
    );
}

/// Ann. 18/2025 took effect on publication, 2025-04-04: day before, day of, day after.
#[test]
fn announcement_18_effective_date_boundaries() {
    let body = product("form = \"oxide\"\ncomposition = { Dy2O3 = 100 }");
    let before = check(&body, "2025-04-03");
    assert_eq!(before.verdict("P"), Verdict::NotControlled);
    assert!(before.codes_for("P").contains(&Code::UpcomingControl));
    assert_eq!(check(&body, "2025-04-04").verdict("P"), Verdict::Controlled);
    assert_eq!(check(&body, "2025-04-05").verdict("P"), Verdict::Controlled);
}

/// Ann. 57/2025 (Ho, Er, Tm, Eu, Yb), effective 2025-11-08, suspended by
/// Ann. 70/2025 from 2025-11-07 to 2026-11-10 (inclusive, per the pack).
#[test]
fn announcement_57_suspension_boundaries() {
    let body = product("form = \"magnet\"\ncomposition = { Nd = 28, Ho = 1.5, Fe = 69.5, B = 1 }");
    for d in [
        "2025-11-06",
        "2025-11-07",
        "2025-11-08",
        "2025-11-09",
        "2026-11-09",
        "2026-11-10",
    ] {
        let c = check(&body, d);
        assert_eq!(c.verdict("P"), Verdict::NotControlled, "{d}");
        let expect = if d == "2025-11-06" {
            Code::UpcomingControl
        } else {
            Code::SuspendedControl
        };
        assert!(
            c.codes_for("P").contains(&expect),
            "{d}: {:?}",
            c.codes_for("P")
        );
    }
    let c = check(&body, "2025-11-08");
    assert!(
        c.find(Code::SuspendedControl)
            .message
            .contains("until 2026-11-10")
    );
    for d in ["2026-11-11", "2026-11-12"] {
        let c = check(&body, d);
        assert_eq!(c.verdict("P"), Verdict::Controlled, "{d}");
        assert_eq!(c.codes("P"), ["1C909.a.4"]);
    }
}

/// Ann. 57/2025 lists Eu and Tm luminescent materials; the FAQ V phosphor
/// exclusion covers Ann. 18 only.
#[test]
fn announcement_57_phosphors_are_not_reached_by_the_faq_exclusion() {
    let body = product("form = \"phosphor\"\ncomposition = { Y2O3 = 95, Eu2O3 = 5 }");
    let during = check(&body, "2026-06-01");
    assert_eq!(during.verdict("P"), Verdict::Excluded);
    assert_eq!(during.exclusion("P").as_deref(), Some("phosphor"));
    let after = check(&body, "2026-11-11");
    assert_eq!(after.verdict("P"), Verdict::Controlled);
    assert!(
        after.codes("P").iter().all(|c| c.starts_with("1C912")),
        "{:?}",
        after.codes("P")
    );
    // Without a composition, a phosphor may be an Ann. 57 item once it is in force.
    let unknown = product("form = \"phosphor\"");
    assert_eq!(
        check(&unknown, "2026-06-01").verdict("P"),
        Verdict::Excluded
    );
    assert_eq!(
        check(&unknown, "2026-11-11").verdict("P"),
        Verdict::Indeterminate
    );
}

const MAGNET: &str = "[[product]]\nsku = \"M\"\nform = \"magnet\"\ncomposition = { Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }\n";

fn with_magnet(body: &str) -> Checked {
    check(&format!("{MAGNET}{}", product(body)), D)
}

/// FAQ V (16 Sept 2025), answer 1: rotor/stator assemblies with fixed
/// magnets or integrated shafts, bearings... are generally not controlled.
#[test]
fn exclusion_rotor_stator_assembly() {
    for body in [
        "form = \"rotor-assembly\"\ncomponents = [\"M\"]\nmounting = \"embedded\"",
        "form = \"rotor-assembly\"\ncomponents = [\"M\"]\nmounting = \"built-in\"",
        "form = \"stator-assembly\"\ncomponents = [\"M\"]\nmounting = \"surface-mounted\"",
        "form = \"rotor-assembly\"\ncomponents = [\"M\"]\nmounting = \"loose\"\nintegrates = [\"shaft\"]",
        "form = \"rotor-assembly\"\ncomponents = [\"M\"]\nintegrates = [\"encoder\"]",
    ] {
        let c = with_magnet(body);
        assert_eq!(c.verdict("P"), Verdict::Excluded, "{body}");
        assert_eq!(c.exclusion("P").as_deref(), Some("rotor-stator-assembly"));
        assert_eq!(c.codes("P"), ["1C905.a.4"]);
    }
    // Loose magnets, nothing of the list integrated: stays controlled.
    let c = with_magnet(
        "form = \"rotor-assembly\"\ncomponents = [\"M\"]\nmounting = \"loose\"\nintegrates = [\"chip\"]",
    );
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    // Mounting unknown: indeterminate, naming the missing fact.
    let c = with_magnet("form = \"stator-assembly\"\ncomponents = [\"M\"]");
    assert_eq!(c.verdict("P"), Verdict::Indeterminate);
    assert!(
        c.product("P")
            .classification
            .missing
            .iter()
            .any(|m| m.contains("mounting"))
    );
    // Embedded, contents unknown: the exclusion applies to the structure.
    let c = one("form = \"rotor-assembly\"\nmounting = \"embedded\"");
    assert_eq!(c.verdict("P"), Verdict::Excluded);
    assert!(c.codes("P").is_empty());
}

/// FAQ V, answer 2: sensors formed by injection moulding.
#[test]
fn exclusion_moulded_sensor() {
    let c = with_magnet("form = \"sensor\"\ncomponents = [\"M\"]\nmoulded = true");
    assert_eq!(c.exclusion("P").as_deref(), Some("moulded-sensor"));
    assert_eq!(
        with_magnet("form = \"sensor\"\ncomponents = [\"M\"]\nmoulded = false").verdict("P"),
        Verdict::Controlled
    );
    assert_eq!(
        with_magnet("form = \"sensor\"\ncomponents = [\"M\"]").verdict("P"),
        Verdict::Indeterminate
    );
    assert_eq!(
        one("form = \"sensor\"\nmoulded = true").verdict("P"),
        Verdict::Excluded
    );
}

/// FAQ V, answer 3(1): calcined catalyst powders.
#[test]
fn exclusion_calcined_catalyst() {
    let c = one("form = \"catalyst\"\ncomposition = { CeO2 = 90, Y2O3 = 10 }\ncalcined = true");
    assert_eq!(c.exclusion("P").as_deref(), Some("calcined-catalyst"));
    assert_eq!(c.codes("P"), ["1C908.c"]);
    assert_eq!(
        one("form = \"catalyst\"\ncomposition = { CeO2 = 90, Y2O3 = 10 }\ncalcined = false")
            .verdict("P"),
        Verdict::Controlled
    );
    assert_eq!(
        one("form = \"catalyst\"\ncomposition = { CeO2 = 90, Y2O3 = 10 }").verdict("P"),
        Verdict::Indeterminate
    );
    assert_eq!(
        one("form = \"catalyst\"\ncomposition = { CeO2 = 100 }").verdict("P"),
        Verdict::NotControlled
    );
}

/// FAQ V, answer 3(2): phosphors and other RE luminescent materials.
#[test]
fn exclusion_phosphor() {
    let c = one("form = \"phosphor\"\ncomposition = { Y3Al5O12 = 98, Ce = 2 }");
    assert_eq!(c.exclusion("P").as_deref(), Some("phosphor"));
    assert_eq!(c.codes("P"), ["1C908.c"]);
}

/// FAQ V, answer 3(3) and FAQ IV: downstream products with magnetic parts.
#[test]
fn exclusion_downstream_product() {
    for form in ["consumer-product", "finished-product"] {
        let c = with_magnet(&format!("form = \"{form}\"\ncomponents = [\"M\"]"));
        assert_eq!(
            c.exclusion("P").as_deref(),
            Some("downstream-product"),
            "{form}"
        );
    }
}

/// FAQ IV: motors are not within the scope even with listed magnets.
#[test]
fn exclusion_motor() {
    let c = with_magnet("form = \"motor\"\ncomponents = [\"M\"]");
    assert_eq!(c.exclusion("P").as_deref(), Some("motor"));
    assert_eq!(c.codes("P"), ["1C905.a.4"]);
    assert_eq!(one("form = \"motor\"").verdict("P"), Verdict::Excluded);
}

/// Spec §5: a pot magnet (component) stays controlled under its magnets' codes;
/// parts take codes recursively.
#[test]
fn parts_take_their_components_codes_recursively() {
    let t = format!(
        "{MAGNET}[[product]]\nsku = \"POT\"\nform = \"component\"\ncomponents = [\"M\"]\n[[product]]\nsku = \"ASSY\"\nform = \"component\"\ncomponents = [\"POT\"]\n"
    );
    let c = check(&t, D);
    assert_eq!(c.codes("POT"), ["1C905.a.4"]);
    assert_eq!(c.codes("ASSY"), ["1C905.a.4"]);
    assert_eq!(
        one("form = \"component\"").verdict("P"),
        Verdict::Indeterminate
    );
}

const LICENCES: &str = r#"
[[licence]]
id = "GL"
type = "general"
issued = 2026-01-15
expires = 2028-12-31
items = ["1C905"]
end_users = ["Example Motors GmbH"]
destinations = ["DE"]

[[licence]]
id = "EC"
type = "certificate"
issued = 2026-01-01
expires = 2026-12-31
purposes = ["testing"]
"#;

fn licensed(body: &str) -> Checked {
    check_files(
        &[
            LICENCES,
            &product(&format!(
                "form = \"oxide\"\ncomposition = {{ Dy2O3 = 100 }}\n{body}"
            )),
        ],
        D,
    )
}

/// Regulations Art. 2 and Arts. 18–20: every export of a controlled item needs a licence.
#[test]
fn licence_rules_on_products() {
    let ok = licensed("destination = \"DE\"\nend_user = \"Example Motors GmbH\"\nlicence = \"GL\"");
    assert!(
        ok.codes_for("P").iter().all(|c| *c == Code::Controlled),
        "{:?}",
        ok.codes_for("P")
    );
    assert!(
        licensed("transfer = \"gift\"")
            .codes_for("P")
            .contains(&Code::MissingLicence)
    );
    assert!(
        licensed("licence = \"GX\"")
            .codes_for("P")
            .contains(&Code::UnknownLicence)
    );
    assert_eq!(
        licensed("licence = \"GX\"")
            .find(Code::UnknownLicence)
            .fix
            .replacements,
        ["GL"]
    );
    let c = licensed("destination = \"FR\"\nend_user = \"Other SA\"\nlicence = \"GL\"");
    assert!(c.codes_for("P").contains(&Code::LicenceEndUserNotCovered));
    assert!(
        c.codes_for("P")
            .contains(&Code::LicenceDestinationNotCovered)
    );
    let c = licensed(
        "destination = \"DE\"\nend_user = \"Example Motors GmbH\"\nlicence = \"GL\"\nship_date = 2029-01-01",
    );
    assert!(c.codes_for("P").contains(&Code::LicenceExpired));
    let c = licensed(
        "destination = \"DE\"\nend_user = \"Example Motors GmbH\"\nlicence = \"GL\"\nship_date = 2026-01-14",
    );
    assert!(c.codes_for("P").contains(&Code::LicenceNotYetValid));
    // Validity is inclusive: the day of issue and the day of expiry are valid.
    for d in ["2026-01-15", "2028-12-31"] {
        let c = licensed(&format!(
            "destination = \"DE\"\nend_user = \"Example Motors GmbH\"\nlicence = \"GL\"\nship_date = {d}"
        ));
        assert!(
            !c.codes_for("P").contains(&Code::LicenceExpired)
                && !c.codes_for("P").contains(&Code::LicenceNotYetValid),
            "{d}"
        );
    }
    // Items: "1C905" covers "1C905.b"; "1C904" does not.
    let items = check_files(
        &[
            &LICENCES.replace("items = [\"1C905\"]", "items = [\"1C904\"]"),
            &product(
                "form = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nend_user = \"Example Motors GmbH\"\nlicence = \"GL\"",
            ),
        ],
        D,
    );
    assert!(items.codes_for("P").contains(&Code::LicenceItemNotCovered));
}

/// Regulations: export certificates serve testing, inspection, spare parts, repair, exhibition.
#[test]
fn certificate_purposes() {
    assert!(
        !licensed("purpose = \"testing\"\nlicence = \"EC\"")
            .codes_for("P")
            .contains(&Code::CertificatePurposeNotAllowed)
    );
    assert!(
        licensed("purpose = \"production\"\nlicence = \"EC\"")
            .codes_for("P")
            .contains(&Code::CertificatePurposeNotAllowed)
    );
    assert!(
        licensed("purpose = \"inspection\"\nlicence = \"EC\"")
            .codes_for("P")
            .contains(&Code::CertificatePurposeNotAllowed),
        "not in the licence's purposes"
    );
    assert!(
        licensed("licence = \"EC\"")
            .codes_for("P")
            .contains(&Code::CertificatePurposeNotAllowed),
        "purpose missing"
    );
    // Contract v2 §3: a certificate registered for an unusual purpose is a
    // warning (the sources say "mainly"), not an error.
    let bad = check(
        &LICENCES.replace("purposes = [\"testing\"]", "purposes = [\"production\"]"),
        D,
    );
    assert!(bad.has(Code::CertificatePurposeUnusual));
}

/// Regulations: individual licence ≤ 1 year and one end user; general ≤ 3 years.
#[test]
fn licence_validity_and_end_users() {
    let lic = |kind: &str, issued: &str, expires: &str, users: &str| {
        check(
            &format!(
                "[[licence]]\nid = \"L\"\ntype = \"{kind}\"\nissued = {issued}\nexpires = {expires}\nend_users = {users}\n"
            ),
            D,
        )
    };
    assert!(
        !lic("individual", "2026-01-01", "2027-01-01", "[\"A\"]").has(Code::LicenceValidityTooLong),
        "the anniversary is the last allowed day"
    );
    assert!(
        lic("individual", "2026-01-01", "2027-01-02", "[\"A\"]").has(Code::LicenceValidityTooLong)
    );
    assert!(
        !lic("general", "2026-01-01", "2029-01-01", "[\"A\", \"B\"]")
            .has(Code::LicenceValidityTooLong)
    );
    assert!(
        lic("general", "2026-01-01", "2029-01-02", "[\"A\"]").has(Code::LicenceValidityTooLong)
    );
    assert!(
        lic("individual", "2026-01-01", "2026-06-01", "[\"A\", \"B\"]")
            .has(Code::IndividualLicenceMultipleEndUsers)
    );
    assert!(lic("individual", "2026-01-01", "2026-06-01", "[]").has(Code::MissingField));
    assert!(
        lic("general", "2026-06-01", "2026-01-01", "[\"A\"]").has(Code::InvalidValue),
        "expires before issued"
    );
}

#[test]
fn unnecessary_licence_and_declared_code_mismatch() {
    let c = check_files(
        &[
            LICENCES,
            &product(
                "form = \"oxide\"\ncomposition = { La2O3 = 100 }\nlicence = \"GL\"\ncontrol_code = \"1C905.b\"",
            ),
        ],
        D,
    );
    assert!(c.codes_for("P").contains(&Code::UnnecessaryLicence));
    assert!(c.codes_for("P").contains(&Code::DeclaredCodeMismatch));
    let c = one("form = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ncontrol_code = \"1C904.b\"");
    let d = c.find(Code::DeclaredCodeMismatch);
    assert_eq!(d.fix.replacements, ["1C905.b"]);
    assert_eq!(c.text_of(d), "\"1C904.b\"");
    assert!(
        !one("form = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ncontrol_code = \"1C905.b\"")
            .has(Code::DeclaredCodeMismatch)
    );
}

/// Every diagnostic code of the contract (docs/format.md §7) is produced by some input.
#[test]
fn every_diagnostic_code_is_produced() {
    let cases: &[(Code, &str)] = &[
        (
            Code::SyntaxError,
            "[[product]]\nsku = \"A\"\nform = magnet\n",
        ),
        (
            Code::UnknownField,
            "[[product]]\nsku = \"A\"\nlicense = \"X\"\n",
        ),
        (
            Code::InvalidValue,
            "[[product]]\nsku = \"A\"\nform = \"magnit\"\n",
        ),
        (Code::MissingField, "[[product]]\nform = \"magnet\"\n"),
        (
            Code::DuplicateSku,
            "[[product]]\nsku = \"A\"\n[[product]]\nsku = \"A\"\n",
        ),
        (
            Code::DuplicateLicence,
            "[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\n[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\n",
        ),
        (
            Code::UnknownComponent,
            "[[product]]\nsku = \"A\"\nform = \"motor\"\ncomponents = [\"B\"]\n",
        ),
        (
            Code::ComponentCycle,
            "[[product]]\nsku = \"A\"\nform = \"component\"\ncomponents = [\"B\"]\n[[product]]\nsku = \"B\"\nform = \"component\"\ncomponents = [\"A\"]\n",
        ),
        (
            Code::CompositionOver100,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 80, La2O3 = 30 }\n",
        ),
        (
            Code::Controlled,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\n",
        ),
        (
            Code::IndeterminateClassification,
            "[[product]]\nsku = \"A\"\n",
        ),
        (
            Code::MissingLicence,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\n",
        ),
        (
            Code::UnknownLicence,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nlicence = \"X\"\n",
        ),
        (
            Code::Excluded,
            "[[product]]\nsku = \"A\"\nform = \"motor\"\n",
        ),
        (
            Code::SuspendedControl,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Ho2O3 = 100 }\n",
        ),
        (
            Code::UpcomingControl,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nship_date = 2025-01-01\n",
        ),
        (
            Code::RulePackStale,
            "[[product]]\nsku = \"A\"\nform = \"motor\"\nship_date = 2026-12-01\n",
        ),
        (
            Code::UnconfirmedStatus,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Ho2O3 = 100 }\nship_date = 2026-12-01\n",
        ),
        (
            Code::UnknownPart,
            "[[product]]\nsku = \"A\"\nform = \"rotor-assembly\"\nintegrates = [\"end-cap\"]\n",
        ),
        (
            Code::CertificatePurposeUnusual,
            "[[licence]]\nid = \"C\"\ntype = \"certificate\"\nissued = 2026-01-01\nexpires = 2026-12-31\npurposes = [\"research\"]\n",
        ),
        // v2 §4a: shipments and licence balances (boundaries in golden_shipments.rs).
        (
            Code::UnknownSku,
            "[[shipment]]\nsku = \"A\"\nship_date = 2026-02-01\n",
        ),
        (
            Code::LicenceQuantityExceeded,
            "[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = 100\nunit = \"kg\"\nvalue = 1000\ncurrency = \"CNY\"\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nlicence = \"L\"\nquantity = 101\nunit = \"kg\"\n",
        ),
        (
            Code::LicenceValueExceeded,
            "[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = 100\nunit = \"kg\"\nvalue = 1000\ncurrency = \"CNY\"\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nlicence = \"L\"\nvalue = 1001\ncurrency = \"CNY\"\n",
        ),
        (
            Code::LicenceNearlyUsed,
            "[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = 100\nunit = \"kg\"\nvalue = 1000\ncurrency = \"CNY\"\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nlicence = \"L\"\nquantity = 90\nunit = \"kg\"\n",
        ),
        (
            Code::LicenceUnitMismatch,
            "[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = 100\nunit = \"kg\"\nvalue = 1000\ncurrency = \"CNY\"\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nlicence = \"L\"\nquantity = 90\nunit = \"pcs\"\n",
        ),
        (
            Code::IndividualLicenceSplitShipment,
            "[[licence]]\nid = \"L\"\ntype = \"individual\"\nissued = 2026-01-01\nexpires = 2026-12-31\nend_users = [\"E\"]\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nlicence = \"L\"\nend_user = \"E\"\nship_date = 2026-02-01\n[[shipment]]\nsku = \"A\"\nship_date = 2026-03-01\n",
        ),
        (
            Code::MissingEndUseEvidence,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\n",
        ),
        // MOFCOM Ann. No. 51 of 2025 (control list), an entry of the embedded party list.
        (
            Code::ListedParty,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nend_user = \"HUNTINGTON INGALLS INDUSTRIES INC\"\n",
        ),
        (
            Code::PossibleListedParty,
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nimporter = \"Huntington Ingalls Shipyards\"\n",
        ),
    ];
    for (code, text) in cases {
        let c = check(text, D);
        assert!(
            c.has(*code),
            "{code:?} not produced by:\n{text}\n{:#?}",
            c.diags()
        );
        let d = c.find(*code);
        assert_eq!(d.severity, code.default_severity());
        assert!(!d.message.is_empty());
        if matches!(
            code,
            Code::Controlled
                | Code::Excluded
                | Code::SuspendedControl
                | Code::MissingLicence
                | Code::ListedParty
                | Code::PossibleListedParty
        ) {
            assert!(
                d.source.as_ref().is_some_and(|s| s.url.starts_with("http")),
                "{code:?} carries its source"
            );
        }
    }
    // The licence codes are produced by licence_rules_on_products and friends above.
}

/// Spec §1: licences and components resolve across the files of one run.
#[test]
fn cross_file_licences_and_components() {
    let a = "[[product]]\nsku = \"MAG\"\nform = \"magnet\"\ncomposition = { Sm2Co17 = 100 }\nlicence = \"GL\"\ndestination = \"DE\"\nend_user = \"Example Motors GmbH\"\n";
    let b = "[[product]]\nsku = \"KIT\"\nform = \"component\"\ncomponents = [\"MAG\"]\n";
    let lic = LICENCES.replace("items = [\"1C905\"]", "items = [\"1C902\"]");
    let c = check_files(&[a, b, &lic], D);
    assert_eq!(c.codes("KIT"), ["1C902.a.4"]);
    assert!(c.codes_for("MAG").iter().all(|x| *x == Code::Controlled));
    assert!(c.codes_for("KIT").contains(&Code::MissingLicence));
    // A duplicate across files is reported in both, each pointing at the other.
    let c = check_files(
        &["[[product]]\nsku = \"X\"\n", "[[product]]\nsku = \"X\"\n"],
        D,
    );
    let dups: Vec<_> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::DuplicateSku)
        .collect();
    assert_eq!(dups.len(), 2);
    assert!(dups.iter().all(|d| d.related.len() == 1));
}

/// Spec §1: a broken table in the middle leaves the others classified.
#[test]
fn errors_stay_inside_their_table() {
    let t = "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\n\n[[product]]\nsku = \"B\"\nform = \"oxide\ncomposition = { Dy2O3 = \n\n[[product]]\nsku = \"C\"\nform = \"metal\"\ncomposition = { Sm = 99 }\n";
    let c = check(t, D);
    assert_eq!(c.verdict("A"), Verdict::Controlled);
    assert_eq!(c.verdict("C"), Verdict::Controlled);
    assert_eq!(c.verdict("B"), Verdict::Indeterminate);
    let syntax = c.find(Code::SyntaxError);
    assert!(
        syntax.span.start() > t.find("sku = \"B\"").unwrap()
            && syntax.span.start() < t.find("sku = \"C\"").unwrap()
    );
    // A bad value is local too.
    let c = check(
        "[[product]]\nsku = \"A\"\nform = 3\n[[product]]\nsku = \"B\"\nform = \"motor\"\n",
        D,
    );
    assert_eq!(c.verdict("A"), Verdict::Indeterminate);
    assert_eq!(c.verdict("B"), Verdict::Excluded);
}

#[test]
fn crlf_and_non_ascii_text_keep_exact_spans() {
    let t = "# Catalogue 目录 — 𝄞\r\n[[product]]\r\nsku = \"磁体-𝄞-1\"\r\nname = \"钕铁硼 Dy\"\r\nform = \"magnet\"\r\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\r\ncontrol_code = \"1C904.a.4\"\r\n";
    let c = check(t, D);
    assert_eq!(c.codes("磁体-𝄞-1"), ["1C905.a.4"]);
    let d = c.find(Code::DeclaredCodeMismatch);
    assert_eq!(c.text_of(d), "\"1C904.a.4\"");
    assert_eq!(c.text_of(c.find(Code::Controlled)), "[[product]]");
}

#[test]
fn bad_values_are_clear_errors() {
    let cases: &[(&str, &str)] = &[
        ("form = \"magnit\"", "did you mean \"magnet\""),
        ("composition = { DY = 3 }", "did you mean `Dy`"),
        ("composition = { Dy = 130 }", "from 0 to 100"),
        ("composition = { Dy = nan }", "from 0 to 100"),
        ("composition = { Dy = inf }", "from 0 to 100"),
        ("composition = { Dy = \"3\" }", "must be a number"),
        ("composition = { Tb0.3Dy0.7Fe2 = 100 }", "dotted key"),
        ("destination = \"de\"", "write \"DE\""),
        ("destination = \"XX\"", "ISO 3166-1"),
        ("ship_date = \"2026-01-01\"", "without quotes"),
        ("ship_date = 2026-01-01T10:00:00Z", "without time"),
        ("moulded = \"true\"", "without quotes"),
        ("hs_code = 8505111000", "quote it"),
        ("control_code = \"Dy magnet\"", "not a control code"),
        ("components = \"M\"", "must be an array"),
        ("transfer = \"donation\"", "valid values"),
        ("sku2 = \"x\"", "did you mean `sku`"),
    ];
    for (body, needle) in cases {
        let c = one(body);
        let all: Vec<String> = c
            .diags()
            .iter()
            .filter(|d| d.severity <= Severity::Warning)
            .map(|d| d.message.clone())
            .collect();
        assert!(
            all.iter().any(|m| m.contains(needle)),
            "{body}: expected `{needle}` in {all:#?}"
        );
    }
}

#[test]
fn hostile_structure_never_panics() {
    let deep = format!(
        "[[product]]\nsku = \"A\"\nx = {}{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let c = check(&deep, D);
    assert!(c.has(Code::SyntaxError));
    let deep_inline = format!(
        "[[product]]\nsku = \"A\"\nx = {}1{}\n",
        "{a=".repeat(20_000),
        "}".repeat(20_000)
    );
    assert!(check(&deep_inline, D).has(Code::SyntaxError));
    let self_ref = "[[product]]\nsku = \"A\"\nform = \"component\"\ncomponents = [\"A\"]\n";
    let c = check(self_ref, D);
    assert!(c.has(Code::ComponentCycle));
    assert_eq!(c.verdict("A"), Verdict::Indeterminate);
    let single = "[product]\nsku = \"A\"\nform = \"motor\"\n";
    let c = check(single, D);
    assert!(c.find(Code::InvalidValue).message.contains("[[product]]"));
    assert_eq!(c.verdict("A"), Verdict::Excluded);
    let root = "sku = \"A\"\n[[product]]\nsku = \"B\"\nform = \"motor\"\n";
    assert!(
        check(root, D)
            .find(Code::UnknownField)
            .message
            .contains("outside any table")
    );
    let dotted = "[[product]]\nsku = \"A\"\nform = \"oxide\"\n[product.composition]\nDy2O3 = 100\n";
    assert_eq!(check(dotted, D).codes("A"), ["1C905.b"]);
}

/// `check` skips building explanation traces; the verdicts and diagnostics must not change.
#[test]
fn traces_do_not_change_results() {
    use catalogue_lsp::engine::{Analysis, Options};
    let texts: Vec<String> = ["licences", "magnets", "motors"]
        .iter()
        .map(|n| std::fs::read_to_string(format!("examples/{n}.catalogue.toml")).unwrap())
        .collect();
    let cats: Vec<_> = texts
        .iter()
        .map(|t| catalogue_lsp::catalogue::parse(t))
        .collect();
    let pack = catalogue_lsp::rules::RulePack::embedded();
    let ws = Analysis::new().files(&cats, &pack).build();
    let run = |explain| {
        ws.analyse_all(&Options {
            as_of: Some(date(D)),
            today: date(D),
            explain,
            keep_judgements: false,
        })
    };
    let (with, without) = (run(true), run(false));
    for (a, b) in with.iter().zip(&without) {
        assert_eq!(a.diagnostics, b.diagnostics);
        for (p, q) in a.products.iter().zip(&b.products) {
            assert_eq!(
                (
                    p.verdict(),
                    &p.classification.codes,
                    &p.classification.exclusion
                ),
                (
                    q.verdict(),
                    &q.classification.codes,
                    &q.classification.exclusion
                )
            );
            assert!(!p.trace().is_empty() && q.trace().is_empty());
        }
    }
}

// ---------------------------------------------------------------------------
// Contract v2 (issue 11): never a wrong clearance.

/// Ann. 18, items 1C904.a.4 / 1C905.a.4 ("含铽/含镝的钕铁硼永磁材料"): the
/// family is recognised by Tb or Dy with Fe and Nd or Pr; composition
/// sheets often omit boron, and PrFeB is the same family (contract v2 §5).
#[test]
fn tb_dy_ndfeb_without_boron_or_with_praseodymium_is_controlled() {
    for (body, code) in [
        ("composition = { Nd = 30, Dy = 2, Fe = 68 }", "1C905.a.4"),
        (
            "composition = { Pr = 29, Dy = 2, Fe = 68, B = 1 }",
            "1C905.a.4",
        ),
        (
            "composition = { Pr = 29, Tb = 1, Fe = 69, B = 1 }",
            "1C904.a.4",
        ),
        (
            "composition = { Nd = 22, Pr = 7, Tb = 0.5, Dy = 1, Fe = 69.5 }",
            "1C904.a.4",
        ),
    ] {
        let c = one(&format!("form = \"magnet\"\n{body}"));
        assert_eq!(c.verdict("P"), Verdict::Controlled, "{body}");
        assert!(
            c.codes("P").contains(&code.to_string()),
            "{body}: {:?}",
            c.codes("P")
        );
    }
    // No Dy/Tb: plain NdFeB stays outside Ann. 18.
    let c = one("form = \"magnet\"\ncomposition = { Nd = 30, Fe = 69, B = 1 }");
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
}

/// Contract v2 §5 (pack guard `unlisted-magnet-family`, Ann. 18 items
/// 1C902.a.4/1C904.a.4/1C905.a.4): a magnet with a listed element that
/// matches no listed family is indeterminate, never not-controlled.
#[test]
fn a_magnet_with_a_listed_element_but_no_listed_family_is_indeterminate() {
    for body in [
        "composition = { Sm = 24, Fe = 73, N = 3 }",
        "composition = { Nd = 29, Gd = 2, Fe = 68, B = 1 }",
        "composition = { Y = 10, Co = 90 }",
    ] {
        let c = one(&format!("form = \"magnet\"\n{body}"));
        assert_eq!(c.verdict("P"), Verdict::Indeterminate, "{body}");
        let d = c.find(Code::IndeterminateClassification);
        assert!(
            d.message.contains("matches no listed family"),
            "{}",
            d.message
        );
    }
    // A ferrite has no listed element: not controlled.
    let c = one("form = \"magnet\"\ncomposition = { SrFe12O19 = 100 }");
    assert_eq!(c.verdict("P"), Verdict::NotControlled);
}

/// Ann. 18 notes to the list: the oxides, compounds and mixtures of .b/.c
/// "包括但不限于粉末" (include but are not limited to powder): crystals of
/// listed-element compounds are controlled (contract v2 §5).
#[test]
fn crystals_of_listed_element_compounds_are_controlled() {
    for (formula, code) in [
        ("Lu2SiO5", "1C906.c"),
        ("Y3Al5O12", "1C908.c"),
        ("Gd3Ga5O12", "1C903.c"),
    ] {
        let c = one(&format!(
            "form = \"crystal\"\ncomposition = {{ {formula} = 100 }}"
        ));
        assert_eq!(c.verdict("P"), Verdict::Controlled, "{formula}");
        assert_eq!(c.codes("P"), vec![code.to_string()], "{formula}");
    }
}

/// Contract v2 §5: an invalid or unknown composition entry is an
/// `invalid-value` and the verdict is never `not-controlled`: indeterminate,
/// unless the valid entries alone already make it controlled. A licence on
/// such a product is never called unnecessary.
#[test]
fn an_invalid_composition_entry_never_clears() {
    for body in [
        "composition = { Nd = 30, Dy = \"2\", Fe = 67, B = 1 }",
        "composition = { Nd = 30, Dy = 120, Fe = 67, B = 1 }",
        "composition = { Nd = 30, Dyy = 2, Fe = 67, B = 1 }",
        "composition = { Dy = \"2\" }",
    ] {
        let c = one(&format!("form = \"magnet\"\nlicence = \"L\"\n{body}"));
        assert_eq!(c.verdict("P"), Verdict::Indeterminate, "{body}");
        assert!(c.has(Code::InvalidValue), "{body}");
        assert!(!c.has(Code::UnnecessaryLicence), "{body}");
    }
    // The valid entries already make it controlled: that verdict stands.
    let c = one("form = \"magnet\"\ncomposition = { Nd = 30, Dy = 2, Fe = 66, Tbb = 1, B = 1 }");
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert!(c.has(Code::InvalidValue));
}

/// Products and the catalogue table written as inline tables are valid TOML
/// but not read table by table: an error (the run fails), with a fix that
/// rewrites them as tables; never silence.
#[test]
fn inline_table_products_are_an_error_with_a_fix() {
    let text = "catalogue = { as_of = 2026-06-01 }\nproduct = [ { sku = \"X\", form = \"oxide\", composition = { Dy2O3 = 100 } } ]\n";
    let c = check(text, D);
    let errs: Vec<_> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::InvalidValue)
        .collect();
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs.iter()
            .all(|d| d.severity == Severity::Error && d.message.contains("NOT checked"))
    );
    let product = errs
        .iter()
        .find(|d| d.message.contains("1 products"))
        .unwrap();
    assert_eq!(
        product.fix.replacements,
        vec![
            "[[product]]\nsku = \"X\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }".to_string()
        ]
    );
    // The fix gives a catalogue whose product is judged.
    let fixed = check(&product.fix.replacements[0], D);
    assert_eq!(fixed.verdict("X"), Verdict::Controlled);
}

/// A key or table defined twice is a TOML error; the rest of the file is
/// still judged (docs/format.md §1: errors are local).
#[test]
fn a_table_defined_twice_is_an_error_and_the_rest_is_judged() {
    let text = "[[product]]\nsku = \"A\"\nform = \"oxide\"\nform = \"metal\"\ncomposition = { Dy2O3 = 100 }\n\n[[product]]\nsku = \"B\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\n";
    let c = check(text, D);
    assert!(c.has(Code::SyntaxError));
    assert_eq!(c.verdict("A"), Verdict::Indeterminate);
    assert_eq!(c.verdict("B"), Verdict::Controlled);
}

/// FAQ V, answer 3, third paragraph: "电磁夹具、机器固定件" (electromagnetic
/// clamps and fixtures, machine fixing parts) are downstream products.
#[test]
fn fixtures_are_downstream_products() {
    let text = "[[product]]\nsku = \"M\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 2, Fe = 68, B = 1 }\n\n[[product]]\nsku = \"CLAMP\"\nform = \"fixture\"\ncomponents = [\"M\"]\n";
    let c = check(text, D);
    assert_eq!(c.verdict("CLAMP"), Verdict::Excluded);
    assert_eq!(c.exclusion("CLAMP").as_deref(), Some("downstream-product"));
    assert_eq!(c.codes("CLAMP"), vec!["1C905.a.4".to_string()]);
}

/// FAQ V, answer 1: "…编码器等零部件的组件" (encoders and other parts): the
/// list is open; an unknown part counts, with an `unknown-part` hint.
#[test]
fn integrated_parts_are_an_open_list() {
    let text = "[[product]]\nsku = \"M\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 2, Fe = 68, B = 1 }\n\n[[product]]\nsku = \"R\"\nform = \"rotor-assembly\"\ncomponents = [\"M\"]\nmounting = \"loose\"\nintegrates = [\"end-cap\", \"bearng\"]\n";
    let c = check(text, D);
    assert_eq!(c.verdict("R"), Verdict::Excluded);
    let hints: Vec<_> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::UnknownPart)
        .collect();
    assert_eq!(hints.len(), 2);
    assert!(hints.iter().all(|d| d.severity == Severity::Hint));
    assert!(
        hints
            .iter()
            .any(|d| d.fix.replacements == vec!["bearing".to_string()])
    );
    assert!(!c.has(Code::InvalidValue));
}

/// A verdict message names the item that matched, not the first record
/// sharing its code (an Eu phosphor is not "Europium metal").
#[test]
fn messages_name_the_item_that_matched() {
    let c = one("form = \"phosphor\"\ncomposition = { Eu2O3 = 5, Y2O3 = 95 }");
    // Ann. 57 is suspended on D: excluded from Ann. 18 (phosphor).
    assert_eq!(c.verdict("P"), Verdict::Excluded);
    let c = check(
        &product("form = \"phosphor\"\ncomposition = { Eu2O3 = 5, Y2O3 = 95 }"),
        "2026-12-01",
    );
    let d = c.find(Code::Controlled);
    assert!(d.message.contains("luminescent"), "{}", d.message);
    assert!(!d.message.contains("metal"), "{}", d.message);
}

/// Contract v2 §6 and the domain brief (§0, update of 2026-11-29): Ann. 70
/// suspended Ann. 57 "自即日起至2026年11月10日"; no source confirms what
/// happened after. The careful reading (in force) decides the verdict; the
/// product says so, with the other reading's verdict.
#[test]
fn after_the_suspension_the_status_is_unconfirmed_and_said() {
    let body = "form = \"magnet\"\ncomposition = { Nd = 30, Ho = 2, Fe = 67, B = 1 }";
    let during = one(body);
    assert_eq!(during.verdict("P"), Verdict::NotControlled);
    assert!(during.has(Code::SuspendedControl));
    assert!(!during.has(Code::UnconfirmedStatus));
    let after = check(&product(body), "2026-12-01");
    assert_eq!(after.verdict("P"), Verdict::Controlled);
    assert_eq!(after.codes("P"), vec!["1C909.a.4".to_string()]);
    let d = after.find(Code::UnconfirmedStatus);
    assert_eq!(d.severity, Severity::Warning);
    // What `check` prints: the message with the pack's assumption in place.
    let full = d.full_message();
    assert!(
        full.contains("2026-11-10") && full.contains("not-controlled"),
        "{full}"
    );
    // The editor's message says what to do; the assumption is the
    // explanation (shown in the hover), not repeated in it.
    assert!(
        d.message.contains("not-controlled") && !d.message.contains("2026-11-10"),
        "{}",
        d.message
    );
    let p = after.product("P");
    assert_eq!(p.classification.assumptions.len(), 1);
    assert_eq!(
        p.classification.other_reading.as_ref().map(|o| o.verdict),
        Some(Verdict::NotControlled)
    );
    // A verdict that does not depend on Ann. 57 carries no assumption.
    let dy = check(
        &product("form = \"magnet\"\ncomposition = { Nd = 30, Dy = 2, Fe = 67, B = 1 }"),
        "2026-12-01",
    );
    assert!(!dy.has(Code::UnconfirmedStatus));
    // Assumptions pass up to assemblies that contain such magnets.
    let text = format!(
        "{}\n[[product]]\nsku = \"S\"\nform = \"sensor\"\ncomponents = [\"P\"]\nmoulded = false\n",
        product(body)
    );
    let c = check(&text, "2026-12-01");
    assert_eq!(c.verdict("S"), Verdict::Controlled);
    assert!(c.codes_for("S").contains(&Code::UnconfirmedStatus));
}

/// Contract v2 §3: certificates are used *mainly* for testing, inspection,
/// spare parts, repair and exhibitions; another purpose is a warning, a
/// purpose outside the certificate's own `purposes` stays an error.
#[test]
fn an_unusual_certificate_purpose_is_a_warning() {
    let text = "[[licence]]\nid = \"C\"\ntype = \"certificate\"\nissued = 2026-01-01\nexpires = 2026-12-31\n\n[[product]]\nsku = \"P\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nlicence = \"C\"\npurpose = \"research\"\n";
    let c = check(text, D);
    assert!(c.codes_for("P").contains(&Code::CertificatePurposeUnusual));
    assert!(!c.has(Code::CertificatePurposeNotAllowed));
    let own = text.replace(
        "expires = 2026-12-31\n",
        "expires = 2026-12-31\npurposes = [\"testing\"]\n",
    );
    let c = check(&own, D);
    assert!(
        c.codes_for("P")
            .contains(&Code::CertificatePurposeNotAllowed)
    );
}

/// FAQ V's exclusions reach Ann. 18 items only ("一般不属于18号公告管制范围").
/// Once Ann. 57 applies (after 2026-11-10, as assumed), an assembly whose
/// magnets are unknown may hold a Ho magnet the exclusion does not reach:
/// indeterminate, and the other reading (still suspended) is named.
#[test]
fn an_exclusion_does_not_decide_unknown_contents_it_cannot_reach() {
    let text = "[[product]]\nsku = \"R\"\nform = \"rotor-assembly\"\nmounting = \"embedded\"\n\n[[product]]\nsku = \"M\"\nform = \"magnet\"\n\n[[product]]\nsku = \"RM\"\nform = \"rotor-assembly\"\nmounting = \"embedded\"\ncomponents = [\"M\"]\n";
    let during = check(text, D);
    assert_eq!(during.verdict("R"), Verdict::Excluded);
    assert_eq!(during.verdict("RM"), Verdict::Excluded);
    let after = check(text, "2026-12-01");
    for sku in ["R", "RM"] {
        assert_eq!(after.verdict(sku), Verdict::Indeterminate, "{sku}");
        let p = after.product(sku);
        assert_eq!(
            p.classification.other_reading.as_ref().map(|o| o.verdict),
            Some(Verdict::Excluded),
            "{sku}"
        );
        assert!(
            after.codes_for(sku).contains(&Code::UnconfirmedStatus),
            "{sku}"
        );
    }
    // Known Dy-NdFeB magnets: the exclusion decides on either reading.
    let known = "[[product]]\nsku = \"M\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 2, Fe = 68, B = 1 }\n\n[[product]]\nsku = \"RM\"\nform = \"rotor-assembly\"\nmounting = \"embedded\"\ncomponents = [\"M\"]\n";
    assert_eq!(check(known, "2026-12-01").verdict("RM"), Verdict::Excluded);
}

/// Issue 13: the engine says what to do in terms of fields ("set the
/// product's `licence` field"), never in one format's syntax (`licence =
/// "..."`, `[[licence]]`): a CSV catalogue has columns and cells, and the
/// format renders an edit (quick fixes), not the message. `toml_syntax`
/// finds such syntax outside quoted values; every message the engine adds
/// (the parser's own are left out) for the examples, the test fixtures and
/// a catalogue that makes each advising message fire, in TOML and in CSV,
/// is free of it.
#[test]
fn no_engine_message_speaks_toml_syntax() {
    use catalogue_lsp::catalogue::{Catalogue, Format};
    use catalogue_lsp::engine::{Analysis, Options};
    use catalogue_lsp::rules::RulePack;

    // TOML syntax in a message: `key = value`, `[[table]]`, `[table]`,
    // `{ inline }`, or the name of the format; the text of double-quoted
    // values (a party or product name may hold anything) is left out.
    fn toml_syntax(message: &str) -> Option<&'static str> {
        let mut bare = String::new();
        let mut quoted = false;
        for ch in message.chars() {
            if ch == '"' {
                quoted = !quoted;
                bare.push('"');
            } else if !quoted {
                bare.push(ch);
            }
        }
        let b = bare.as_str();
        if b.contains("[[") || b.contains("]]") {
            return Some("[[table]]");
        }
        if b.contains("= \"") || b.contains("=\"") || b.contains("= [") || b.contains("= {") {
            return Some("key = value");
        }
        if b.contains("TOML") || b.contains("inline table") {
            return Some("the TOML format");
        }
        let words: Vec<&str> = b.split_whitespace().collect();
        if words.windows(3).any(|w| {
            w[1] == "="
                && w[0]
                    .trim_start_matches('`')
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
                && !w[0].trim_start_matches('`').is_empty()
        }) {
            return Some("key = value");
        }
        if b.contains("`[") {
            return Some("[table]");
        }
        None
    }
    // The check can fail: the messages it replaced are caught.
    for old in [
        "controlled item (1C905.a.4) exported (trade) without a licence: every export needs one. Add `licence = \"...\"` naming one",
        "licence `X` is not defined in the workspace: add a [[licence]] table with this id",
        "individual licence names no end user; add `end_users = [\"...\"]`",
        "If it is not, record the review in a [[screening]] table (party, entry = \"x\", reason, by, on)",
        "The table has a TOML syntax error, so its facts may be incomplete",
        "set `moulded = true`",
        "the rule pack named by `[catalogue].rules`",
    ] {
        assert!(toml_syntax(old).is_some(), "not caught: {old}");
    }
    // Quoted values and field names in backticks are fine.
    for ok in [
        "end user \"A = \\\"B\\\" [[C]]\" is not among licence `L`'s end users",
        "set the product's `licence` field to the id of one",
        "composition sums to 101 %",
    ] {
        assert_eq!(toml_syntax(ok), None, "{ok}");
    }

    // A catalogue where each message that advises an edit fires.
    let advising_toml = "[[licence]]\nid = \"IL-NONE\"\ntype = \"individual\"\nissued = 2026-01-01\nexpires = 2026-12-31\n\n[[licence]]\nid = \"GL-EMPTY\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nend_users = []\n\n[[product]]\nsku = \"NO-LICENCE\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\n\n[[product]]\nsku = \"UNKNOWN-LICENCE\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nlicence = \"QQQQQQQQQQQQ\"\n\n[[product]]\nsku = \"ROTOR\"\nform = \"rotor-assembly\"\ncomponents = [\"ZZZZZZZZZZZZ\"]\n\n[[product]]\nsku = \"PARTY\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nend_user = \"Aerkomm Europe\"\n\n[[product]]\nsku = \"BROKEN\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\nthis is not a key\n\n[[shipment]]\nsku = \"WWWWWWWWWWWW\"\nship_date = 2026-02-01\n";
    let advising_csv = "sku,form,composition,destination,licence,components,end_user\nC-NO-LICENCE,oxide,Dy2O3=100,DE,,,\nC-UNKNOWN-LICENCE,oxide,Dy2O3=100,,QQQQQQQQQQQQ,,\nC-ROTOR,rotor-assembly,,,,ZZZZZZZZZZZZ,\nC-PARTY,oxide,Dy2O3=100,,,,Aerkomm Europe\n";
    let mut files: Vec<(String, String)> = vec![
        ("advising.catalogue.toml".into(), advising_toml.into()),
        ("advising.catalogue.csv".into(), advising_csv.into()),
    ];
    for dir in ["examples", "tests/fixtures"] {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().to_string();
                n.ends_with(".toml") || n.ends_with(".csv")
            })
            .collect();
        names.sort();
        for p in names {
            files.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    assert!(files.len() >= 10, "{}", files.len());
    let cats: Vec<Catalogue> = files
        .iter()
        .map(|(name, text)| Format::of_path(std::path::Path::new(name)).parse(text))
        .collect();
    let pack = RulePack::embedded();
    let ws = Analysis::new().files(&cats, &pack).build();
    let mut seen = std::collections::BTreeSet::new();
    let mut offending = Vec::new();
    let mut scanned = 0;
    for as_of in ["2026-06-01", "2026-12-01"] {
        let results = ws.analyse_all(&Options {
            as_of: Some(date(as_of)),
            today: date("2026-06-01"),
            explain: false,
            keep_judgements: false,
        });
        for ((cat, (name, _)), r) in cats.iter().zip(&files).zip(&results) {
            let parsed: Vec<_> = cat.all_diagnostics().collect();
            for d in r.diagnostics.iter().filter(|d| {
                !parsed
                    .iter()
                    .any(|p| p.code == d.code && p.span == d.span && p.message == d.message)
            }) {
                scanned += 1;
                seen.insert(d.code);
                let texts = std::iter::once(&d.message).chain(d.related.iter().map(|r| &r.message));
                for m in texts {
                    if let Some(what) = toml_syntax(m) {
                        offending.push(format!("{name}: {} ({what}): {m}", d.code.as_str()));
                    }
                }
            }
        }
    }
    assert!(offending.is_empty(), "{}", offending.join("\n"));
    // Every advising message was produced, so each was scanned.
    for c in [
        Code::MissingLicence,
        Code::UnknownLicence,
        Code::UnknownComponent,
        Code::UnknownSku,
        Code::MissingField,
        Code::InvalidValue,
        Code::PossibleListedParty,
        Code::IndeterminateClassification,
        Code::MissingEndUseEvidence,
        Code::RulePackStale,
        Code::LicenceQuantityExceeded,
        Code::IndividualLicenceSplitShipment,
    ] {
        assert!(
            seen.contains(&c),
            "{} not produced; seen {seen:?}",
            c.as_str()
        );
    }
    assert!(scanned > 100, "{scanned}");
}

/// Issue 16: the explanation of `missing-licence` and
/// `missing-end-use-evidence` (what every export needs, what an application
/// needs) is one copy per rule pack, not one per diagnostic: a million
/// products hold one.
#[test]
fn explanations_are_shared_between_diagnostics() {
    let mut text = String::new();
    for sku in ["A", "B", "C"] {
        text.push_str(&format!("[[product]]\nsku = \"{sku}\"\nform = \"oxide\"\ncomposition = {{ Dy2O3 = 100 }}\ndestination = \"DE\"\nend_user = \"E\"\n\n"));
    }
    let c = check(&text, "2026-06-01");
    for code in [Code::MissingLicence, Code::MissingEndUseEvidence] {
        let found: Vec<_> = c
            .diags()
            .into_iter()
            .filter(|d| d.code == code)
            .filter_map(|d| d.explanation.clone())
            .collect();
        assert_eq!(found.len(), 3, "{code:?}");
        assert!(
            found
                .windows(2)
                .all(|w| std::sync::Arc::ptr_eq(&w[0], &w[1])),
            "{code:?}"
        );
    }
}

/// Contract §5, "absence of data is never clearance": a composition of
/// zeros says the product contains nothing; it is invalid, and the product
/// is `indeterminate`, never `not-controlled` (as an empty one is).
#[test]
fn a_composition_of_zeros_is_indeterminate_not_clearance() {
    for comp in ["{ Nd = 0, Fe = 0 }", "{ Dy2O3 = 0 }", "{}"] {
        let c = one(&format!("form = \"magnet\"\ncomposition = {comp}"));
        assert_eq!(c.verdict("P"), Verdict::Indeterminate, "{comp}");
        assert!(c.has(Code::InvalidValue) || comp == "{}", "{comp}");
    }
}

/// Contract §1 (the tables of the format: `[catalogue]`, `[[licence]]`,
/// `[[product]]`, `[[shipment]]`) and §5 (no product goes unjudged): a
/// table plainly meant as one of them — another case, a plural, the US
/// spelling of licence — is read as that table, so its products are judged
/// and its licences found, and it is an error until it is written right.
#[test]
fn a_misnamed_product_or_licence_table_is_read_and_reported() {
    let text = "[catalogue]\nas_of = 2026-06-01\n\n[[products]]\nsku = \"P\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\nlicence = \"GL-1\"\n\n[[Product]]\nsku = \"C\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\n\n[[license]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-12-31\nitems = [\"1C905\"]\n";
    let c = check(text, D);
    assert_eq!(c.verdict("P"), Verdict::Controlled);
    assert_eq!(c.verdict("C"), Verdict::Controlled);
    // GL-1 was found: P is licensed, C is not.
    assert!(!c.codes_for("P").contains(&Code::MissingLicence));
    assert!(!c.codes_for("P").contains(&Code::UnknownLicence));
    assert!(c.codes_for("C").contains(&Code::MissingLicence));
    let misnamed: Vec<String> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::InvalidValue)
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(misnamed.len(), 3, "{misnamed:#?}");
    for (m, want) in misnamed
        .iter()
        .zip(["[[product]]", "[[product]]", "[[licence]]"])
    {
        assert!(m.contains(&format!("read as `{want}`")), "{m}");
    }
    assert!(
        c.diags()
            .iter()
            .all(|d| d.code != Code::InvalidValue || d.severity == Severity::Error)
    );
}

/// Contract §7 (the licence diagnostics: expiry, items, end users,
/// destinations) and §5 (absence of data is never clearance): a licence
/// that cannot be relied on — no `type`, or a limit written so it cannot be
/// read — never makes a product look licensed. The product is told its
/// licence cannot be relied on, and the checks whose fields could be read
/// still run (an expired licence without a type is still expired).
#[test]
fn a_licence_that_cannot_be_read_does_not_cover_the_export() {
    let text = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"L\"\nissued = 2020-01-01\nexpires = 2021-01-01\nitems = [\"1C905\"]\n\n[[licence]]\nid = \"M\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = \"1C902\"\nend_users = \"Other GmbH\"\n\n[[licence]]\nid = \"N\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\n\n[[product]]\nsku = \"A\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\nlicence = \"L\"\n\n[[product]]\nsku = \"B\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\nlicence = \"M\"\n\n[[product]]\nsku = \"C\"\nform = \"magnet\"\ncomposition = { Nd = 29, Dy = 3, Fe = 67, B = 1 }\nlicence = \"N\"\n";
    let c = check(text, D);
    let a = c.codes_for("A");
    assert!(a.contains(&Code::UnknownLicence), "{a:?}");
    assert!(a.contains(&Code::LicenceExpired), "{a:?}");
    let b = c.codes_for("B");
    assert!(b.contains(&Code::LicenceItemNotCovered), "{b:?}");
    assert!(b.contains(&Code::LicenceEndUserNotCovered), "{b:?}");
    // A licence read whole covers its export: no licence diagnostic on C.
    let licence_codes = [
        Code::UnknownLicence,
        Code::LicenceExpired,
        Code::LicenceItemNotCovered,
        Code::LicenceEndUserNotCovered,
        Code::MissingLicence,
    ];
    assert!(
        !c.codes_for("C").iter().any(|x| licence_codes.contains(x)),
        "{:?}",
        c.codes_for("C")
    );
}
