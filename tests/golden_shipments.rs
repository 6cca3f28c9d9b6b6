//! Golden tests for shipments and licence balances (contract v2 §3 limits,
//! §4a): the boundaries of each code (exactly 90 %, exactly the limit),
//! mass units converted, ties on one date, expiry between shipments,
//! defaults taken from the product, and end-use evidence.

mod common;
use catalogue_lsp::diagnostic::{Code, Diagnostic};
use common::*;

const D: &str = "2026-06-01";

/// A general licence for Dy oxide with the given limit lines.
fn licence(kind: &str, limits: &str) -> String {
    let end_users = if kind == "individual" {
        "end_users = [\"Example GmbH\"]\n"
    } else {
        ""
    };
    format!(
        "[[licence]]\nid = \"L\"\ntype = \"{kind}\"\nissued = 2026-01-01\nexpires = 2026-12-31\n{end_users}{limits}\n"
    )
}

/// A controlled product exported to DE under licence L on 2026-02-01.
fn product(extra: &str) -> String {
    format!(
        "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = {{ Dy2O3 = 100 }}\ndestination = \"DE\"\nend_user = \"Example GmbH\"\nend_use = \"motor production\"\ncontract = \"C-1\"\neuc = \"EUC-1\"\nlicence = \"L\"\nship_date = 2026-02-01\n{extra}\n"
    )
}

fn shipment(date: &str, extra: &str) -> String {
    format!("[[shipment]]\nsku = \"A\"\nship_date = {date}\n{extra}\n")
}

/// The diagnostics of one code, with the line each starts on (1-based).
fn at(c: &Checked, code: Code) -> Vec<usize> {
    let text = &c.texts[0];
    c.diags()
        .into_iter()
        .filter(|d| d.code == code)
        .map(|d: &Diagnostic| text[..d.span.start()].matches('\n').count() + 1)
        .collect()
}

/// The line of the `n`th (1-based) occurrence of `needle`.
fn line_of(text: &str, needle: &str, n: usize) -> usize {
    let (i, _) = text.match_indices(needle).nth(n - 1).unwrap();
    text[..i].matches('\n').count() + 1
}

#[test]
fn exactly_ninety_percent_is_nearly_used_and_exactly_the_limit_is_not_exceeded() {
    let text = format!(
        "{}{}{}{}",
        licence("general", "quantity = 100\nunit = \"kg\""),
        product("quantity = 50\nunit = \"kg\""),
        shipment("2026-03-01", "quantity = 40\nunit = \"kg\""),
        shipment("2026-04-01", "quantity = 10\nunit = \"kg\""),
    );
    let c = check(&text, D);
    // 50 (50 %), 90 (exactly 90 %: nearly used), 100 (exactly the limit: not over).
    assert_eq!(
        at(&c, Code::LicenceNearlyUsed),
        [line_of(&text, "quantity = 40", 1)]
    );
    assert!(!c.has(Code::LicenceQuantityExceeded), "{:#?}", c.diags());
    let d = c.find(Code::LicenceNearlyUsed);
    assert!(d.message.contains("90 of its 100 kg") && d.message.contains("10 kg are left"));
    // One more gram crosses it: that export and every later one are over.
    let text = format!(
        "{text}{}{}",
        shipment("2026-05-01", "quantity = 1\nunit = \"g\""),
        shipment("2026-05-02", "quantity = 1\nunit = \"kg\""),
    );
    let c = check(&text, D);
    assert_eq!(
        at(&c, Code::LicenceQuantityExceeded),
        [
            line_of(&text, "quantity = 1\n", 1),
            line_of(&text, "quantity = 1\n", 2)
        ]
    );
    let over = c.find(Code::LicenceQuantityExceeded);
    assert!(
        over.message.contains("100.001 of its 100 kg"),
        "{}",
        over.message
    );
    assert!(
        over.related
            .iter()
            .any(|r| r.message.contains("licence `L`"))
    );
    assert_eq!(at(&c, Code::LicenceNearlyUsed).len(), 1);
}

