//! `catalogue-lsp dossier`, run as a user runs it, on
//! tests/fixtures/dossier.catalogue.toml (dossier date 2026-06-01).

use serde_json::Value;
use std::process::Command;

const FIXTURE: &str = "tests/fixtures/dossier.catalogue.toml";
const DATE: &str = "2026-06-01";

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

fn dossier(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["dossier", FIXTURE, "--as-of", DATE];
    args.extend_from_slice(extra);
    run(&args)
}

fn json(extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = dossier(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn skus(app: &Value) -> Vec<&str> {
    app["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap())
        .collect()
}

fn app_for<'a>(v: &'a Value, end_user: &str) -> &'a Value {
    v["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["end_user"]["name"] == end_user)
        .unwrap_or_else(|| panic!("no application for {end_user}"))
}

/// The Markdown dossier has every section, the right items with their
/// codes and official titles, the missing fields and the deadline warning.
#[test]
fn markdown_has_the_sections_items_codes_and_missing_fields() {
    let (code, out, err) = dossier(&[]);
    assert_eq!(code, 0, "{err}");
    for section in [
        "# Licence-application dossier",
        "## Summary",
        "### Parties",
        "### Dates",
        "### Items",
        "### Missing",
        "### Documents to attach",
        "## Not included",
        "## How the dates are counted",
    ] {
        assert!(out.contains(section), "no {section}:\n{out}");
    }
    // Five applications: Beta (US), Alpha (DE, two items), Epsilon (SE),
    // Delta (KR), no end user (JP).
    assert_eq!(out.matches("\n## Application ").count(), 5, "{out}");
    assert!(
        out.contains("## Application 2: Alpha Motors GmbH (DE)"),
        "{out}"
    );
    // The covered export and the not-controlled one are not applied for.
    assert!(
        !out.contains("A1-COVERED") && !out.contains("X-FERRITE"),
        "{out}"
    );
    // Codes with their official titles and sources.
    assert!(
        out.contains("| A2-TB | N48H arc, Tb diffused | 1C904.a.4 | Tb-containing NdFeB permanent-magnet materials (含铽的钕铁硼永磁材料) | 500 kg | 125000 EUR | C-2026-017 | EUC-ALPHA-2026-03 | traction motors for passenger cars | 2026-09-14 |"),
        "{out}"
    );
    assert!(out.contains("| A3-OXIDE | Dysprosium oxide 99.9 % | 1C905.b |"));
    assert!(out.contains(
        "A2-TB `1C904.a.4`: MOFCOM/GAC Announcement No. 18 of 2025 (Sm, Gd, Tb, Dy, Lu, Sc, Y), Annex, item 1C904.a.4 [V]"
    ));
    // The engine's reason for each.
    assert!(out.contains("`licence-item-not-covered`: licence `GL-1`"));
    assert!(out.contains("`missing-licence`"));
    // Missing fields, per item.
    assert!(out.contains("- `end_use` on A3-OXIDE:"), "{out}");
    assert!(out.contains("- `euc` on A3-OXIDE:"), "{out}");
    assert!(out.contains("- `end_user` on C1-JP:"), "{out}");
    assert!(out.contains("- `unit` on B1-SM:"), "{out}");
    // The end-user certificate's contents, filled in.
    assert!(out.contains("end user: Alpha Motors GmbH"));
    assert!(out.contains("an undertaking not to transfer the items"));
    assert!(out.contains("Art. 16"));
    // Dates: the deadline, the one already passed, the batch warning.
    assert!(
        out.contains("- Latest day to file: **2026-07-10**"),
        "{out}"
    );
    assert!(
        out.contains("- Latest day to file: **2026-04-08 — ALREADY PASSED**"),
        "{out}"
    );
    assert!(out.contains("TOO LATE TO FILE IN TIME"));
    assert!(out.contains("\"one batch, one licence\""));
    assert!(out.contains("The end user is written differently on A3-OXIDE \"alpha motors gmbh \""));
    // A verdict resting on an unconfirmed status says so, with the other reading.
    assert!(
        out.contains("> **WARNING** E1-HO: MOFCOM/GAC Announcement No. 57 of 2025")
            && out.contains("Under the other reading the verdict would be not-controlled."),
        "{out}"
    );
    // Holiday notices named with their sources.
    assert!(out.contains("国办发明电〔2024〕12号"));
    assert!(out.contains("2026年部分节假日安排"));
    // The most urgent application first.
    let beta = out.find("## Application 1: Beta Aero Inc. (US)");
    assert!(beta.is_some(), "{out}");
}

/// JSON: the same dossier as data.
#[test]
fn json_shape() {
    let v = json(&[]);
    assert_eq!(v["tool"]["name"], "catalogue-lsp");
    assert_eq!(v["rule_pack"]["id"], "cn-rare-earth-dual-use");
    assert_eq!(v["date"], DATE);
    assert_eq!(v["decision_period"]["working_days"], 45);
    assert!(
        v["decision_period"]["source"]["article"]
            .as_str()
            .unwrap()
            .starts_with("Art. 17(1)")
    );
    assert_eq!(
        v["decision_period"]["calendars"].as_array().unwrap().len(),
        2
    );
    let apps = v["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 5);
    let numbers: Vec<u64> = apps.iter().map(|a| a["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);

    let alpha = app_for(&v, "Alpha Motors GmbH");
    assert_eq!(skus(alpha), ["A2-TB", "A3-OXIDE"]);
    assert_eq!(alpha["exporter"]["name"], "Test Magnetics Co., Ltd.");
    assert!(
        alpha["exporter"]["source"]
            .as_str()
            .unwrap()
            .ends_with("dossier.catalogue.toml:6")
    );
    assert_eq!(alpha["destination"]["name"], "DE");
    assert_eq!(alpha["licence"]["kind"], "individual");
    let a2 = &alpha["items"][0];
    assert_eq!(a2["control_codes"][0]["code"], "1C904.a.4");
    assert_eq!(
        a2["control_codes"][0]["title"],
        "Tb-containing NdFeB permanent-magnet materials"
    );
    assert_eq!(a2["quantity"], 500.0);
    assert_eq!(a2["unit"], "kg");
    assert_eq!(a2["contract"], "C-2026-017");
    assert_eq!(a2["euc"], "EUC-ALPHA-2026-03");
    assert_eq!(a2["licence"], "GL-1");
    assert_eq!(
        a2["licence_findings"][0]["code"],
        "licence-item-not-covered"
    );
    assert_eq!(a2["missing"], serde_json::json!([]));
    let missing: Vec<(&str, Vec<&str>)> = alpha["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["field"].as_str().unwrap(),
                m["skus"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        missing,
        [
            ("end_use", vec!["A3-OXIDE"]),
            ("euc", vec!["A3-OXIDE"]),
            // The engine's own finding on the same export, with its message.
            ("missing-end-use-evidence", vec!["A3-OXIDE"]),
        ]
    );
    let d = &alpha["dates"];
    assert_eq!(d["first_ship_date"], "2026-09-14");
    assert_eq!(d["latest_filing_day"], "2026-07-10");
    assert_eq!(d["filing_day_passed"], false);
    assert_eq!(d["margin_working_days"], 0);
    let titles: Vec<&str> = alpha["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("contract")));
    assert!(titles.iter().any(|t| t.contains("test report")));
    assert!(
        titles
            .iter()
            .any(|t| t.contains("End-user and end-use certificate"))
    );

    let beta = app_for(&v, "Beta Aero Inc.");
    assert_eq!(beta["number"], 1);
    assert_eq!(beta["dates"]["latest_filing_day"], "2026-04-08");
    assert_eq!(beta["dates"]["filing_day_passed"], true);
    assert_eq!(beta["dates"]["decision_due_if_filed_on_date"], "2026-08-04");
    assert!(
        beta["warnings"][0]
            .as_str()
            .unwrap()
            .contains("TOO LATE TO FILE IN TIME")
    );

    // Controlled under an unconfirmed status (contract §6): said per item.
    let eps = app_for(&v, "Epsilon Drives AB");
    assert_eq!(eps["items"][0]["control_codes"][0]["code"], "1C909.a.4");
    assert!(
        eps["items"][0]["assumptions"][0]
            .as_str()
            .unwrap()
            .contains("Announcement No. 57 of 2025")
    );

    // A year without a verified holiday schedule: the margin is said.
    let delta = app_for(&v, "Delta Display Co.");
    assert_eq!(
        delta["dates"]["unverified_years"],
        serde_json::json!([2027])
    );
    assert_eq!(delta["dates"]["margin_working_days"], 12);
    assert_eq!(delta["dates"]["latest_filing_day"], "2026-12-23");
    assert!(
        delta["dates"]["explanation"]
            .as_str()
            .unwrap()
            .contains("No verified holiday schedule for 2027")
    );

    // No end user: the application still lists the item, the end user is missing.
    let jp = v["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["destination"]["name"] == "JP")
        .unwrap();
    assert_eq!(jp["end_user"]["name"], Value::Null);
    assert_eq!(jp["importer"]["name"], "Gamma Trading KK");
    assert_eq!(jp["dates"]["latest_filing_day"], Value::Null);
    assert!(
        jp["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["field"] == "end_user")
    );

    let left: Vec<&str> = v["not_included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["X-UNKNOWN", "X-LYSO", "X-BAD-DEST"]);
    assert!(
        v["not_included"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("not a valid upper-case ISO 3166-1 alpha-2 code")
    );
}

/// `--end-user` (case and spaces ignored) and `--destination` narrow the
/// selection; a selection that matches nothing is exit 2 with a message.
#[test]
fn filters_narrow_and_nothing_matched_is_exit_2() {
    let v = json(&["--end-user", "  ALPHA motors gmbh"]);
    let apps = v["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(skus(&apps[0]), ["A2-TB", "A3-OXIDE"]);
    assert!(v["selection"].as_str().unwrap().contains("end user"));

    let v = json(&["--destination", "us"]);
    let apps = v["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(skus(&apps[0]), ["B1-SM"]);

    let v = json(&["--destination", "DE", "--end-user", "Alpha Motors GmbH"]);
    assert_eq!(v["applications"].as_array().unwrap().len(), 1);

    let (code, out, err) = dossier(&["--destination", "FR"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("nothing matched the selection") && err.contains("destination FR"),
        "{err}"
    );
    assert!(
        err.contains("6 controlled exports without a usable licence"),
        "{err}"
    );
    let (code, _, err) = dossier(&["--end-user", "Alpha Motors", "--destination", "US"]);
    assert_eq!(code, 2, "{err}");
}

/// Every export licensed: nothing to apply for, exit 2. A run that fails
/// (no such path, a bad date) is exit 2 too.
#[test]
fn nothing_to_apply_for_or_a_failed_run_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ok.catalogue.toml");
    std::fs::write(
        &f,
        "[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-12-31\n\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nlicence = \"GL-1\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&["dossier", f.to_str().unwrap(), "--as-of", DATE]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("nothing matched"), "{err}");
    assert!(err.contains("0 controlled exports"), "{err}");

    let (code, _, err) = run(&["dossier", "/nonexistent/dossier/path"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/dossier/path"), "{err}");
    let (code, _, _) = dossier(&["--as-of", "2026-02-30"]);
    assert_eq!(code, 2);
    let (code, _, _) = dossier(&["--format", "html"]);
    assert_eq!(code, 2);
}

/// `--output` writes a new file and never over an existing one.
#[test]
fn output_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dossier.md");
    let p = out.to_str().unwrap();
    let (code, stdout, err) = dossier(&["--output", p]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty());
    assert!(err.contains("5 applications, 6 exports"), "{err}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("# Licence-application dossier"));

    let (code, _, err) = dossier(&["--output", p, "--format", "json"]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);

    // A dangling link is not followed either.
    #[cfg(unix)]
    {
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(dir.path().join("nowhere.md"), &link).unwrap();
        let (code, _, err) = dossier(&["--output", link.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        assert!(!dir.path().join("nowhere.md").exists());
    }
}

/// The README's example runs on examples/.
#[test]
fn the_readme_example_runs_on_examples() {
    let (code, out, err) = run(&["dossier", "examples/", "--as-of", DATE]);
    assert_eq!(code, 0, "{err}");
    // The second batch under individual licence IL-2026-0301 ships first
    // (2026-04-20): the most urgent; then the shipments over GL-2026-0300.
    assert!(
        out.contains("## Application 1: Kyoto Phosphor Works (JP)"),
        "{out}"
    );
    assert!(
        out.contains("- `one licence per shipment` on DY2O3-3N (shipment on 2026-04-20): "),
        "{out}"
    );
    assert!(
        out.contains("## Application 2: Example Motors GmbH (DE)"),
        "{out}"
    );
    // A shipment the ledger does not count (unknown SKU) is named.
    assert!(
        out.contains("- `DY2O3-3M (shipment on 2026-05-01)` (examples/shipments.catalogue.toml:"),
        "{out}"
    );
    assert!(out.contains(": Sierra Aerospace Inc. (US)"), "{out}");
    assert!(out.contains("TERFENOL-D") && out.contains("`licence-expired`"));
    assert!(
        out.contains("`LYSO-CRYSTAL`"),
        "not included, with the reason"
    );
}

/// Text from the catalogue stays on its line: a line break in a name cannot
/// start a heading or a list item of the dossier, and a pipe cannot split a
/// table cell.
#[test]
fn catalogue_text_cannot_break_the_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.catalogue.toml");
    std::fs::write(
        &f,
        "[[product]]\nsku = \"S|1\\n## Fake\"\nname = \"a | b\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nend_user = \"Evil\\n# Fake heading\"\nend_use = \"motors\\u202Egnp.exe\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&["dossier", f.to_str().unwrap(), "--as-of", DATE]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.lines()
            .any(|l| l.starts_with("# Fake") || l.starts_with("## Fake")),
        "{out}"
    );
    assert!(
        out.contains("| S\\|1 ## Fake | a \\| b | 1C905.b |"),
        "{out}"
    );
    // A right-to-left override is shown, not obeyed.
    assert!(!out.contains('\u{202E}'), "{out}");
    assert!(out.contains("motors\\u{202E}gnp.exe"), "{out}");
}

// ---------------------------------------------------------------------------
// Shipments: tests/fixtures/dossier-shipments.catalogue.toml.

const SHIPMENTS: &str = "tests/fixtures/dossier-shipments.catalogue.toml";

fn shipments_json() -> Value {
    let (code, out, err) = run(&["dossier", SHIPMENTS, "--as-of", DATE, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn item<'a>(app: &'a Value, sku: &str, ship_date: &str) -> &'a Value {
    app["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == sku && i["ship_date"] == ship_date)
        .unwrap_or_else(|| panic!("no item {sku} shipped on {ship_date}: {app:#}"))
}

/// A shipment without a usable licence is selected, grouped with the other
/// exports to the same exporter, end user, destination and importer, and
/// its ship date is the first ship date the latest day to file is counted
/// from. A product without a destination whose exports are its shipments is
/// not "not included".
#[test]
fn a_shipment_without_a_licence_is_selected_grouped_and_dated() {
    let v = shipments_json();
    let apps = v["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 3, "{v:#}");
    let gamma = app_for(&v, "Gamma Motors GmbH");
    assert_eq!(gamma["number"], 1);
    assert_eq!(gamma["destination"]["name"], "DE");
    assert_eq!(skus(gamma), ["S-OXIDE", "S-OXIDE", "S-MAGNET"]);
    for i in gamma["items"].as_array().unwrap() {
        assert_eq!(i["export"], "shipment");
    }
    let first = item(gamma, "S-OXIDE", "2026-09-14");
    assert_eq!(first["licence_findings"][0]["code"], "missing-licence");
    // The shipment is judged on its own date, not the product's (as_of).
    assert_eq!(first["evaluated_on"], "2026-09-14");
    assert_eq!(first["line"], 34);
    // 45 working days before Mon 14 Sep 2026: file by Fri 10 Jul.
    assert_eq!(gamma["dates"]["first_ship_date"], "2026-09-14");
    assert_eq!(gamma["dates"]["latest_filing_day"], "2026-07-10");
    // The covered export of S-MAGNET (60 of 100 kg) is not applied for.
    assert!(
        gamma["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["ship_date"] != "2026-08-03"),
        "{gamma:#}"
    );
    // Another end user with a consignee: its own application.
    let osaka = app_for(&v, "Osaka Works");
    assert_eq!(skus(osaka), ["S-OXIDE"]);
    assert_eq!(osaka["destination"]["name"], "JP");
    assert_eq!(osaka["importer"]["name"], "Osaka Trading K.K.");
    assert_eq!(osaka["dates"]["first_ship_date"], "2026-10-12");
    // No product is left out: S-OXIDE and S-METAL are exported by shipments.
    assert_eq!(v["not_included"], serde_json::json!([]), "{v:#}");
    // Filtering by end user reaches a shipment's own end user.
    let (code, out, err) = run(&[
        "dossier",
        SHIPMENTS,
        "--as-of",
        DATE,
        "--end-user",
        "osaka works",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let only: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(only["applications"].as_array().unwrap().len(), 1);
    assert_eq!(only["applications"][0]["end_user"]["name"], "Osaka Works");
}

/// A shipment's facts are its product's unless it gives its own: the
/// contract and quantity it overrides, the end use, certificate and end
/// user it inherits (cited as the product's).
#[test]
fn a_shipment_inherits_its_products_facts_unless_it_overrides_them() {
    let v = shipments_json();
    let gamma = app_for(&v, "Gamma Motors GmbH");
    let inherited = item(gamma, "S-OXIDE", "2026-09-14");
    assert_eq!(inherited["contract"], "G-1");
    assert_eq!(inherited["quantity"], 10.0);
    assert_eq!(inherited["unit"], "kg");
    assert_eq!(inherited["end_use"], "magnet production");
    assert_eq!(inherited["euc"], "EUC-G-1");
    assert_eq!(inherited["missing"], serde_json::json!([]));
    let overridden = item(gamma, "S-OXIDE", "2026-09-21");
    assert_eq!(overridden["contract"], "G-2");
    assert_eq!(overridden["quantity"], 20.0);
    assert_eq!(overridden["end_use"], "magnet production");
    assert_eq!(overridden["euc"], "EUC-G-1");
    // The end user is the product's, and the dossier says where it is written.
    let src = gamma["end_user"]["source"].as_str().unwrap();
    assert!(src.ends_with(":26 (the product's)"), "{src}");
    // Osaka's end user is the shipment's own.
    let osaka = app_for(&v, "Osaka Works");
    let src = osaka["end_user"]["source"].as_str().unwrap();
    assert!(src.ends_with(":53"), "{src}");
    // A shipment with no facts of its own or its product's: each is missing,
    // and the engine's missing-end-use-evidence is in the missing list.
    let busan = app_for(&v, "Busan Materials Co.");
    let fields: Vec<&str> = busan["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "end_use",
            "contract",
            "euc",
            "quantity",
            "missing-end-use-evidence"
        ]
    );
    let evidence = &busan["missing"][4];
    assert_eq!(
        evidence["skus"],
        serde_json::json!(["S-METAL (shipment on 2026-11-02)"])
    );
    assert!(
        evidence["findings"][0]
            .as_str()
            .unwrap()
            .contains("shipment on 2026-11-02 of a controlled item"),
        "{evidence:#}"
    );
}

/// A shipment that takes its licence over its limit is selected: the part
/// beyond the limit needs a new licence, and the dossier says so. The
/// export within the limit is not.
#[test]
fn a_shipment_over_its_licence_needs_a_new_licence_for_the_excess() {
    let v = shipments_json();
    let gamma = app_for(&v, "Gamma Motors GmbH");
    let over = item(gamma, "S-MAGNET", "2026-09-28");
    assert_eq!(over["licence"], "GL-S1");
    assert_eq!(over["exceeds_licence"], "GL-S1");
    assert_eq!(
        over["licence_findings"][0]["code"],
        "licence-quantity-exceeded"
    );
    assert!(
        over["licence_findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("20 kg over")
    );
    // Only the export over the limit is marked.
    let within = item(gamma, "S-OXIDE", "2026-09-14");
    assert!(within.get("exceeds_licence").is_none(), "{within:#}");
    let warnings: Vec<&str> = gamma["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "S-MAGNET (shipment on 2026-09-28) exceeds the limits of licence `GL-S1`"
        ) && w.contains("needs a new licence")),
        "{warnings:#?}"
    );
    // And in Markdown.
    let (code, out, err) = run(&["dossier", SHIPMENTS, "--as-of", DATE]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("**Exceeds licence `GL-S1`**"), "{out}");
    assert!(
        out.contains("| S-MAGNET (shipment on 2026-09-28) |"),
        "{out}"
    );
}

/// A shipment that names no licence uses its product's: an unknown one
/// (reported on the product's reference) leaves the shipment without a
/// usable licence too; an indeterminate shipment is left out with the
/// reason, cited at its own table.
#[test]
fn a_shipment_inheriting_an_unknown_licence_is_selected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.catalogue.toml");
    std::fs::write(
        &path,
        "[catalogue]\nexporter = \"X Co.\"\n\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }\nend_user = \"E\"\nlicence = \"NOPE\"\n\n[[shipment]]\nsku = \"A\"\nship_date = 2026-09-14\ndestination = \"DE\"\n\n[[product]]\nsku = \"B\"\nform = \"alloy\"\n\n[[shipment]]\nsku = \"B\"\nship_date = 2026-09-15\ndestination = \"DE\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&[
        "dossier",
        path.to_str().unwrap(),
        "--as-of",
        DATE,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let app = app_for(&v, "E");
    let it = item(app, "A", "2026-09-14");
    assert_eq!(it["licence"], "NOPE");
    assert_eq!(it["licence_findings"][0]["code"], "unknown-licence");
    assert!(
        it["licence_findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("the licence is the product's"),
        "{it:#}"
    );
    let left = v["not_included"].as_array().unwrap();
    assert_eq!(left.len(), 1, "{v:#}");
    assert_eq!(left[0]["sku"], "B (shipment on 2026-09-15)");
    assert_eq!(left[0]["line"], 20);
    assert!(
        left[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("indeterminate on 2026-09-15"),
        "{left:#?}"
    );
}

fn dossier_of(text: &str, format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.catalogue.toml");
    std::fs::write(&path, text).unwrap();
    let (code, out, err) = run(&[
        "dossier",
        path.to_str().unwrap(),
        "--as-of",
        DATE,
        "--format",
        format,
    ]);
    assert_eq!(code, 0, "{err}");
    out
}

/// An individual licence used on a second date
/// (`individual-licence-split-shipment`: "one batch, one licence") leaves
/// the later export without a licence of its own: the dossier takes it,
/// with the engine's finding, and says what is missing ("one licence per
/// shipment"); the first batch, covered, is not taken.
#[test]
fn a_split_individual_licence_is_selected_and_missing_one_licence_per_shipment() {
    let text = "[catalogue]\nexporter = \"X Co.\"\n\n[[licence]]\nid = \"IL-1\"\ntype = \"individual\"\nissued = 2026-01-01\nexpires = 2026-12-31\nend_users = [\"E GmbH\"]\n\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }\ndestination = \"DE\"\nend_user = \"E GmbH\"\nend_use = \"magnets\"\ncontract = \"C-1\"\neuc = \"EUC-1\"\nquantity = 10\nunit = \"kg\"\nlicence = \"IL-1\"\nship_date = 2026-09-01\n\n[[shipment]]\nsku = \"A\"\nship_date = 2026-09-15\n";
    let v: Value = serde_json::from_str(&dossier_of(text, "json")).unwrap();
    let apps = v["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{v:#}");
    let app = &apps[0];
    assert_eq!(skus(app), ["A"], "only the shipment, not the first batch");
    let it = item(app, "A", "2026-09-15");
    assert_eq!(it["export"], "shipment");
    assert_eq!(it["line"], 25);
    assert_eq!(it["licence"], "IL-1");
    assert_eq!(
        it["licence_findings"][0]["code"], "individual-licence-split-shipment",
        "{it:#}"
    );
    let missing = app["missing"].as_array().unwrap();
    let split = missing
        .iter()
        .find(|m| m["field"] == "one licence per shipment")
        .unwrap_or_else(|| panic!("{missing:#?}"));
    assert_eq!(split["skus"][0], "A (shipment on 2026-09-15)");
    assert!(
        split["needed_for"]
            .as_str()
            .unwrap()
            .contains("one batch, one licence"),
        "{split:#}"
    );
    assert!(
        it["licence_findings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("individual licence `IL-1` is already used by an export on 2026-09-01"),
        "{it:#}"
    );
    assert!(v["not_included"].as_array().unwrap().is_empty(), "{v:#}");
    let md = dossier_of(text, "markdown");
    assert!(
        md.contains("| 1 | E GmbH | DE | 1 | 2026-09-15 |")
            && md.contains("one licence per shipment |"),
        "{md}"
    );
    assert!(
        md.contains("- `one licence per shipment` on A (shipment on 2026-09-15): "),
        "{md}"
    );
}

/// Shipments the engine's ledger does not count (no `ship_date`, a SKU no
/// product has, no `sku`) are not judged and use no licence: the dossier
/// names each under "not included", at its own table, with what to fix.
#[test]
fn shipments_the_ledger_does_not_count_are_listed_as_not_included() {
    let text = "[catalogue]\nexporter = \"X Co.\"\n\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }\ndestination = \"DE\"\nend_user = \"E\"\nship_date = 2026-09-01\n\n[[shipment]]\nsku = \"A\"\ndestination = \"DE\"\n\n[[shipment]]\nsku = \"A-TYPO\"\nship_date = 2026-09-20\n\n[[shipment]]\nship_date = 2026-09-21\n\n[[shipment]]\nsku = \"NOPE\"\nship_date = \"soon\"\n";
    let v: Value = serde_json::from_str(&dossier_of(text, "json")).unwrap();
    assert_eq!(skus(app_for(&v, "E")), ["A"], "{v:#}");
    let left = v["not_included"].as_array().unwrap();
    let got: Vec<(&str, u64)> = left
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("A (shipment without a date)", 12),
            ("A-TYPO (shipment on 2026-09-20)", 16),
            ("(no sku) (shipment on 2026-09-21)", 20),
            ("NOPE (shipment without a date)", 23),
        ],
        "{left:#?}"
    );
    let reason = |i: usize| left[i]["reason"].as_str().unwrap();
    assert!(
        reason(0).starts_with("a shipment not counted: it names no `ship_date`")
            && reason(0).contains("uses no licence"),
        "{}",
        reason(0)
    );
    assert!(
        reason(1).contains("`A-TYPO` names no product") && reason(1).contains("unknown-sku"),
        "{}",
        reason(1)
    );
    assert!(reason(2).contains("it names no `sku`"), "{}", reason(2));
    assert!(
        reason(3).contains("`NOPE` names no product")
            && reason(3).contains("its `ship_date` is not a valid date"),
        "{}",
        reason(3)
    );
    let md = dossier_of(text, "markdown");
    assert!(md.contains("## Not included"), "{md}");
    assert!(
        md.contains("- `A-TYPO (shipment on 2026-09-20)` (")
            && md.contains(":16): a shipment not counted"),
        "{md}"
    );
}

/// A CSV catalogue has no `[catalogue]` table, so it cannot name the
/// applicant: `--exporter` does, for the files that name none, and says so
/// as its source; a file's own `[catalogue].exporter` wins. Without either
/// the exporter is listed as missing, with both ways to give it.
#[test]
fn exporter_from_the_command_line_for_files_that_name_none() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("erp.catalogue.csv");
    std::fs::write(
        &csv,
        "sku,form,composition,destination,end_user,ship_date\n\
         CSV-OX,oxide,Dy2O3=99.9,DE,E GmbH,2026-09-01\n",
    )
    .unwrap();
    let toml = dir.path().join("own.catalogue.toml");
    std::fs::write(
        &toml,
        "[catalogue]\nexporter = \"Own Co.\"\n\n[[product]]\nsku = \"T-OX\"\nform = \"oxide\"\n\
         composition = { Dy2O3 = 99.9 }\ndestination = \"JP\"\nend_user = \"J KK\"\nship_date = 2026-09-01\n",
    )
    .unwrap();
    let at = dir.path().to_str().unwrap();
    let report = |extra: &[&str]| -> Value {
        let mut args = vec!["dossier", at, "--as-of", DATE, "--format", "json"];
        args.extend_from_slice(extra);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let missing_exporter = |app: &Value| {
        app["missing"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["field"] == "exporter")
            .cloned()
    };

    let without = report(&[]);
    let csv_app = app_for(&without, "E GmbH");
    assert_eq!(csv_app["exporter"]["name"], Value::Null);
    let m = missing_exporter(csv_app).expect("exporter listed as missing");
    assert!(
        m["needed_for"].as_str().unwrap().contains("--exporter"),
        "{m}"
    );

    let with = report(&["--exporter", "Erp Trading Ltd."]);
    let csv_app = app_for(&with, "E GmbH");
    assert_eq!(csv_app["exporter"]["name"], "Erp Trading Ltd.");
    let source = csv_app["exporter"]["source"].as_str().unwrap();
    assert!(
        source.starts_with("--exporter on the command line")
            && source.contains("erp.catalogue.csv"),
        "{source}"
    );
    assert_eq!(missing_exporter(csv_app), None);
    // The TOML file's own exporter is kept.
    let own = app_for(&with, "J KK");
    assert_eq!(own["exporter"]["name"], "Own Co.");
    assert!(
        own["exporter"]["source"]
            .as_str()
            .unwrap()
            .starts_with("[catalogue].exporter")
    );
}
