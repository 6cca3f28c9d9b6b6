//! Reading files from crafted workspaces (issue 12, items 1, 6, 7, the
//! `rules` setting of 8): packs that are symlinks to devices or FIFOs,
//! folders that lead outside, unreadable folders, empty folders, dangling
//! links, non-UTF-8 names — through `check` and through the server (the
//! real binary over stdio, tests/common).
#![cfg(unix)]

mod common;

use common::lsp::{Client, codes, url};
use serde_json::{Value, json};
use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Only to avoid hanging forever if a read blocks: the tests wait on the
/// process, never on a time budget.
const SAFETY: Duration = Duration::from_secs(300);

/// Runs the binary with stdin an open pipe that nobody writes to or closes
/// (a reader of `/dev/stdin` would wait forever). Returns (code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_catalogue-lsp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run binary");
    let stdin = child.stdin.take();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + SAFETY;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("check {args:?} hung (killed after the safety timeout)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.join().unwrap()).into_owned(),
        String::from_utf8_lossy(&e.join().unwrap()).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo")
        .arg(p)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "mkfifo is needed for this test");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A folder under `dir` that cannot be read even by root: nested so deep
/// that its path is longer than PATH_MAX (4096 bytes), so the system refuses
/// to open it (ENAMETOOLONG). Returns the first level.
fn unreadable_by_depth(dir: &Path) -> PathBuf {
    let level = "d".repeat(200);
    let rel: Vec<&str> = std::iter::repeat_n(level.as_str(), 22).collect();
    let ok = Command::new("mkdir")
        .arg("-p")
        .arg(rel.join("/"))
        .current_dir(dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "mkdir -p of a path longer than PATH_MAX");
    dir.join(level)
}

const MOTOR: &str = "[[product]]\nsku = \"M\"\nform = \"motor\"\n";

fn with_pack(pack: &str) -> String {
    format!("[catalogue]\nas_of = 2026-06-01\nrules = \"{pack}\"\n{MOTOR}")
}

// ---------------------------------------------------------------- check

