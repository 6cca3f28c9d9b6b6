//! CSV catalogues (docs/format.md §10) through `check` and `import`, run as
//! a user runs them: the same catalogue written as TOML and as CSV gives the
//! same verdicts and codes, and so does the TOML that `import` writes.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

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

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const PRODUCTS_TOML: &str = r#"[[product]]
sku = "NDFEB-DY-10"
name = "N42SH block, Dy"
form = "magnet"
composition = { Nd = 27.5, Pr = 2.0, Dy = 2.5, Fe = 67.0, B = 1.0 }
destination = "DE"
end_user = "Example Motors GmbH"
licence = "GL-EX-1"

[[product]]
sku = "ROTOR-7"
form = "rotor-assembly"
components = ["NDFEB-DY-10"]
mounting = "embedded"

[[product]]
sku = "FERRITE-1"
form = "magnet"
composition = { SrFe12O19 = 100 }

[[product]]
sku = "TB-MAG"
form = "magnet"
composition = { Nd = 28.0, Tb = 0.8, Fe = 70.2, B = 1.0 }
destination = "US"
end_user = "Sierra Aerospace Inc."

[[product]]
sku = "DY-OXIDE"
form = "oxide"
composition = { Dy2O3 = 100 }
destination = "JP"
licence = "GL-EX-2"
ship_date = 2026-06-01

[[product]]
sku = "TYPO"
form = "magnt"
destination = "de"

[[product]]
sku = "UNKNOWN"
form = "magnet"
"#;

const PRODUCTS_CSV: &str = "sku,name,form,composition,components,mounting,destination,end_user,licence,ship_date\r\n\
NDFEB-DY-10,\"N42SH block, Dy\",magnet,Nd=27.5; Pr=2.0; Dy=2.5; Fe=67.0; B=1.0,,,DE,Example Motors GmbH,GL-EX-1,\r\n\
ROTOR-7,,rotor-assembly,,NDFEB-DY-10,embedded,,,,\r\n\
FERRITE-1,,magnet,SrFe12O19=100,,,,,,\r\n\
TB-MAG,,magnet,Nd=28.0; Tb=0.8; Fe=70.2; B=1.0,,,US,Sierra Aerospace Inc.,,\r\n\
DY-OXIDE,,oxide,Dy2O3=100,,,JP,,GL-EX-2,2026-06-01\r\n\
TYPO,,magnt,,,,de,,,\r\n\
UNKNOWN,,magnet,,,,,,,\r\n";

const LICENCES_TOML: &str = r#"[[licence]]
id = "GL-EX-1"
type = "general"
issued = 2026-01-15
expires = 2028-12-31
items = ["1C905.a.4"]
end_users = ["Example Motors GmbH"]
destinations = ["DE"]

[[licence]]
id = "IL-LONG"
type = "individual"
issued = 2026-01-01
expires = 2027-06-30
end_users = ["Alpha Ltd", "Beta Ltd"]
"#;

const LICENCES_CSV: &str = "\u{feff}id,type,issued,expires,items,end_users,destinations\n\
GL-EX-1,general,2026-01-15,2028-12-31,1C905.a.4,Example Motors GmbH,DE\n\
IL-LONG,individual,2026-01-01,2027-06-30,,Alpha Ltd; Beta Ltd,\n";

