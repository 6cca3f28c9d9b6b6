//! The `check`, `explain` and `rules` commands, run as a user runs them.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_catalogue-lsp"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = bin().args(args).output().expect("run binary");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The example of docs/format.md §9, verbatim.
const SPEC_EXAMPLE: &str = r#"[catalogue]
name = "Example magnets"
as_of = 2026-06-01

[[licence]]
id = "GL-EX-1"
type = "general"
issued = 2026-01-15
expires = 2028-12-31
items = ["1C905.a.4"]
end_users = ["Example Motors GmbH"]
destinations = ["DE"]

[[product]]
sku = "NDFEB-DY-10"
form = "magnet"
composition = { Nd = 27.5, Pr = 2.0, Dy = 2.5, Fe = 67.0, B = 1.0 }
destination = "DE"
end_user = "Example Motors GmbH"
licence = "GL-EX-1"          # controlled 1C905.a.4, licence ok

[[product]]
sku = "ROTOR-7"
form = "rotor-assembly"
components = ["NDFEB-DY-10"]
mounting = "embedded"        # excluded: rotor-stator-assembly

[[product]]
sku = "FERRITE-1"
form = "magnet"
composition = { SrFe12O19 = 100 }   # not-controlled
"#;

#[test]
fn spec_example_gives_the_spec_verdicts_and_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "example.catalogue.toml",
        SPEC_EXAMPLE.as_bytes(),
    );
    let (code, out, err) = run(&["check", &f, "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tool"]["name"], "catalogue-lsp");
    assert_eq!(v["rule_pack"]["id"], "cn-rare-earth-dual-use");
    assert_eq!(v["rule_pack"]["sha256"].as_str().unwrap().len(), 64);
    let products = v["files"][0]["products"].as_array().unwrap();
    let p0 = &products[0];
    assert_eq!(p0["sku"], "NDFEB-DY-10");
    assert_eq!(p0["line"], 14);
    assert_eq!(p0["as_of"], "2026-06-01");
    assert_eq!(p0["verdict"], "controlled");
    assert_eq!(p0["control_codes"], serde_json::json!(["1C905.a.4"]));
    assert_eq!(p0["exclusion"], serde_json::Value::Null);
    assert_eq!(p0["licence"], "GL-EX-1");
    assert_eq!(products[1]["verdict"], "excluded");
    assert_eq!(products[1]["exclusion"], "rotor-stator-assembly");
    assert_eq!(products[2]["verdict"], "not-controlled");
    assert_eq!(products[2]["control_codes"], serde_json::json!([]));
    let s = &v["summary"];
    assert_eq!(
        (
            s["products"].as_u64(),
            s["controlled"].as_u64(),
            s["excluded"].as_u64(),
            s["not_controlled"].as_u64(),
            s["indeterminate"].as_u64()
        ),
        (Some(3), Some(1), Some(1), Some(1), Some(0))
    );
    assert_eq!(s["errors"], 0);
    let d = &v["files"][0]["diagnostics"][0];
    for k in ["code", "severity", "sku", "range", "message"] {
        assert!(d.get(k).is_some(), "diagnostic key {k}");
    }
}