#[test]
fn mass_units_are_converted_between_g_kg_and_t() {
    // 0.5 t + 400 000 g = 900 kg of a 1 t limit: exactly 90 %.
    let text = format!(
        "{}{}{}",
        licence("general", "quantity = 1\nunit = \"t\""),
        product("quantity = 0.5\nunit = \"t\""),
        shipment("2026-03-01", "quantity = 400000\nunit = \"g\""),
    );
    let c = check(&text, D);
    assert_eq!(
        at(&c, Code::LicenceNearlyUsed),
        [line_of(&text, "quantity = 400000", 1)]
    );
    // 150 kg more: 1.05 t, over.
    let text = format!(
        "{text}{}",
        shipment("2026-04-01", "quantity = 150\nunit = \"kg\"")
    );
    let c = check(&text, D);
    assert_eq!(
        at(&c, Code::LicenceQuantityExceeded),
        [line_of(&text, "quantity = 150", 1)]
    );
    assert!(!c.has(Code::LicenceUnitMismatch));
}

#[test]
fn pieces_against_mass_and_another_currency_are_not_counted() {
    let text = format!(
        "{}{}{}",
        licence(
            "general",
            "quantity = 100\nunit = \"kg\"\nvalue = 1000\ncurrency = \"CNY\""
        ),
        product("quantity = 500\nunit = \"pcs\"\nvalue = 900\ncurrency = \"USD\""),
        shipment(
            "2026-03-01",
            "quantity = 95\nunit = \"kg\"\nvalue = 950\ncurrency = \"CNY\""
        ),
    );
    let c = check(&text, D);
    // Both on the product's export (the shipment states its own amounts).
    let mismatch = at(&c, Code::LicenceUnitMismatch);
    assert_eq!(mismatch.len(), 2, "{:#?}", c.diags());
    assert!(
        mismatch
            .iter()
            .all(|l| *l < line_of(&text, "[[shipment]]", 1))
    );
    let texts: Vec<&str> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::LicenceUnitMismatch)
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        texts
            .iter()
            .any(|m| m.contains("pcs") && m.contains("NOT counted"))
    );
    assert!(
        texts
            .iter()
            .any(|m| m.contains("USD") && m.contains("does not convert currencies"))
    );
    // Not counted: 95 kg and 950 CNY are each 95 %, nothing is over.
    assert_eq!(at(&c, Code::LicenceNearlyUsed).len(), 2);
    assert!(!c.has(Code::LicenceQuantityExceeded) && !c.has(Code::LicenceValueExceeded));
    // A pieces limit with a mass export: the other way round.
    let text = format!(
        "{}{}",
        licence("general", "quantity = 10\nunit = \"pcs\""),
        product("quantity = 2\nunit = \"kg\""),
    );
    assert!(check(&text, D).has(Code::LicenceUnitMismatch));
}

#[test]
fn value_limits_are_used_up_in_date_order_not_file_order() {
    // Written out of order: the April shipment comes first in the file but
    // is used after the product (February) and the March shipment.
    let text = format!(
        "{}{}{}{}",
        licence("general", "value = 1000\ncurrency = \"CNY\""),
        shipment("2026-04-01", "value = 200\ncurrency = \"CNY\""),
        product("value = 700\ncurrency = \"CNY\""),
        shipment("2026-03-01", "value = 200\ncurrency = \"CNY\""),
    );
    let c = check(&text, D);
    // Feb 700 (70 %), Mar 900 (90 %: nearly), Apr 1100: exceeded.
    assert_eq!(
        at(&c, Code::LicenceNearlyUsed),
        [line_of(&text, "ship_date = 2026-03-01", 1) + 1]
    );
    assert_eq!(
        at(&c, Code::LicenceValueExceeded),
        [line_of(&text, "ship_date = 2026-04-01", 1) + 1]
    );
}

#[test]
fn ties_on_one_date_are_used_in_file_order() {
    let text = format!(
        "{}{}{}{}",
        licence("general", "quantity = 100\nunit = \"kg\""),
        product("quantity = 10\nunit = \"kg\""),
        shipment("2026-03-01", "quantity = 85\nunit = \"kg\""),
        shipment("2026-03-01", "quantity = 6\nunit = \"kg\""),
    );
    let c = check(&text, D);
    // 10, then 95 (the first of the two on 2026-03-01: nearly), then 101.
    assert_eq!(
        at(&c, Code::LicenceNearlyUsed),
        [line_of(&text, "quantity = 85", 1)]
    );
    assert_eq!(
        at(&c, Code::LicenceQuantityExceeded),
        [line_of(&text, "quantity = 6", 1)]
    );
    // Across files on one date: the order of the files.
    let lic = licence("general", "quantity = 100\nunit = \"kg\"");
    let a = format!("{lic}{}", product("quantity = 95\nunit = \"kg\""));
    let b = shipment("2026-02-01", "quantity = 10\nunit = \"kg\"");
    let c = check_files(&[&a, &b], D);
    let exceeded: Vec<_> = c
        .results
        .iter()
        .map(|r| {
            r.diagnostics
                .iter()
                .filter(|d| d.code == Code::LicenceQuantityExceeded)
                .count()
        })
        .collect();
    assert_eq!(exceeded, [0, 1]);
}