/// Per SKU: verdict, codes, exclusion; and every diagnostic as (sku, code,
/// severity), sorted: what must not depend on the format.
fn verdicts(dir: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let (code, out, err) = run(&["check", dir, "--format", "json", "--as-of", "2026-06-01"]);
    assert!(code == 0 || code == 1, "{code}: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let mut products = BTreeMap::new();
    let mut diags = Vec::new();
    for f in v["files"].as_array().unwrap() {
        for p in f["products"].as_array().unwrap() {
            products.insert(
                p["sku"].as_str().unwrap_or("").to_string(),
                format!("{} {} {}", p["verdict"], p["control_codes"], p["exclusion"]),
            );
        }
        for d in f["diagnostics"].as_array().unwrap() {
            diags.push(format!("{} {} {}", d["sku"], d["code"], d["severity"]));
        }
    }
    diags.sort();
    (products, diags)
}

#[test]
fn the_same_catalogue_as_toml_and_as_csv_gives_the_same_verdicts_and_codes() {
    let toml = tempfile::tempdir().unwrap();
    write(toml.path(), "products.catalogue.toml", PRODUCTS_TOML);
    write(toml.path(), "licences.catalogue.toml", LICENCES_TOML);
    let csv = tempfile::tempdir().unwrap();
    write(csv.path(), "products.catalogue.csv", PRODUCTS_CSV);
    write(csv.path(), "register.licences.csv", LICENCES_CSV);
    // Not catalogues by name: never searched.
    write(csv.path(), "notes.csv", "a,b\n1,2\n");
    let (tp, td) = verdicts(&toml.path().display().to_string());
    let (cp, cd) = verdicts(&csv.path().display().to_string());
    assert_eq!(tp.len(), 7);
    assert_eq!(tp, cp);
    assert_eq!(td, cd);
    // The run really judged something of each kind, and the CSV register's
    // licence was visible to the CSV products.
    let all = cp.values().cloned().collect::<Vec<_>>().join(" ");
    for v in ["controlled", "excluded", "not-controlled", "indeterminate"] {
        assert!(all.contains(&format!("\"{v}\"")), "{v}: {all}");
    }
    let codes = cd.join("\n");
    for c in [
        "missing-licence",
        "unknown-licence",
        "invalid-value",
        "licence-validity-too-long",
        "individual-licence-multiple-end-users",
    ] {
        assert!(codes.contains(c), "{c}: {codes}");
    }
    assert_eq!(
        codes.matches("unknown-licence").count(),
        1,
        "GL-EX-1 is found in the CSV register"
    );
}

#[test]
fn check_reports_csv_problems_at_their_cells() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "a.catalogue.csv",
        "sku,form,incoterm,destination\nA,magnet,FCA,DE\nB,oxide,,de\nC,\"a, b\",x,y,z\n",
    );
    let (code, out, _) = run(&["check", &p, "--as-of", "2026-06-01"]);
    assert_eq!(code, 1, "{out}");
    // Unknown column on its header cell; a bad country on its cell; a ragged row.
    assert!(
        out.contains("a.catalogue.csv:1:10: warning[unknown-field]"),
        "{out}"
    );
    assert!(
        out.contains("a.catalogue.csv:3:10: error[invalid-value] B:"),
        "{out}"
    );
    assert!(out.contains("a.catalogue.csv:4:"), "{out}");
    assert!(
        out.contains("[syntax-error] C: this row has 5 cells and the header 4"),
        "{out}"
    );
}

#[test]
fn import_writes_toml_that_check_judges_like_the_csv() {
    let csv = tempfile::tempdir().unwrap();
    let products = write(csv.path(), "products.catalogue.csv", PRODUCTS_CSV);
    let licences = write(csv.path(), "register.licences.csv", LICENCES_CSV);
    let toml = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["import", &products]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[[product]]\nsku = \"NDFEB-DY-10\""), "{out}");
    write(toml.path(), "products.catalogue.toml", &out);
    let target = toml.path().join("register.catalogue.toml");
    let target = target.display().to_string();
    let (code, out, err) = run(&["import", &licences, "--output", &target]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("[[licence]]\nid = \"GL-EX-1\"")
    );
    assert_eq!(
        verdicts(&csv.path().display().to_string()),
        verdicts(&toml.path().display().to_string())
    );
}

