//! Party screening (contract §4b): golden tests per normalisation rule and
//! per list consequence, false-positive guards, a property test that
//! screening does not depend on the order of the list, and the embedded
//! list's own entries. The list used is the fictional one in
//! `tests/parties/fictional.parties.toml` (invented names, no real company)
//! unless a test says it uses the embedded list.

use catalogue_lsp::catalogue;
use catalogue_lsp::diagnostic::{Code, Diagnostic};
use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::parties::{Match, PartyList};
use catalogue_lsp::rules::RulePack;
use jiff::civil::{Date, date};
use proptest::prelude::*;
use std::sync::Arc;

const FICTIONAL: &str = include_str!("parties/fictional.parties.toml");

fn list() -> Arc<PartyList> {
    Arc::new(PartyList::parse(FICTIONAL, "fictional").unwrap())
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// Diagnostics of one catalogue screened against the fictional list on 2026-06-01.
fn diags(text: &str) -> Vec<Diagnostic> {
    diags_with(text, list())
}

fn diags_with(text: &str, parties: Arc<PartyList>) -> Vec<Diagnostic> {
    let cat = catalogue::parse(text);
    let ws = Analysis::new()
        .file(&cat, RulePack::embedded())
        .parties(parties)
        .build();
    let opts = Options::on(date(2026, 6, 1));
    ws.analyse_all(&opts).remove(0).diagnostics
}

fn party_diags(text: &str) -> Vec<Diagnostic> {
    diags(text)
        .into_iter()
        .filter(|d| matches!(d.code, Code::ListedParty | Code::PossibleListedParty))
        .collect()
}

fn product(end_user: &str) -> String {
    format!(
        "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = {{ Dy2O3 = 99 }}\ndestination = \"DE\"\nend_user = {}\n",
        serde_json::to_string(end_user).unwrap()
    )
}

fn listed(name: &str) -> bool {
    !list().screen(name, d("2026-06-01")).is_empty()
        && list()
            .screen(name, d("2026-06-01"))
            .iter()
            .all(|f| f.how == Match::Listed)
}

/// One golden case per normalisation rule (src/parties/normalise.rs): each
/// spelling is the listed name `Zephyr Dynamo Works Ltd.` and matches exactly.
#[test]
fn each_normalisation_rule_gives_an_exact_match() {
    let cases = [
        ("case", "ZEPHYR DYNAMO WORKS LTD."),
        (
            "full-width forms (NFKC)",
            "Ｚｅｐｈｙｒ　Ｄｙｎａｍｏ　Ｗｏｒｋｓ",
        ),
        ("punctuation", "Zephyr-Dynamo-Works, Ltd"),
        ("whitespace", "  Zephyr   Dynamo\tWorks  "),
        ("diacritics", "Zéphyr Dynamö Wörks"),
        ("Latin legal form: Limited", "Zephyr Dynamo Works Limited"),
        (
            "Latin legal form: Co., Ltd.",
            "Zephyr Dynamo Works Co., Ltd.",
        ),
        ("Latin legal form: GmbH", "Zephyr Dynamo Works GmbH"),
        ("Latin legal form: Inc.", "Zephyr Dynamo Works, Inc."),
        ("Latin legal form: LLC", "Zephyr Dynamo Works LLC"),
        (
            "Latin legal form: Corporation",
            "Zephyr Dynamo Works Corporation",
        ),
        ("Latin legal form: S.A.", "Zephyr Dynamo Works S.A."),
        ("the article and `&`", "The Zephyr Dynamo Works"),
        ("alias", "Zephyr Dynamo"),
        ("Chinese name", "泽菲尔动力工厂有限公司"),
        ("Chinese legal form: 有限公司 dropped", "泽菲尔动力工厂"),
        (
            "Chinese legal form: 股份有限公司",
            "泽菲尔动力工厂股份有限公司",
        ),
        ("Chinese legal form: 集团", "泽菲尔动力工厂集团"),
        (
            "Chinese full-width parentheses and spaces",
            "泽菲尔动力工厂（有限公司）",
        ),
        ("Japanese-style 株式会社", "奎隆光学"),
    ];
    for (rule, name) in cases {
        assert!(listed(name), "{rule}: `{name}` should be listed");
    }
}

/// Control list: exports of dual-use items to listed parties are prohibited
/// (MOFCOM announcements adding entities to the 出口管制管控名单, e.g. No. 11
/// of 2026: "禁止出口经营者向上述…实体出口两用物项"), whatever the licence.
#[test]
fn control_list_consequence_prohibits_whatever_the_licence() {
    let text = format!(
        "{}licence = \"IL-1\"\n[[licence]]\nid = \"IL-1\"\ntype = \"individual\"\nissued = 2026-01-01\nexpires = 2026-12-31\nend_users = [\"Someone Else\"]\n",
        product("Zephyr Dynamo Works Ltd.")
    );
    let ds = party_diags(&text);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    let m = &ds[0].message;
    assert_eq!(ds[0].code, Code::ListedParty);
    assert!(
        m.contains("export control control list (出口管制管控名单)"),
        "{m}"
    );
    assert!(m.contains("test-ecl-zephyr-dynamo"), "{m}");
    assert!(m.contains("prohibited"), "{m}");
    assert!(
        m.contains("licence `IL-1` does not make the export lawful"),
        "{m}"
    );
    assert!(m.contains("apply to MOFCOM"), "{m}");
    let src = ds[0].source.as_ref().unwrap();
    assert_eq!(&*src.url, "https://example.invalid/fictional/1");
}

/// Watch list: "不得申请通用许可或者以登记填报信息方式获得出口凭证；申请单项许可时，
/// 应当提交…风险评估报告，并提供…书面承诺" (MOFCOM Ann. No. 12 of 2026): a
/// general licence or a certificate cannot serve the party; an individual one can,
/// with the risk assessment and the undertaking.
#[test]
fn watch_list_consequence_depends_on_the_licence_type() {
    let with = |kind: &str| {
        format!(
            "{}licence = \"L\"\n[[licence]]\nid = \"L\"\ntype = \"{kind}\"\nissued = 2026-01-01\nexpires = 2026-12-31\n",
            product("Quillon Optics Corp")
        )
    };
    for kind in ["general", "certificate"] {
        let ds = party_diags(&with(kind));
        assert_eq!(ds.len(), 1, "{kind}: {ds:#?}");
        assert!(
            ds[0]
                .message
                .contains("cannot be served under a general licence or an export certificate"),
            "{kind}: {}",
            ds[0].message
        );
    }
    let ds = party_diags(&with("individual"));
    assert!(
        ds[0]
            .message
            .contains("is an individual licence: check it was granted"),
        "{}",
        ds[0].message
    );
    assert!(
        ds[0].message.contains("risk-assessment report"),
        "{}",
        ds[0].message
    );
    // No licence named: only an individual licence can serve it.
    let ds = party_diags(&product("Quillon Optics Corp"));
    assert!(
        ds[0].message.contains("only an individual licence"),
        "{}",
        ds[0].message
    );
    // A general licence naming a watch-list party among its end users.
    let lic = "[[licence]]\nid = \"G\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nend_users = [\"Harbour Motors\", \"QUILLON OPTICS\"]\n";
    let ds = party_diags(lic);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert!(
        ds[0].message.contains("licence end user"),
        "{}",
        ds[0].message
    );
    assert!(
        ds[0].message.contains("it names a watch-list party"),
        "{}",
        ds[0].message
    );
}

/// Unreliable entity list: the measures are the announcement's own (for the
/// 2025-09-25 decision: no import/export activities related to China, no new
/// investment in China; Global Times report of the MOFCOM statement).
#[test]
fn unreliable_entity_list_consequence_quotes_the_measures() {
    let ds = party_diags(&product("Marrowind Avionics Inc"));
    assert_eq!(ds.len(), 1);
    assert!(
        ds[0]
            .message
            .contains("unreliable entity list (不可靠实体清单)")
    );
    assert!(
        ds[0]
            .message
            .contains("barred from import and export activities")
    );
}

/// Entries count from `added` and stop at `removed` (No. 22/2025's measures
/// stopped 2025-08-12 in the embedded list; here a fictional one).
#[test]
fn entries_are_in_force_between_added_and_removed() {
    let l = list();
    let name = "Brindlecrest Instruments GmbH";
    assert!(l.screen(name, d("2025-01-09")).is_empty(), "before added");
    assert_eq!(l.screen(name, d("2025-01-10"))[0].how, Match::Listed);
    assert_eq!(l.screen(name, d("2025-07-31"))[0].how, Match::Listed);
    assert!(l.screen(name, d("2025-08-01")).is_empty(), "removed");
    // Ship date decides: a product shipped while the entry was in force.
    let text = format!("{}ship_date = 2025-05-01\n", product(name));
    assert_eq!(party_diags(&text).len(), 1);
}

#[test]
fn close_names_are_possible_matches_that_say_why_and_how_close() {
    let l = list();
    // One typo.
    let f = &l.screen("Zephir Dynamo Works", d("2026-06-01"))[0];
    assert!(matches!(f.how, Match::Possible { .. }), "{f:?}");
    let why = f.why();
    assert!(why.contains("spelling similarity"), "{why}");
    assert!(why.contains("shares 2 of its 3 distinctive words"), "{why}");
    // Words: the entry's distinctive words in another name.
    let f = &l.screen("Zephyr Dynamo Works Europe", d("2026-06-01"))[0];
    assert!(matches!(f.how, Match::Possible { .. }), "{f:?}");
    // One distinctive word of a one-word entry.
    // (the embedded list's `Aerkomm Inc.`, unreliable entity list 2025-09-25).
    let e = PartyList::embedded();
    let f = &e.screen("Aerkomm Europe SAS", d("2026-06-01"))[0];
    assert!(matches!(f.how, Match::Possible { .. }), "{f:?}");
    assert_eq!(e.parties[f.party].id, "cn-uel-2025-09-25-aerkomm");
    let ds = party_diags(&product("Zephir Dynamo Works"));
    assert_eq!(ds[0].code, Code::PossibleListedParty);
    assert!(
        ds[0]
            .message
            .contains("is close to \"Zephyr Dynamo Works Ltd.\""),
        "{}",
        ds[0].message
    );
    assert!(
        ds[0]
            .message
            .contains("record the review in a screening record"),
        "{}",
        ds[0].message
    );
}

/// Guards against false positives: common words, short names, a single
/// generic token, numbers that differ.
#[test]
fn false_positive_guards() {
    let l = list();
    let none = |n: &str| {
        let f = l.screen(n, d("2026-06-01"));
        assert!(f.is_empty(), "`{n}` should match nothing: {f:?}");
    };
    none("Works Ltd"); // a common word
    none("Optics Corporation"); // a common word with a legal form
    none("Global Optics Technologies"); // generic words only
    none("ZDW"); // short
    none("Co., Ltd."); // a legal form alone
    none("Dynamo"); // short single word of a multi-word entry
    none("Quill"); // a prefix, too short
    none("Harbour Motors AG"); // unrelated
    none(""); // empty
    // The embedded list: words every rare-earth catalogue uses, and
    // function words, are not what makes a name that of a listed party.
    let embedded = PartyList::embedded();
    for name in [
        "China Northern Rare Earth Group", // vs USA Rare Earth (2026-06-22)
        "Center for Strategic and International Studies", // vs the National Institute for Defense Studies
        "Ningbo Rare Earth Magnets Co., Ltd.",
    ] {
        let f = embedded.screen(name, d("2026-11-30"));
        assert!(f.is_empty(), "`{name}` should match nothing: {f:?}");
    }
    assert!(
        !embedded
            .screen("USA Rare Earth LLC", d("2026-11-30"))
            .is_empty(),
        "the listed name itself still matches"
    );
    let customers = PartyList::parse(
        &FICTIONAL.replace("Marrowind Avionics, Inc.", "Customer 13"),
        "t",
    )
    .unwrap();
    assert!(
        customers.screen("Customer 12", d("2026-06-01")).is_empty(),
        "different numbers"
    );
    // Exact match only for a 3-character name; no fuzzy on it.
    let short =
        PartyList::parse(&FICTIONAL.replace("Marrowind Avionics, Inc.", "XQZ"), "t").unwrap();
    assert!(short.screen("XQZ", d("2026-06-01"))[0].how == Match::Listed);
    assert!(short.screen("XQY", d("2026-06-01")).is_empty());
}

/// A complete [[screening]] record silences `possible-listed-party` for its
/// pair, never `listed-party`; an incomplete one silences nothing.
#[test]
fn reviewed_non_matches_silence_only_possible_matches() {
    let review = |party: &str, entry: &str, complete: bool| {
        let tail = if complete {
            "reason = \"a different firm (registry no. 123)\"\nby = \"A. Reviewer\"\non = 2026-05-01\n"
        } else {
            "reason = \"a different firm\"\n"
        };
        format!("[[screening]]\nparty = \"{party}\"\nentry = \"{entry}\"\n{tail}")
    };
    let close = product("Zephir Dynamo Works");
    assert_eq!(party_diags(&close).len(), 1);
    let silenced = format!(
        "{close}{}",
        review("ZEPHIR dynamo works", "test-ecl-zephyr-dynamo", true)
    );
    assert!(party_diags(&silenced).is_empty());
    // Another entry or another party: not silenced.
    let other = format!(
        "{close}{}",
        review("Zephir Dynamo Works", "test-wl-quillon-optics", true)
    );
    assert_eq!(party_diags(&other).len(), 1);
    // Incomplete: not silenced, and the record itself is a missing-field error.
    let incomplete = format!(
        "{close}{}",
        review("Zephir Dynamo Works", "test-ecl-zephyr-dynamo", false)
    );
    assert_eq!(party_diags(&incomplete).len(), 1);
    assert!(
        diags(&incomplete)
            .iter()
            .any(|d| d.code == Code::MissingField && d.message.contains("`by`, `on`"))
    );
    // Never a listed party.
    let exact = product("Zephyr Dynamo Works Ltd.");
    let reviewed = format!(
        "{exact}{}",
        review("Zephyr Dynamo Works Ltd.", "test-ecl-zephyr-dynamo", true)
    );
    assert_eq!(party_diags(&reviewed)[0].code, Code::ListedParty);
}

/// The embedded list: real entries, each with its source, matched exactly
/// in Latin and Chinese script (MOFCOM Ann. No. 11 and No. 12 of 2026, No.
/// 51 of 2025); an entry whose measures stopped is not listed after that.
#[test]
fn the_embedded_list_screens_its_verified_entries() {
    let l = PartyList::embedded();
    let on = d("2026-06-01");
    for (name, id) in [
        (
            "Mitsubishi Heavy Industries Shipbuilding Co., Ltd.",
            "cn-ecl-2026-11-mhi-shipbuilding",
        ),
        ("三菱造船株式会社", "cn-ecl-2026-11-mhi-shipbuilding"),
        ("株式会社SUBARU", "cn-wl-2026-12-subaru"),
        (
            "Huntington Ingalls Industries",
            "cn-ecl-2025-51-huntington-ingalls",
        ),
        (
            "亨廷顿·英格尔斯工业公司",
            "cn-ecl-2025-51-huntington-ingalls",
        ),
        (
            "Oceaneering International, Inc.",
            "cn-uel-2025-09-25-oceaneering",
        ),
    ] {
        let f = l.screen(name, on);
        assert_eq!(f.len(), 1, "{name}: {f:?}");
        assert_eq!(f[0].how, Match::Listed, "{name}");
        assert_eq!(l.parties[f[0].party].id, id, "{name}");
    }
    assert!(
        l.screen("Novotech, Inc.", d("2025-05-01"))
            .iter()
            .any(|f| f.how == Match::Listed)
    );
    assert!(
        l.screen("Novotech, Inc.", on).is_empty(),
        "measures stopped 2025-08-12"
    );
    // Ordinary customer names match nothing in the embedded list.
    for n in [
        "Example Motors GmbH",
        "Customer 12",
        "Acme Magnet Trading Co., Ltd.",
        "Siemens AG",
        "Bosch",
    ] {
        assert!(l.screen(n, on).is_empty(), "{n}: {:?}", l.screen(n, on));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Screening does not depend on the order of the list's entries.
    #[test]
    fn screening_is_independent_of_list_order(seed in any::<u64>(), pick in 0usize..12) {
        let names = [
            "Zephyr Dynamo Works Ltd.", "Zephir Dynamo Works", "Zephyr Dynamo Works Europe",
            "Quillon Optics", "Quilon Optic Corp", "奎隆光学", "Marrowind Holdings",
            "Marrowind Avionix", "Brindlecrest Instruments", "Harbour Motors AG", "Works Ltd", "泽菲尔动力",
        ];
        let (head, rest) = FICTIONAL.split_once("\n[[party]]").unwrap();
        let mut entries: Vec<&str> = rest.split("\n[[party]]").collect();
        // A permutation from the seed (Fisher–Yates with a small LCG).
        let mut s = seed;
        for i in (1..entries.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            entries.swap(i, (s >> 33) as usize % (i + 1));
        }
        let shuffled = format!("{head}{}", entries.iter().map(|e| format!("\n[[party]]{e}")).collect::<String>());
        let a = PartyList::parse(FICTIONAL, "a").unwrap();
        let b = PartyList::parse(&shuffled, "b").unwrap();
        let key = |l: &PartyList, n: &str| -> Vec<(String, String, String)> {
            l.screen(n, d("2026-06-01")).iter()
                .map(|f| (l.parties[f.party].id.clone(), f.matched.clone(), format!("{:?}", f.how)))
                .collect()
        };
        let n = names[pick];
        prop_assert_eq!(key(&a, n), key(&b, n));
        let text = product(n);
        prop_assert_eq!(
            diags_with(&text, Arc::new(a)).iter().map(|d| d.message.clone()).collect::<Vec<_>>(),
            diags_with(&text, Arc::new(b)).iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        );
    }
}

/// Screening one name does work bounded by the index's posting caps, not by
/// the length of the list: a list 16 times longer costs at most a little more.
#[test]
fn screening_work_does_not_grow_with_the_list() {
    fn generated(n: usize) -> String {
        const SYL: &[&str] = &[
            "zor", "vel", "qua", "brin", "dal", "mek", "tor", "lis", "nar", "pex", "rov", "sul",
        ];
        let mut s = String::from(
            "[parties]\nid = \"g\"\nversion = \"1\"\nreviewed_through = 2026-11-30\nnote = \"generated\"\n",
        );
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        for i in 0..n {
            let w1: String = (0..3).map(|_| SYL[next() % SYL.len()]).collect();
            let w2: String = (0..2).map(|_| SYL[next() % SYL.len()]).collect();
            s.push_str(&format!(
                "\n[[party]]\nid = \"g{i}\"\nname = \"{w1} {w2} Systems Ltd.\"\nlist = \"control-list\"\nadded = 2025-01-01\nsource = {{ instrument = \"g\", url = \"https://example.invalid\" }}\nconfidence = \"test\"\n"
            ));
        }
        s
    }
    let names = [
        "Zorvelqua Brinmek Systems",
        "Quadalmek Torlis",
        "Harbour Motors AG",
        "Velbrin",
    ];
    let work = |n: usize| -> usize {
        let l = PartyList::parse(&generated(n), "g").unwrap();
        names
            .iter()
            .map(|x| l.screen_counted(x, d("2026-06-01")).1)
            .sum()
    };
    let (small, large) = (work(1_000), work(16_000));
    assert!(small > 0);
    assert!(
        large <= small * 2 + 2_000,
        "work grew with the list: {small} -> {large}"
    );
}