#[test]
fn expiry_between_shipments_is_judged_on_each_date() {
    let text = format!(
        "{}{}{}{}",
        licence("general", "quantity = 100\nunit = \"kg\"").replace("2026-12-31", "2026-03-15"),
        product(""),
        shipment("2026-03-15", ""),
        shipment("2026-03-16", ""),
    );
    let c = check(&text, D);
    // The product (Feb 1) and the shipment on the last day are valid; the next day is not.
    assert_eq!(
        at(&c, Code::LicenceExpired),
        [line_of(&text, "[[shipment]]", 2)]
    );
    let d = c.find(Code::LicenceExpired);
    assert!(d.message.contains("2026-03-16") && d.message.contains("the product's"));
}

#[test]
fn shipments_take_the_products_facts_and_override_them() {
    // Shipped to a destination the licence does not cover: only that shipment.
    let text = format!(
        "{}{}{}{}",
        licence("general", "").replace(
            "expires = 2026-12-31\n",
            "expires = 2026-12-31\ndestinations = [\"DE\"]\n"
        ),
        product(""),
        shipment("2026-03-01", "destination = \"US\""),
        shipment("2026-03-02", ""),
    );
    let c = check(&text, D);
    assert_eq!(
        at(&c, Code::LicenceDestinationNotCovered),
        [line_of(&text, "[[shipment]]", 1)]
    );
    // A shipment naming another licence uses that one, not the product's.
    let text = format!(
        "{}{}{}",
        licence("general", "quantity = 10\nunit = \"kg\""),
        product("quantity = 10\nunit = \"kg\""),
        shipment(
            "2026-03-01",
            "licence = \"L2\"\nquantity = 10\nunit = \"kg\""
        ),
    );
    let c = check(&text, D);
    assert!(!c.has(Code::LicenceQuantityExceeded));
    assert!(c.find(Code::UnknownLicence).message.contains("L2"));
    // A shipment of a product that is not controlled on its date uses no
    // licence check beyond `unnecessary-licence`; before Ann. 18 took effect
    // the oxide was not controlled.
    let text = format!(
        "{}{}{}",
        licence("general", "").replace("2026-01-01", "2025-01-01"),
        product(""),
        shipment("2025-03-01", ""),
    );
    let c = check(&text, D);
    assert_eq!(
        at(&c, Code::UnnecessaryLicence),
        [line_of(&text, "[[shipment]]", 1)]
    );
}

#[test]
fn individual_licences_are_one_batch_one_licence() {
    let text = format!(
        "{}{}{}{}",
        licence("individual", ""),
        product(""),
        shipment("2026-02-01", ""),
        shipment("2026-02-02", ""),
    );
    let c = check(&text, D);
    // The shipment on the product's own date is the same batch; the next day is not.
    assert_eq!(
        at(&c, Code::IndividualLicenceSplitShipment),
        [line_of(&text, "[[shipment]]", 2)]
    );
    // A general licence may serve many shipments.
    let text = text.replace("type = \"individual\"", "type = \"general\"");
    assert!(!check(&text, D).has(Code::IndividualLicenceSplitShipment));
}