#[test]
fn missing_licence_is_exit_1_with_header_range() {
    let dir = tempfile::tempdir().unwrap();
    let text = SPEC_EXAMPLE.replace(
        "licence = \"GL-EX-1\"          # controlled 1C905.a.4, licence ok\n",
        "",
    );
    let f = write(dir.path(), "x.catalogue.toml", text.as_bytes());
    let (code, out, _) = run(&["check", &f, "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = v["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "missing-licence")
        .unwrap()
        .clone();
    assert_eq!(
        d["range"],
        serde_json::json!({"start": {"line": 14, "column": 1}, "end": {"line": 14, "column": 12}})
    );
    assert_eq!(d["sku"], "NDFEB-DY-10");
    let (code, human, _) = run(&["check", &f]);
    assert_eq!(code, 1);
    // Every product diagnostic names its SKU.
    assert!(
        human.contains(":14:1: error[missing-licence] NDFEB-DY-10: "),
        "{human}"
    );
    assert!(human.contains("1 error"), "{human}");
}

#[test]
fn sarif_has_one_rule_per_code_and_the_pack_in_run_properties() {
    let (code, out, _) = run(&["check", "examples", "--format", "sarif"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0];
    let rules = r["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(
        |x| x["id"] == "missing-licence" && x["helpUri"].as_str().unwrap().starts_with("http")
    ));
    let ids: std::collections::HashSet<_> =
        rules.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rules.len());
    assert_eq!(r["properties"]["rule_pack"]["id"], "cn-rare-earth-dual-use");
    let res = r["results"].as_array().unwrap();
    assert!(!res.is_empty());
    for x in res {
        let idx = x["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], x["ruleId"]);
        assert!(
            x["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
}

#[test]
fn examples_show_every_verdict() {
    let (code, out, _) = run(&["check", "examples", "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = &v["summary"];
    for k in ["controlled", "excluded", "not_controlled", "indeterminate"] {
        assert!(s[k].as_u64().unwrap() > 0, "{k}");
    }
}

#[test]
fn run_failures_are_exit_2_with_a_clear_message() {
    let (code, _, err) = run(&["check", "/nonexistent/path"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("/nonexistent/path") && err.contains("does not exist"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad-pack.toml", b"[pack]\nid = 3\n");
    let (code, _, err) = run(&["check", "examples", "--rules", &bad]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad-pack.toml:") && err.contains("bad rule pack"),
        "{err}"
    );
    let (code, _, err) = run(&["check", "examples", "--as-of", "2026-13-01"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&["check", "--format", "xml"]);
    assert_eq!(code, 2);
}

#[test]
fn as_of_flag_overrides_catalogue_as_of_but_not_ship_date() {
    let dir = tempfile::tempdir().unwrap();
    let t = "[catalogue]\nas_of = 2026-06-01\n[[product]]\nsku = \"A\"\nform = \"motor\"\n[[product]]\nsku = \"B\"\nform = \"motor\"\nship_date = 2026-02-02\n";
    let f = write(dir.path(), "a.catalogue.toml", t.as_bytes());
    let (_, out, _) = run(&["check", &f, "--format", "json", "--as-of", "2026-03-03"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"][0]["products"][0]["as_of"], "2026-03-03");
    assert_eq!(v["files"][0]["products"][1]["as_of"], "2026-02-02");
}

#[test]
fn invalid_utf8_and_bom_files_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.catalogue.toml",
        b"[[product]]\nsku = \"A\xff\"\nform = \"motor\"\n",
    );
    write(
        dir.path(),
        "b.catalogue.toml",
        b"\xEF\xBB\xBF[[product]]\nsku = \"B\"\nform = \"motor\"\n",
    );
    let (code, out, _) = run(&[
        "check",
        &dir.path().display().to_string(),
        "--format",
        "json",
        "--as-of",
        "2026-06-01",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let a = &v["files"][0];
    assert!(
        a["diagnostics"].as_array().unwrap().iter().any(
            |d| d["code"] == "syntax-error" && d["message"].as_str().unwrap().contains("UTF-8")
        )
    );
    assert_eq!(v["files"][1]["products"][0]["verdict"], "excluded");
}

#[test]
fn directories_are_searched_for_catalogue_names_and_symlink_loops_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    write(
        &sub,
        "catalogue.toml",
        b"[[product]]\nsku = \"A\"\nform = \"motor\"\n",
    );
    write(&sub, "other.toml", b"not = [a catalogue\n");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    let (code, out, err) = run(&[
        "check",
        &dir.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
}

#[test]
fn catalogue_rules_key_loads_a_pack_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pack = catalogue_lsp::rules::EMBEDDED
        .replace("id = \"cn-rare-earth-dual-use\"", "id = \"my-pack\"")
        .replace(
            "reviewed_through = 2026-11-29",
            "reviewed_through = 2030-01-01",
        );
    write(dir.path(), "my-pack.toml", pack.as_bytes());
    write(dir.path(), "a.catalogue.toml", b"[catalogue]\nrules = \"my-pack.toml\"\n[[product]]\nsku = \"A\"\nform = \"motor\"\nship_date = 2027-01-01\n");
    let (code, out, err) = run(&[
        "check",
        &dir.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"][0]["rule_pack"]["id"], "my-pack");
    assert!(!out.contains("rule-pack-stale"));
}

#[test]
fn explain_and_rules() {
    let (code, out, _) = run(&["explain", "1C905.a.4"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Dy-containing NdFeB") && out.contains("mofcom.gov.cn"),
        "{out}"
    );
    let (code, out, _) = run(&["explain", "rotor-stator-assembly"]);
    assert_eq!(code, 0);
    assert!(out.contains("FAQ V, answer 1"), "{out}");
    let (code, out, _) = run(&["explain", "missing-licence"]);
    assert_eq!(code, 0);
    assert!(out.contains("[error]"));
    let (code, _, err) = run(&["explain", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("catalogue-lsp rules"));
    let (code, out, _) = run(&["rules", "--as-of", "2026-06-01"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("1C909.a.4") && out.contains("suspended by ann-70-2025 until 2026-11-10"),
        "{out}"
    );
    let (_, out, _) = run(&["rules", "--as-of", "2026-11-11", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "in-force" || i["status"] == "unconfirmed")
    );
    // After the Ann. 70 window no source confirms Ann. 57's status (contract §6).
    let ann57: Vec<_> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["instrument"] == "ann-57-2025")
        .collect();
    assert!(!ann57.is_empty());
    assert!(ann57.iter().all(|i| {
        i["status"] == "unconfirmed"
            && i["assumption"]
                .as_str()
                .unwrap()
                .contains("no source confirms")
    }));
}

#[test]
fn a_catalogue_cannot_name_a_rule_pack_outside_the_checked_paths() {
    let outside = tempfile::tempdir().unwrap();
    let pack = write(
        outside.path(),
        "pack.toml",
        catalogue_lsp::rules::EMBEDDED.as_bytes(),
    );
    let dir = tempfile::tempdir().unwrap();
    let text =
        format!("[catalogue]\nrules = \"{pack}\"\n[[product]]\nsku = \"A\"\nform = \"motor\"\n");
    write(dir.path(), "a.catalogue.toml", text.as_bytes());
    let (code, _, err) = run(&["check", &dir.path().display().to_string()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("outside the checked paths") && err.contains("--rules"),
        "{err}"
    );
    // The user's own flag may point anywhere.
    let (code, _, err) = run(&["check", &dir.path().display().to_string(), "--rules", &pack]);
    assert_eq!(code, 0, "{err}");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_not_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.catalogue.toml");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return; // no mkfifo on this system
    }
    let (code, _, err) = run(&["check", &fifo.display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a regular file"), "{err}");
    // In a directory, it is not read either, and the run says so: a
    // catalogue that could not be read fails the run.
    let (code, _, err) = run(&["check", &dir.path().display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pipe.catalogue.toml") && err.contains("FIFO"),
        "{err}"
    );
}

/// Issue 11: the pack is tested like code; `rules test` runs the pack's
/// cases and fails on a wrong verdict or a rule no case exercises.
#[test]
fn rules_test_runs_the_pack_tests_with_coverage() {
    let (code, out, _) = run(&["rules", "test"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("coverage: ") && out.contains("ok: every case passed"),
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("wrong.test.toml");
    std::fs::write(
        &f,
        "[[case]]\nname = \"Dy oxide\"\nsource = \"Ann. 18, 1C905.b\"\nas_of = 2026-06-01\ncatalogue = \"[[product]]\\nsku = 'P'\\nform = 'oxide'\\ncomposition = { Dy2O3 = 100 }\\n\"\nexpect = [{ sku = \"P\", verdict = \"not-controlled\" }]\n",
    )
    .unwrap();
    let (code, out, _) = run(&["rules", "test", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL") && out.contains("expected not-controlled, got controlled"),
        "{out}"
    );
    assert!(out.contains("not exercised: item 1C902.a.1"), "{out}");
    let (code, _, err) = run(&["rules", "test", dir.path().join("none").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

/// v2 §4a, §8: per product `exports` with the licence's use after each, per
/// file `licences` with limits, use, share and what is left.
#[test]
fn json_lists_exports_and_licence_balances() {
    let (code, out, _) = run(&[
        "check",
        "examples/shipments.catalogue.toml",
        "--format",
        "json",
        "--as-of",
        "2026-06-01",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let file = &v["files"][0];
    let magnet = &file["products"][0];
    assert_eq!(magnet["sku"], "NDFEB-DY-12");
    let exports = magnet["exports"].as_array().unwrap();
    let dates: Vec<&str> = exports
        .iter()
        .map(|e| e["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-03-02",
            "2026-04-06",
            "2026-05-04",
            "2026-06-01",
            "2026-06-15"
        ]
    );
    assert_eq!(exports[0]["kind"], "product");
    assert_eq!(exports[1]["kind"], "shipment");
    assert_eq!(exports[1]["quantity"], 500000.0);
    assert_eq!(exports[1]["unit"], "g");
    assert_eq!(exports[1]["licence"], "GL-2026-0300");
    // 0.4 t then 0.9 t of the 1 t limit, in the licence's unit.
    assert_eq!(
        exports[1]["licence_use"],
        serde_json::json!({"quantity": 0.9, "unit": "t", "value": 1700000.0, "currency": "CNY", "share": 90.0})
    );
    // The EUR value is not counted: the use stays at 1 700 000 CNY.
    assert_eq!(exports[2]["licence_use"]["value"], 1700000.0);
    let licences = file["licences"].as_array().unwrap();
    let gl = licences.iter().find(|l| l["id"] == "GL-2026-0300").unwrap();
    assert_eq!(gl["type"], "general");
    assert_eq!(gl["expires"], "2026-09-30");
    assert_eq!(
        gl["limits"],
        serde_json::json!({"quantity": 1.0, "unit": "t", "value": 2000000.0, "currency": "CNY"})
    );
    assert_eq!(gl["used"]["quantity"], 1.05);
    assert_eq!(gl["used"]["value"], 2050000.0);
    assert_eq!(gl["share"], 105.0);
    assert_eq!(gl["remaining"]["quantity"], 0.0);
    assert_eq!(gl["exports"], 5);
    // A product without exports has an empty list, not a missing key.
    let (_, out, _) = run(&[
        "check",
        "examples/motors.catalogue.toml",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["files"][0]["products"][0]["exports"].is_array());
    assert!(v["files"][0]["licences"].is_array());
}

/// `--parties` replaces the embedded list; the example shows a listed party
/// (fictional) and a reviewed non-match; JSON names the list (contract §8).
#[test]
fn parties_flag_screens_against_the_given_list() {
    let list = "tests/parties/fictional.parties.toml";
    let args = [
        "check",
        "examples/parties.catalogue.toml",
        "--parties",
        list,
        "--format",
        "json",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["parties"]["id"], "fictional-test-list");
    assert_eq!(v["parties"]["sha256"].as_str().unwrap().len(), 64);
    let (_, sarif, _) = run(&[
        "check",
        "examples/parties.catalogue.toml",
        "--parties",
        list,
        "--format",
        "sarif",
    ]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(
        sarif["runs"][0]["properties"]["parties"]["id"],
        "fictional-test-list"
    );
    let diags = v["files"][0]["diagnostics"].as_array().unwrap();
    let codes: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["sku"].as_str().unwrap_or("")))
        .collect();
    assert!(
        codes.contains(&("listed-party", "FERRITE-ZEPHYR")),
        "{codes:?}"
    );
    // The close name is reviewed in a [[screening]] record: silenced.
    assert!(
        !codes.iter().any(|(c, _)| *c == "possible-listed-party"),
        "{codes:?}"
    );
    // Without the flag the embedded list (real entries) matches none of the fictional names.
    let (code, out, _) = run(&[
        "check",
        "examples/parties.catalogue.toml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["parties"]["id"], "cn-mofcom-party-lists");
    // The documented command over all examples exits 1 and shows the listed party.
    let (code, out, _) = run(&[
        "check",
        "examples/",
        "--parties",
        list,
        "--as-of",
        "2026-06-01",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("error[listed-party] FERRITE-ZEPHYR"), "{out}");
    // A bad list is exit 2 with its line.
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.toml",
        b"[parties]\nid = \"x\"\nversion = \"1\"\nreviewed_through = 2026-01-01\nnote = \"n\"\n\n[[party]]\nid = \"a\"\n",
    );
    let (code, _, err) = run(&["check", "examples", "--parties", &bad]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml:") && err.contains("bad party list"),
        "{err}"
    );
}

/// `catalogue-lsp parties` lists the entries in force on a date, with sources.
#[test]
fn parties_command_lists_the_list_as_of_a_date() {
    let (code, out, _) = run(&["parties", "--as-of", "2026-06-01"]);
    assert_eq!(code, 0);
    assert!(out.contains("party list cn-mofcom-party-lists"), "{out}");
    assert!(out.contains("Not complete"), "{out}");
    assert!(out.contains("cn-ecl-2026-11-mhi-shipbuilding"), "{out}");
    assert!(out.contains("cn-wl-2026-12-subaru"), "{out}");
    // Measures stopped 2025-08-12: listed under "removed", not in force.
    let removed = out.split("removed by 2026-06-01:").nth(1).unwrap_or("");
    assert!(
        removed.contains("\n  cn-ecl-2025-22-american-photonics  American Photonics (control-list, removed 2025-08-12)"),
        "{out}"
    );
    // No. 13/2025: measures lifted 2025-11-10 (MOFCOM spokesperson,
    // 2025-11-05); in force before that.
    assert!(
        removed.contains("cn-ecl-2025-03-04-leidos  Leidos"),
        "{out}"
    );
    let (_, before, _) = run(&["parties", "--as-of", "2025-05-01"]);
    let in_force = before.split("removed by").next().unwrap_or("");
    assert!(
        in_force.contains("cn-ecl-2025-03-04-leidos  Leidos"),
        "{before}"
    );
    assert!(
        before.contains("cn-ecl-2025-22-american-photonics  American Photonics"),
        "{before}"
    );
    assert!(
        !before.contains("cn-wl-2026-12-subaru"),
        "not yet added: {before}"
    );
    let (code, out, _) = run(&[
        "parties",
        "--parties",
        "tests/parties/fictional.parties.toml",
        "--format",
        "json",
        "--as-of",
        "2026-06-01",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["parties"]["id"], "fictional-test-list");
    assert_eq!(
        v["entries"].as_array().unwrap().len(),
        3,
        "one entry removed by then"
    );
    let (code, out, _) = run(&["explain", "cn-ecl-2025-51-huntington-ingalls"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Huntington Ingalls Industries, Inc.") && out.contains("prohibited"),
        "{out}"
    );
}

/// Issue 16: the server's messages got short (the explanation moved to the
/// hover); `check`'s did not: its JSON message for missing end-use evidence
/// is the whole text, the pack's requirements included, exactly as before.
#[test]
fn check_keeps_the_whole_end_use_message() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.catalogue.toml");
    std::fs::write(&p, "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nend_user = \"Example GmbH\"\n").unwrap();
    let (_, out, _) = run(&[
        "check",
        p.to_str().unwrap(),
        "--format",
        "json",
        "--as-of",
        "2026-06-01",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = v["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "missing-end-use-evidence")
        .cloned()
        .unwrap();
    assert_eq!(
        d["message"],
        "export of a controlled item (1C905.b) without a licence yet lacks `end_use`, `contract`, `euc`: a licence application to MOFCOM needs the contract, a technical description or test report (e.g. XRF/ICP composition), and an end-user and end-use certificate naming the end user, the item and model, the quantity matching the contract, the contract number, the specific civil end use and a no-transfer undertaking; MOFCOM decides within 45 working days. Set `end_use`, `contract`, `euc` (`euc`: the certificate's reference) before applying"
    );
    assert_eq!(d["source"]["article"], "Art. 2");
    // `explain` gives the same explanation, with its source.
    let (code, out, _) = run(&["explain", "missing-end-use-evidence"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Why: a licence application to MOFCOM needs the contract")
            && out.contains("45 working days")
            && out.contains("Source: Regulations on Export Control of Dual-Use Items (State Council Decree 792), Art. 2 <http"),
        "{out}"
    );
    let (_, out, _) = run(&["explain", "missing-licence"]);
    assert!(
        out.contains("Why: every export of a controlled item, whether trade"),
        "{out}"
    );
}