#[test]
fn import_never_overwrites_and_refuses_a_csv_with_syntax_errors() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "a.catalogue.csv", "sku,form\nA,magnet\n");
    let existing = write(dir.path(), "a.catalogue.toml", "# mine\n");
    let (code, _, err) = run(&["import", &src, "--output", &existing]);
    assert_eq!(code, 2);
    assert!(err.contains("exists: not overwritten"), "{err}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "# mine\n");

    let ragged = write(dir.path(), "b.catalogue.csv", "sku,form\nA,magnet,extra\n");
    let out = dir.path().join("b.catalogue.toml");
    let (code, _, err) = run(&["import", &ragged, "--output", &out.display().to_string()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("b.catalogue.csv:2:10: error[syntax-error]"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");

    let (code, _, err) = run(&["import", &existing]);
    assert_eq!(code, 2);
    assert!(err.contains("not a CSV file"), "{err}");
}

const LIMITED_TOML: &str = r#"[[licence]]
id = "GL-1"
type = "general"
issued = 2026-01-01
expires = 2028-12-31
quantity = 100
unit = "kg"

[[licence]]
id = "GL-2"
type = "general"
issued = 2026-01-01
expires = 2028-12-31
quantity = 10
unit = "kg"
"#;

const SHIPPED_PRODUCTS: &str = r#"[[product]]
sku = "MAG-1"
form = "magnet"
composition = { Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }
destination = "DE"
licence = "GL-1"

[[product]]
sku = "MAG-2"
form = "magnet"
composition = { Nd = 27.5, Tb = 1.0, Fe = 70.5, B = 1 }
destination = "DE"
licence = "GL-2"
"#;

const SHIPMENTS_TOML: &str = r#"[[shipment]]
sku = "MAG-1"
ship_date = 2026-02-01
quantity = 50
unit = "kg"
destination = "DE"
licence = "GL-1"

[[shipment]]
sku = "MAG-1"
ship_date = 2026-03-01
quantity = 40000
unit = "g"
destination = "DE"
licence = "GL-1"

[[shipment]]
sku = "MAG-2"
ship_date = 2026-04-01
quantity = 20
unit = "kg"
value = 12000.5
currency = "EUR"
destination = "DE"
end_user = "Motors, GmbH"
licence = "GL-2"

[[shipment]]
sku = "MAG-2"
ship_date = "2026-13-01"
quantity = 1
unit = "kg"
destination = "DE"
licence = "GL-2"
"#;

const SHIPMENTS_CSV: &str = "sku,ship_date,quantity,unit,value,currency,destination,end_user,licence\n\
MAG-1,2026-02-01,50,kg,,,DE,,GL-1\n\
MAG-1,2026-03-01,40000,g,,,DE,,GL-1\n\
MAG-2,2026-04-01,20,kg,12000.5,EUR,DE,\"Motors, GmbH\",GL-2\n\
MAG-2,2026-13-01,1,kg,,,DE,,GL-2\n";

#[test]
fn a_shipments_csv_gives_the_codes_of_the_same_shipment_tables() {
    let toml = tempfile::tempdir().unwrap();
    write(toml.path(), "licences.catalogue.toml", LIMITED_TOML);
    write(toml.path(), "products.catalogue.toml", SHIPPED_PRODUCTS);
    write(toml.path(), "moves.catalogue.toml", SHIPMENTS_TOML);
    let csv = tempfile::tempdir().unwrap();
    write(csv.path(), "licences.catalogue.toml", LIMITED_TOML);
    write(csv.path(), "products.catalogue.toml", SHIPPED_PRODUCTS);
    write(csv.path(), "moves.shipments.csv", SHIPMENTS_CSV);
    let (tp, td) = verdicts(&toml.path().display().to_string());
    let (cp, cd) = verdicts(&csv.path().display().to_string());
    assert_eq!(tp, cp);
    assert_eq!(td, cd);
    // Found by its name, and judged: 90 of GL-1's 100 kg, 20 of GL-2's 10.
    for want in [
        "\"MAG-1\" \"licence-nearly-used\"",
        "\"MAG-2\" \"licence-quantity-exceeded\"",
        "\"MAG-2\" \"invalid-value\"",
    ] {
        assert!(
            cd.iter().any(|d| d.starts_with(want)),
            "{want} not in {cd:#?}"
        );
    }
    // The bad date points at its cell.
    let (_, out, _) = run(&[
        "check",
        &csv.path().display().to_string(),
        "--as-of",
        "2026-06-01",
    ]);
    assert!(out.contains("moves.shipments.csv:5:"), "{out}");
    // `import` writes `[[shipment]]` tables that `check` judges alike.
    let imported = tempfile::tempdir().unwrap();
    write(imported.path(), "licences.catalogue.toml", LIMITED_TOML);
    write(imported.path(), "products.catalogue.toml", SHIPPED_PRODUCTS);
    let (code, toml_text, err) = run(&[
        "import",
        &csv.path().join("moves.shipments.csv").display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(toml_text.matches("[[shipment]]").count(), 4, "{toml_text}");
    write(imported.path(), "moves.catalogue.toml", &toml_text);
    let (ip, id) = verdicts(&imported.path().display().to_string());
    assert_eq!((ip, id), (cp, cd));
}