#[test]
fn end_use_evidence_is_asked_of_controlled_exports_without_a_general_licence() {
    let bare = "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nend_user = \"Example GmbH\"\n";
    let c = check(bare, D);
    let d = c.find(Code::MissingEndUseEvidence);
    // `check`'s text: what is missing, what an application needs, what to do.
    let full = d.full_message();
    for needed in [
        "`end_use`",
        "`contract`",
        "`euc`",
        "no-transfer",
        "45 working days",
    ] {
        assert!(full.contains(needed), "{needed}: {full}");
    }
    assert!(!full.contains("`end_user`"));
    // The editor's message: what is missing and what to do, without the
    // application's requirements (the shared explanation, in the hover).
    assert!(
        d.message.contains("`euc`") && d.message.contains("before applying"),
        "{}",
        d.message
    );
    assert!(!d.message.contains("no-transfer"), "{}", d.message);
    assert!(d.source.is_some());
    // All four given: nothing asked.
    let full = format!("{bare}end_use = \"motors\"\ncontract = \"C\"\neuc = \"E\"\n");
    assert!(!check(&full, D).has(Code::MissingEndUseEvidence));
    // Not exported (no destination), or not controlled: nothing asked.
    assert!(
        !check(&bare.replace("destination = \"DE\"\n", ""), D).has(Code::MissingEndUseEvidence)
    );
    assert!(!check(&bare.replace("Dy2O3", "La2O3"), D).has(Code::MissingEndUseEvidence));
    // Under a general licence: not asked; under an individual one: asked.
    let general = format!(
        "{}{}",
        licence("general", ""),
        product("").replace("euc = \"EUC-1\"\n", "")
    );
    assert!(!check(&general, D).has(Code::MissingEndUseEvidence));
    let individual = general.replace(
        "type = \"general\"",
        "type = \"individual\"\nend_users = [\"Example GmbH\"]",
    );
    let c = check(&individual, D);
    assert!(
        c.find(Code::MissingEndUseEvidence)
            .message
            .contains("individual licence `L`")
    );
    // A shipment lacking evidence the product has is judged with the product's.
    let text = format!("{}{}", full, shipment("2026-03-01", ""));
    assert!(!check(&text, D).has(Code::MissingEndUseEvidence));
}

#[test]
fn shipment_tables_are_validated_like_the_others() {
    let text = format!(
        "{}[[shipment]]\nsku = \"B\"\nquantty = 3\n\n[[shipment]]\nsku = \"A\"\nship_date = 2026-03-01\nquantity = -1\nunit = \"lb\"\ncurrency = \"usd\"\n",
        product("")
    );
    let c = check(&text, D);
    let missing = c.find(Code::MissingField);
    assert!(
        missing.message.contains("`ship_date`"),
        "{}",
        missing.message
    );
    let unknown = c.find(Code::UnknownField);
    assert!(unknown.message.contains("did you mean `quantity`"));
    let invalid: Vec<&str> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::InvalidValue)
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        invalid.iter().any(|m| m.contains("greater than 0")),
        "{invalid:#?}"
    );
    assert!(invalid.iter().any(|m| m.contains("`unit`")), "{invalid:#?}");
    assert!(
        invalid.iter().any(|m| m.contains("\"USD\"")),
        "{invalid:#?}"
    );
    // `currency` without `value`: reported, not counted.
    assert!(
        c.diags()
            .iter()
            .any(|d| d.code == Code::MissingField
                && d.message.contains("`currency` without `value`"))
    );
    // An unknown sku: did you mean, with the fix.
    let c = check(
        &format!(
            "{}{}",
            product(""),
            shipment("2026-03-01", "").replace("\"A\"", "\"a\"")
        ),
        D,
    );
    let d = c.find(Code::UnknownSku);
    assert!(d.message.contains("did you mean `A`"));
    assert_eq!(d.fix.replacements, ["A"]);
    // `[shipment]` (one table) is told to be an array of tables.
    let c = check(
        &format!(
            "{}[shipment]\nsku = \"A\"\nship_date = 2026-03-01\n",
            product("")
        ),
        D,
    );
    assert!(c.find(Code::InvalidValue).message.contains("[[shipment]]"));
}

#[test]
fn licence_limits_are_validated() {
    let text = licence("general", "quantity = 0\nunit = \"kg\"\nvalue = 100");
    let c = check(&text, D);
    assert!(
        c.find(Code::InvalidValue)
            .message
            .contains("greater than 0")
    );
    assert!(
        c.diags()
            .iter()
            .any(|d| d.code == Code::MissingField
                && d.message.contains("`value` without `currency`"))
    );
}

#[test]
fn every_export_after_the_limit_is_crossed_is_over_whatever_its_amount() {
    let text = format!(
        "{}{}{}{}{}",
        licence("general", "quantity = 100\nunit = \"kg\""),
        product("quantity = 101\nunit = \"kg\""),
        shipment("2026-03-01", "quantity = 5\nunit = \"pcs\""),
        shipment("2026-04-01", ""),
        shipment("2026-05-01", "quantity = 1\nunit = \"g\""),
    );
    let c = check(&text, D);
    // The product crosses it; the pieces, the product's own amount again
    // (a shipment without amount takes the product's) and the gram are all over.
    assert_eq!(
        at(&c, Code::LicenceQuantityExceeded).len(),
        4,
        "{:#?}",
        c.diags()
    );
    assert_eq!(at(&c, Code::LicenceUnitMismatch).len(), 1);
}