#[test]
fn check_refuses_a_pack_symlinked_to_dev_stdin_or_dev_zero() {
    for dev in ["/dev/stdin", "/dev/zero"] {
        let dir = tempfile::tempdir().unwrap();
        symlink(dev, dir.path().join("p.toml")).unwrap();
        write(dir.path(), "a.catalogue.toml", &with_pack("p.toml"));
        let (code, _, err) = run(&["check", &dir.path().display().to_string()]);
        assert_eq!(code, 2, "{dev}: {err}");
        assert!(
            err.contains("p.toml") && err.contains("bad rule pack"),
            "{err}"
        );
    }
    // Given with --rules (the user's own choice, so not confined): still only a regular file.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.catalogue.toml", MOTOR);
    let (code, _, err) = run(&[
        "check",
        &dir.path().display().to_string(),
        "--rules",
        "/dev/zero",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("character device, not a regular file"),
        "{err}"
    );
    let (code, _, err) = run(&["rules", "--rules", "/dev/stdin"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn check_refuses_a_fifo_pack_inside_the_checked_folder_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("p.toml"));
    write(dir.path(), "a.catalogue.toml", &with_pack("p.toml"));
    // No one ever writes to the FIFO: reading it would block for good.
    let (code, _, err) = run(&["check", &dir.path().display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("FIFO (named pipe), not a regular file"),
        "{err}"
    );
    let fifo = dir.path().join("p.toml").display().to_string();
    let (code, _, err) = run(&["check", &dir.path().display().to_string(), "--rules", &fifo]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("FIFO"), "{err}");
}

#[test]
fn check_does_not_walk_or_load_packs_through_a_symlinked_folder_outside() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "pack.toml", catalogue_lsp::rules::EMBEDDED);
    write(outside.path(), "x.catalogue.toml", MOTOR);
    let dir = tempfile::tempdir().unwrap();
    symlink(outside.path(), dir.path().join("packs")).unwrap();
    write(dir.path(), "a.catalogue.toml", MOTOR);
    let (code, out, err) = run(&["check", &dir.path().display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("\n1 file, 1 product:"),
        "one file judged: {out}"
    );
    assert!(!out.contains("x.catalogue.toml"), "{out}");
    assert!(
        out.contains("note: skipped 1 path (symbolic links leading outside the checked paths"),
        "{out}"
    );
    // The path text `packs/pack.toml` lies inside; the resolved path does not.
    write(
        dir.path(),
        "a.catalogue.toml",
        &with_pack("packs/pack.toml"),
    );
    let (code, _, err) = run(&["check", &dir.path().display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("outside the checked paths") && err.contains("--rules"),
        "{err}"
    );
}

#[test]
fn check_reports_an_unreadable_subfolder_judges_the_rest_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.catalogue.toml", MOTOR);
    // Root reads everything whatever the permission bits: a path too long
    // to open is unreadable for root too. Without root, permissions as well.
    let deep = unreadable_by_depth(dir.path());
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    write(&locked, "b.catalogue.toml", MOTOR);
    let root = is_root();
    if !root {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let (code, out, err) = run(&["check", &dir.path().display().to_string()]);
    if !root {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("a.catalogue.toml"),
        "the rest is judged: {out}"
    );
    assert!(
        out.contains("cannot read the folder")
            && out.contains(&deep.to_string_lossy()[..dir.path().as_os_str().len() + 50]),
        "{out}"
    );
    assert!(
        err.contains("could not be read") && err.contains("incomplete"),
        "{err}"
    );
    if root {
        // Permission bits do not stop root: the locked folder was read.
        assert!(out.contains("b.catalogue.toml"), "{out}");
    } else {
        assert!(
            out.contains("locked: not judged: cannot read the folder"),
            "{out}"
        );
    }
}

#[test]
fn check_exits_2_when_it_judged_nothing() {
    // An empty folder.
    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["check", &empty.path().display().to_string()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "no report: {out}");
    assert!(
        err.contains("nothing judged: no catalogue file was found")
            && err.contains("*.catalogue.toml"),
        "{err}"
    );
    // Only a dangling `a.catalogue.toml` symlink.
    let dangling = tempfile::tempdir().unwrap();
    symlink(
        dangling.path().join("gone.toml"),
        dangling.path().join("a.catalogue.toml"),
    )
    .unwrap();
    let (code, _, err) = run(&["check", &dangling.path().display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("a.catalogue.toml: not judged: is a symbolic link to")
            && err.contains("fix or remove the link"),
        "{err}"
    );
    // Only a file whose name is not UTF-8.
    let bad = tempfile::tempdir().unwrap();
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(
        bad.path()
            .join(std::ffi::OsStr::from_bytes(b"\xff.catalogue.toml")),
        MOTOR,
    )
    .unwrap();
    let (code, _, err) = run(&[
        "check",
        &bad.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("name is not UTF-8: rename it"), "{err}");
    // Only skipped folders: said, and still nothing judged.
    let hidden = tempfile::tempdir().unwrap();
    std::fs::create_dir(hidden.path().join("target")).unwrap();
    write(&hidden.path().join("target"), "a.catalogue.toml", MOTOR);
    let (code, _, err) = run(&["check", &hidden.path().display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("note: skipped 1 path (hidden entries, target/, node_modules/"),
        "{err}"
    );
    // A catalogue given by name that cannot be read.
    let (code, _, err) = run(&["check", "/dev/zero"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("/dev/zero: not judged: is a character device"),
        "{err}"
    );
}

#[test]
fn check_notes_skipped_paths_and_a_catalogue_link_leading_outside_fails() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.catalogue.toml", MOTOR);
    for d in [".git", "target", "node_modules"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    let (code, out, _) = run(&["check", &dir.path().display().to_string()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("note: skipped 3 paths (hidden entries, target/, node_modules/: not searched; name a path to check it): "),
        "{out}"
    );
    // JSON keeps stdout to its schema; the notes go to stderr.
    let (code, out, err) = run(&[
        "check",
        &dir.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(serde_json::from_str::<Value>(&out).is_ok());
    assert!(err.contains("note: skipped 3 paths"), "{err}");
    // A catalogue-named link to /dev/zero (outside the checked folder): not read, and the run fails.
    symlink("/dev/zero", dir.path().join("z.catalogue.toml")).unwrap();
    let (code, out, err) = run(&["check", &dir.path().display().to_string()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("z.catalogue.toml: not judged: a symbolic link to `/dev/zero`"),
        "{out}"
    );
}

#[test]
fn human_output_names_the_sku_on_every_product_line_and_lists_not_controlled_products() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "a.catalogue.toml",
        "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"DY-OX\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }\n\n[[product]]\nsku = \"FERRITE\"\nform = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\n\n[[product]]\nsku = \"EVIL\\u202Etxt\"\nform = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\n",
    );
    let (code, out, _) = run(&["check", &f.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    for line in out
        .lines()
        .filter(|l| l.contains("a.catalogue.toml:") && !l.starts_with("  "))
    {
        assert!(
            line.contains("] DY-OX: ") || line.contains("] EVIL\\u{202E}txt: "),
            "a product diagnostic without its SKU: {line}"
        );
    }
    assert!(out.contains("error[missing-licence] DY-OX: "), "{out}");
    assert!(
        out.contains("not controlled (no listed item matches):\n")
            && out.contains("a.catalogue.toml:9:1: FERRITE\n"),
        "{out}"
    );
    // Invisible and bidirectional characters are shown, not obeyed.
    assert!(
        out.contains("a.catalogue.toml:14:1: EVIL\\u{202E}txt\n"),
        "{out}"
    );
    assert!(out.contains("2 not controlled"), "{out}");
}

// ---------------------------------------------------------------- server

fn diag_with<'a>(d: &'a [Value], code: &str) -> &'a Value {
    d.iter()
        .find(|x| x["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {d:?}"))
}

/// The server stays responsive: a request is answered and it exits cleanly.
fn still_serving(c: &mut Client, uri: &str) {
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 2}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn server_refuses_packs_that_are_devices_stdin_or_fifos_and_keeps_serving() {
    for (name, make) in [
        (
            "stdin",
            Box::new(|p: &Path| symlink("/dev/stdin", p).unwrap()) as Box<dyn Fn(&Path)>,
        ),
        (
            "zero",
            Box::new(|p: &Path| symlink("/dev/zero", p).unwrap()),
        ),
        ("fifo", Box::new(|p: &Path| mkfifo(p))),
    ] {
        let dir = tempfile::tempdir().unwrap();
        make(&dir.path().join("p.toml"));
        let a = write(dir.path(), "a.catalogue.toml", &with_pack("p.toml"));
        let mut c = Client::spawn();
        c.initialize(dir.path(), &["utf-16"], Value::Null);
        let uri = url(&a);
        c.open(&uri, &std::fs::read_to_string(&a).unwrap(), 1);
        let d = c.diagnostics(&uri, Some(1));
        let e = diag_with(&d, "rule-pack-error")["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            e.contains("p.toml") && e.contains("using cn-rare-earth-dual-use"),
            "{name}: {e}"
        );
        if name == "fifo" {
            assert!(e.contains("FIFO"), "{e}");
        }
        still_serving(&mut c, &uri);
    }
}

#[test]
fn server_does_not_index_or_load_packs_through_a_symlinked_folder_outside() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "pack.toml", catalogue_lsp::rules::EMBEDDED);
    write(
        outside.path(),
        "lic.catalogue.toml",
        "[[licence]]\nid = \"GL-OUT\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\nend_users = [\"C\"]\ndestinations = [\"DE\"]\n",
    );
    let ws = tempfile::tempdir().unwrap();
    symlink(outside.path(), ws.path().join("shared")).unwrap();
    symlink("/", ws.path().join("root")).unwrap();
    let text = "[catalogue]\nas_of = 2026-06-01\nrules = \"shared/pack.toml\"\n\n[[product]]\nsku = \"P\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99 }\ndestination = \"DE\"\nend_user = \"C\"\nlicence = \"GL-OUT\"\n";
    let a = write(ws.path(), "a.catalogue.toml", text);
    let mut c = Client::spawn();
    c.initialize(ws.path(), &["utf-16"], Value::Null);
    // The index says what it did not follow (window/logMessage).
    let m = c.notification("window/logMessage", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("symbolic links leading outside"))
    });
    let msg = m["params"]["message"].as_str().unwrap();
    assert!(msg.contains("shared") && msg.contains("root"), "{msg}");
    let uri = url(&a);
    c.open(&uri, text, 1);
    let d = c.diagnostics(&uri, Some(1));
    // The licence outside was not indexed; the pack outside was not loaded.
    assert!(codes(&d).contains(&"unknown-licence".to_string()), "{d:?}");
    let e = diag_with(&d, "rule-pack-error")["message"]
        .as_str()
        .unwrap();
    assert!(e.contains("outside the workspace folders"), "{e}");
    still_serving(&mut c, &uri);
}

#[test]
fn server_without_a_workspace_folder_confines_a_catalogue_pack_to_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pack.toml", catalogue_lsp::rules::EMBEDDED);
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    write(
        &sub,
        "own.toml",
        &catalogue_lsp::rules::EMBEDDED
            .replace("id = \"cn-rare-earth-dual-use\"", "id = \"own-pack\""),
    );
    let mut c = Client::spawn();
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    c.notify("initialized", json!({}));
    let up = write(&sub, "up.catalogue.toml", &with_pack("../pack.toml"));
    let uri = url(&up);
    c.open(&uri, &with_pack("../pack.toml"), 1);
    let d = c.diagnostics(&uri, Some(1));
    let e = diag_with(&d, "rule-pack-error")["message"]
        .as_str()
        .unwrap();
    assert!(e.contains("outside this catalogue's folder"), "{e}");
    // A pack in the catalogue's own folder is used.
    let own = write(&sub, "own.catalogue.toml", &with_pack("own.toml"));
    let own_uri = url(&own);
    c.open(&own_uri, &with_pack("own.toml"), 1);
    let d = c.diagnostics(&own_uri, Some(1));
    assert!(!codes(&d).contains(&"rule-pack-error".to_string()), "{d:?}");
    still_serving(&mut c, &own_uri);
}

#[test]
fn server_index_survives_an_unreadable_subfolder_and_says_so() {
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "lic.catalogue.toml",
        "[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\nend_users = [\"C\"]\ndestinations = [\"DE\"]\n",
    );
    let deep = unreadable_by_depth(ws.path());
    let text = "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"P\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99 }\ndestination = \"DE\"\nend_user = \"C\"\nlicence = \"GL-1\"\n";
    let a = write(ws.path(), "a.catalogue.toml", text);
    let mut c = Client::spawn();
    c.initialize(ws.path(), &["utf-16"], Value::Null);
    let m = c.notification("window/logMessage", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot read the folder"))
    });
    assert_eq!(m["params"]["type"], 2, "a warning: {m}");
    let name = deep.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        m["params"]["message"]
            .as_str()
            .unwrap()
            .contains(&name[..50]),
        "{m}"
    );
    let uri = url(&a);
    c.open(&uri, text, 1);
    // The licence from the other file is known: the index is not empty.
    let d = c.diagnostics_until(&uri, |d| !codes(d).contains(&"unknown-licence".to_string()));
    assert!(!codes(&d).contains(&"missing-licence".to_string()), "{d:?}");
    still_serving(&mut c, &uri);
}

#[test]
fn server_does_not_echo_a_huge_rules_setting_in_every_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.catalogue.toml", MOTOR);
    let huge = "x".repeat(5_000_000);
    let mut c = Client::spawn();
    c.initialize(
        dir.path(),
        &["utf-16"],
        json!({"rules": huge, "asOf": huge}),
    );
    let uri = url(&a);
    c.open(&uri, MOTOR, 1);
    let d = c.diagnostics(&uri, Some(1));
    let e = diag_with(&d, "rule-pack-error")["message"]
        .as_str()
        .unwrap();
    assert!(e.len() < 2_000, "{} bytes echoed", e.len());
    assert!(e.contains("bytes in all"), "says it was cut: {e}");
    still_serving(&mut c, &uri);
}