/// A shipment's `transfer` and `purpose` are the pack's words, checked like a
/// product's (contract §4: the enums; the default pack declares them).
#[test]
fn a_shipments_words_are_checked_against_the_pack() {
    let text = format!(
        "{}{}{}",
        licence("general", ""),
        product(""),
        shipment("2026-03-01", "transfer = \"gift\"\npurpose = \"testin\""),
    );
    let c = check(&text, D);
    let bad: Vec<&Diagnostic> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::InvalidValue)
        .collect();
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(
        &c.texts[0][bad[0].span.start()..bad[0].span.end()],
        "\"testin\""
    );
    assert_eq!(
        bad[0].fix.replacements.first().map(String::as_str),
        Some("testing")
    );
}

/// docs/format.md §6: "`rule-pack-stale` [information], once per file: an
/// evaluation date is later than the pack's `reviewed_through`", and §4a:
/// "each shipment is judged on its own `ship_date`". A shipment dated after
/// the pack's `reviewed_through` (2026-11-29 for the embedded pack) makes the
/// pack stale for its file exactly as a product's `ship_date` does, placed
/// on that date; the day itself is not later; a file of shipments only
/// (products elsewhere) is judged by its own shipments.
#[test]
fn a_shipment_dated_after_the_packs_review_makes_the_pack_stale() {
    let reviewed = catalogue_lsp::rules::RulePack::embedded()
        .reviewed_through
        .to_string();
    assert_eq!(reviewed, "2026-11-29", "the test's dates assume it");
    let base = format!(
        "{}{}",
        licence("general", ""),
        product("quantity = 1\nunit = \"kg\"")
    );
    // The products' dates and the shipment's on the day reviewed: not stale.
    let text = format!("{base}{}", shipment("2026-11-29", ""));
    let c = check(&text, D);
    assert!(!c.has(Code::RulePackStale), "{:#?}", c.diags());
    // One day later: stale, once, on the shipment's date.
    let text = format!(
        "{base}{}{}",
        shipment("2026-11-30", ""),
        shipment("2026-12-01", "")
    );
    let c = check(&text, D);
    assert_eq!(
        at(&c, Code::RulePackStale),
        [line_of(&text, "ship_date = 2026-12-01", 1)],
        "{:#?}",
        c.diags()
    );
    let d = c.find(Code::RulePackStale);
    assert_eq!(c.text_of(d), "2026-12-01");
    assert!(
        d.message
            .starts_with("evaluation date 2026-12-01 is later than rule pack"),
        "{}",
        d.message
    );
    // A file holding only shipments of another file's product.
    let only = shipment("2026-12-01", "");
    let c = common::check_files(&[&base, &only], D);
    let stale: Vec<usize> = c
        .results
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.diagnostics
                .iter()
                .filter(|d| d.code == Code::RulePackStale)
                .map(move |_| i)
        })
        .collect();
    assert_eq!(stale, [1], "{:#?}", c.diags());
}

/// Contract §6: "every product whose verdict depends on it gets
/// `unconfirmed-status`" — so does a shipment judged on its own date. A
/// holmium magnet is not controlled on the catalogue's date (Ann. 57
/// suspended by Ann. 70 until 2026-11-10) but its shipment on 2026-12-01
/// rests on the pack's assumption that Ann. 57 applies again, which no
/// source confirms: the shipment says so, with the other reading.
#[test]
fn a_shipment_on_an_unconfirmed_date_says_what_is_assumed() {
    let text = "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"HO\"\nform = \"magnet\"\ncomposition = { Nd = 29, Ho = 3, Fe = 67, B = 1 }\nship_date = 2026-06-01\n\n[[shipment]]\nsku = \"HO\"\nship_date = 2026-12-01\nquantity = 10\nunit = \"kg\"\n";
    let c = check(text, D);
    let on_shipment: Vec<&Diagnostic> = c
        .diags()
        .into_iter()
        .filter(|d| d.code == Code::UnconfirmedStatus)
        .collect();
    assert_eq!(on_shipment.len(), 1, "{on_shipment:#?}");
    let d = on_shipment[0];
    assert_eq!(c.text_of(d), "[[shipment]]");
    assert!(d.message.contains("2026-12-01"), "{}", d.message);
    assert!(d.message.contains("other reading"), "{}", d.message);
    // Only the shipment is controlled (on its date): one missing licence, on it.
    assert_eq!(at(&c, Code::MissingLicence), vec![10]);
}
