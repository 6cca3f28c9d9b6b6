//! The command line: `check` (CI), `explain` (what a code means, with
//! sources), `rules` (the pack's items and their status on a date) and
//! `dossier` (licence-application dossiers, `report::dossier`).

use crate::clock::today;
use crate::diagnostic::Code;
use crate::engine::Options;
use crate::report;
use crate::rules::RulePack;
use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "catalogue-lsp",
    version,
    about = "Export-control classification of rare-earth product catalogues: CI checker and language server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DossierFormat {
    Markdown,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the language server on stdin/stdout (editors start this).
    Serve {
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Check catalogue files or directories; exit 0 clean, 1 errors found, 2 the run failed (also: nothing judged, or a catalogue path could not be read).
    Check {
        /// Files or directories (searched for *.catalogue.toml, catalogue.toml, *.catalogue.csv, *.licences.csv and *.shipments.csv). Default: the current directory.
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Evaluation date for products without ship_date (overrides [catalogue].as_of).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<Date>,
        /// Rule pack file to use instead of the embedded pack (and of [catalogue].rules).
        #[arg(long, value_name = "PATH")]
        rules: Option<PathBuf>,
        /// Party list to screen end users and importers against instead of the embedded list.
        #[arg(long, value_name = "PATH")]
        parties: Option<PathBuf>,
    },
    /// Licence-application dossiers for controlled exports without a usable licence (docs/dossier.md);
    /// exit 0 written, 2 nothing matched or the run failed.
    Dossier {
        /// Files or directories, as for `check`. Default: the current directory.
        paths: Vec<PathBuf>,
        /// Only exports to this end user (case and surrounding spaces ignored).
        #[arg(long, value_name = "NAME")]
        end_user: Option<String>,
        /// Only exports to this destination (ISO 3166-1 alpha-2).
        #[arg(long, value_name = "CC")]
        destination: Option<String>,
        /// The applicant for exports whose file names none: a file's `[catalogue].exporter` wins
        /// (CSV catalogues have no `[catalogue]` table, so this is how they name one).
        #[arg(long, value_name = "NAME")]
        exporter: Option<String>,
        /// The dossier's date (deadlines are judged against it), also the evaluation date for
        /// products without ship_date. Default: today.
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<Date>,
        #[arg(long, value_name = "PATH")]
        rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = DossierFormat::Markdown)]
        format: DossierFormat,
        /// Write to this new file (never over an existing one) instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the TOML equivalent of a CSV catalogue (`*.catalogue.csv`, `*.licences.csv`, `*.shipments.csv`); with --output, write it to a new file (an existing file is never overwritten).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Write the TOML here instead of stdout; refused if the file exists.
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Explain a diagnostic code, a control code (or family, e.g. 1C905), an exclusion, a licence type or a party-list entry id.
    Explain {
        code: String,
        #[arg(long, value_name = "PATH")]
        rules: Option<PathBuf>,
        /// Party list whose entry ids are explained (default: the embedded list).
        #[arg(long, value_name = "PATH")]
        parties: Option<PathBuf>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<Date>,
    },
    /// List the party list's entries in force on a date (default today), with their sources.
    Parties {
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<Date>,
        /// Party list file (default: the embedded list).
        #[arg(long, value_name = "PATH")]
        parties: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// List the rule pack's items with their status on a date; `rules test` runs the pack's tests.
    Rules {
        #[command(subcommand)]
        action: Option<RulesAction>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<Date>,
        #[arg(long, value_name = "PATH")]
        rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum RulesAction {
    /// Run rule-pack test files (expected verdicts with their sources) and report coverage:
    /// exit 0 when every case passes and every item, exclusion, licence type and guard is
    /// exercised, 1 otherwise, 2 when a file cannot be read.
    Test {
        /// Test files (*.test.toml) or directories. Default: the embedded pack's tests
        /// (or `tests/` beside the pack given with --rules).
        paths: Vec<PathBuf>,
        #[arg(long, value_name = "PATH")]
        rules: Option<PathBuf>,
    },
}

fn pack(rules: &Option<PathBuf>) -> Result<Arc<RulePack>, String> {
    match rules {
        Some(p) => crate::packs::Resolver::load_user(p).map_err(|e| e.to_string()),
        None => Ok(RulePack::embedded()),
    }
}

fn party_list(parties: &Option<PathBuf>) -> Result<Arc<crate::parties::PartyList>, String> {
    match parties {
        Some(p) => crate::parties::PartyList::load(p)
            .map(Arc::new)
            .map_err(|e| e.to_string()),
        None => Ok(crate::parties::PartyList::embedded()),
    }
}

/// A writer that, once the reader has closed the pipe, takes and drops
/// everything (other errors are passed on).
struct PastBrokenPipe<W> {
    out: W,
    closed: bool,
}

impl<W: std::io::Write> std::io::Write for PastBrokenPipe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.out.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            r => r,
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.out.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }
}

/// Runs a command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    if let Command::Serve { .. } = cli.command {
        // The server owns stdout: no lock may be held here.
        return crate::server::serve();
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Serve { .. } => unreachable!("handled above"),
        Command::Check {
            paths,
            format,
            as_of,
            rules,
            parties,
        } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            let opts = Options {
                as_of,
                today: today(),
                explain: false,
                keep_judgements: false,
            };
            // The diagnostics are computed as they are written (never all
            // held: a million products made ~350 MB of them).
            let color = std::io::stdout().is_terminal();
            // A closed pipe (`check | head`) drops the rest of the report,
            // but the run goes on to the end: its exit code counts every
            // error, not only those written before the pipe closed.
            let mut w = std::io::BufWriter::with_capacity(
                1 << 16,
                PastBrokenPipe {
                    out: &mut out,
                    closed: false,
                },
            );
            let checked = report::check(
                &paths,
                rules.as_deref(),
                parties.as_deref(),
                &opts,
                // JSON lists each file's products before its diagnostics.
                format == Format::Json,
                |run, diags| {
                    match format {
                        Format::Human => report::human::write_from(run, diags, color, &mut w),
                        Format::Json => report::json::write_from(run, diags, &mut w),
                        Format::Sarif => report::sarif::write_from(run, diags, &mut w),
                    }?;
                    w.flush()
                },
            );
            match checked {
                Err(e) => {
                    if let report::RunError::NothingJudged { skipped, .. } = &e {
                        for n in crate::source::skip_notes(skipped) {
                            eprintln!("{n}");
                        }
                    }
                    eprintln!("error: {e}");
                    return 2;
                }
                Ok(checked) => {
                    if let Err(e) = &checked.written {
                        eprintln!("error: cannot write the report: {e}");
                        return 2;
                    }
                    let run = &checked.run;
                    if format != Format::Human {
                        // The human report says this itself; JSON and SARIF keep stdout to their schema.
                        for n in crate::source::skip_notes(&run.skipped) {
                            eprintln!("{n}");
                        }
                    }
                    let unread = run.unread();
                    if unread > 0 {
                        eprintln!(
                            "error: {unread} catalogue path{} could not be read (listed above): the run is incomplete, so it fails (exit 2); fix or remove them, or check the other paths by name",
                            if unread == 1 { "" } else { "s" }
                        );
                    }
                    let code = checked.exit_code();
                    // The process ends next: freeing every product one by one would only cost time.
                    std::mem::forget(checked);
                    return code;
                }
            }
        }
        Command::Dossier {
            paths,
            end_user,
            destination,
            exporter,
            as_of,
            rules,
            format,
            output,
        } => {
            let sel = report::dossier::Selection {
                end_user,
                destination,
                exporter: exporter.filter(|e| !e.trim().is_empty()),
            };
            let json = format == DossierFormat::Json;
            return report::dossier::command(paths, sel, as_of, rules, json, output, &mut out);
        }
        Command::Import { file, output } => return import(&file, output.as_deref(), &mut out),
        Command::Explain {
            code,
            rules,
            parties,
            as_of,
        } => match party_list(&parties).map(|l| (l.get(&code).map(|e| l.explain(e)), l)) {
            Ok((Some(text), _)) => Ok(text),
            Ok((None, _)) => {
                pack(&rules).and_then(|p| explain(&p, &code, as_of.unwrap_or_else(today)))
            }
            Err(e) => Err(e),
        },
        Command::Parties {
            as_of,
            parties,
            format,
        } => party_list(&parties).map(|l| {
            let date = as_of.unwrap_or_else(today);
            if format == Format::Human {
                l.render(date)
            } else {
                to_json(&l.to_json(date))
            }
        }),
        Command::Rules {
            action: Some(RulesAction::Test { paths, rules }),
            ..
        } => {
            let result = pack(&rules)
                .and_then(|p| test_files(&paths, rules.as_deref()).map(|f| (p, f)))
                .and_then(|(p, files)| crate::packtest::run(&p, &files));
            return match result {
                Ok(r) => {
                    let _ = out.write_all(r.render().as_bytes());
                    if r.passed() { 0 } else { 1 }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            };
        }
        Command::Rules {
            action: None,
            as_of,
            rules,
            format,
        } => pack(&rules).map(|p| list_rules(&p, as_of.unwrap_or_else(today), format)),
    };
    match result {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// `import`: exit 0 written, 1 the CSV has syntax errors (nothing written),
/// 2 the file cannot be read, is not CSV, or the output exists.
fn import(file: &std::path::Path, output: Option<&std::path::Path>, out: &mut impl Write) -> i32 {
    use crate::catalogue::Format as F;
    let F::Csv(kind) = F::of_path(file) else {
        eprintln!(
            "error: {}: not a CSV file (import reads *.catalogue.csv, *.licences.csv or *.shipments.csv)",
            file.display()
        );
        return 2;
    };
    let (text, bad) = match crate::source::read_text(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {}", file.display(), e.message);
            return 2;
        }
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let toml = match (bad, crate::catalogue::import::to_toml(&text, kind, &name)) {
        (None, Ok(t)) => t,
        (bad, result) => {
            let lines = crate::text::LineIndex::new(&text);
            for d in bad.into_iter().chain(result.err().unwrap_or_default()) {
                let lc = lines.line_col(&text, d.span.start());
                eprintln!(
                    "{}:{}:{}: error[{}]: {}",
                    file.display(),
                    lc.line,
                    lc.column,
                    d.code.as_str(),
                    d.message
                );
            }
            eprintln!("error: not imported: fix the errors above first (nothing was written)");
            return 1;
        }
    };
    match output {
        None => {
            let _ = out.write_all(toml.as_bytes());
            0
        }
        Some(path) => {
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .and_then(|mut f| f.write_all(toml.as_bytes()));
            match written {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    eprintln!(
                        "error: {} exists: not overwritten (choose another path or remove it)",
                        path.display()
                    );
                    2
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    2
                }
            }
        }
    }
}

/// The test files to run: the paths given (files, or directories searched
/// for `*.test.toml`), else the tests beside a pack file, else the embedded
/// pack's own.
fn test_files(
    paths: &[PathBuf],
    pack: Option<&std::path::Path>,
) -> Result<Vec<(String, String)>, String> {
    let mut dirs: Vec<PathBuf> = paths.to_vec();
    if dirs.is_empty() {
        match pack {
            None => {
                return Ok(crate::packtest::EMBEDDED
                    .iter()
                    .map(|(n, t)| (n.to_string(), t.to_string()))
                    .collect());
            }
            Some(p) => dirs.push(
                p.parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join("tests"),
            ),
        }
    }
    let mut files = Vec::new();
    for d in dirs {
        let mut found: Vec<PathBuf> = if d.is_dir() {
            std::fs::read_dir(&d)
                .map_err(|e| format!("{}: cannot read the folder: {e}", d.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".test.toml"))
                .collect()
        } else {
            vec![d.clone()]
        };
        found.sort();
        if found.is_empty() {
            return Err(format!(
                "{}: no *.test.toml files: a pack's tests are TOML files of [[case]] tables (docs/rule-pack.md)",
                d.display()
            ));
        }
        for f in found {
            let guard = crate::fsread::Guard {
                what: "a rule-pack test file",
                max_bytes: crate::fsread::MAX_PACK_BYTES,
                within: None,
            };
            let bytes = crate::fsread::read(&f, &guard).map_err(|e| e.to_string())?;
            let text =
                String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", f.display()))?;
            files.push((f.display().to_string(), text));
        }
    }
    Ok(files)
}

fn to_json(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// What a code means, with its sources.
pub fn explain(p: &RulePack, code: &str, date: Date) -> Result<String, String> {
    use std::fmt::Write as _;
    let mut s = String::new();
    if let Some(c) = Code::parse(code) {
        let _ = writeln!(
            s,
            "{} [{}]: {}",
            c.as_str(),
            c.default_severity().as_str(),
            c.title()
        );
        // Why: what the editor's short message leaves to the hover.
        for (why, src) in crate::engine::licence::explanations(p, c, date) {
            let _ = writeln!(s, "Why: {why}");
            if let Some(src) = src {
                let _ = writeln!(s, "Source: {} <{}>", src.cite(), src.url);
            }
        }
        let _ = writeln!(
            s,
            "Documented in docs/diagnostics.md and docs/format.md §7."
        );
        return Ok(s);
    }
    if let Some(e) = p.exclusion(code) {
        let _ = writeln!(s, "exclusion `{}`: {}\n{}", e.id, e.title, e.explanation);
        if !e.text_zh.is_empty() {
            let _ = writeln!(s, "Text: {}", e.text_zh);
        }
        let scope: Vec<&str> = e.scope.iter().map(|i| &*p.instruments[*i].title).collect();
        let forms: Vec<&str> = e.forms.iter().map(|f| f.as_str()).collect();
        let _ = writeln!(
            s,
            "Applies to forms: {}; scope: {}",
            forms.join(", "),
            scope.join(", ")
        );
        if let Some(items) = &e.items {
            let _ = writeln!(s, "Takes out only: {}", items.join(", "));
        }
        let src = p.source(e.instrument, &e.article);
        let _ = writeln!(
            s,
            "Source: {} <{}> [confidence {}]",
            src.cite(),
            src.url,
            e.confidence
        );
        return Ok(s);
    }
    if let Some(r) = p.licence_rule(code) {
        let k = &r.kind;
        let src = p.source(r.instrument, &r.article);
        let _ = writeln!(
            s,
            "licence type `{k}`: {}\n{}\nSource: {} <{}> [confidence {}]",
            r.title,
            r.explanation,
            src.cite(),
            src.url,
            r.confidence
        );
        return Ok(s);
    }
    let items: Vec<_> = p.items_under(code).collect();
    if items.is_empty() {
        return Err(format!(
            "`{code}` is not a diagnostic code, control code, exclusion id or licence type of rule pack {} {}; try `catalogue-lsp rules` for the list",
            p.id, p.version
        ));
    }
    for i in items {
        let inst = &p.instruments[i.instrument];
        let forms: Vec<&str> = i.forms.iter().map(|f| f.as_str()).collect();
        let els: Vec<&str> = i.elements.iter().map(|e| e.symbol()).collect();
        let _ = writeln!(
            s,
            "{} — {}{}",
            i.code,
            i.title,
            if i.title_zh.is_empty() {
                String::new()
            } else {
                format!(" ({})", i.title_zh)
            }
        );
        let _ = writeln!(
            s,
            "  status on {date}: {}",
            p.status_text(i.instrument, date)
        );
        if let Some(a) = p.assumption_text(i.instrument, inst.status(date)) {
            let _ = writeln!(s, "  assumption: {a}");
        }
        let groups: String = i
            .any_of
            .iter()
            .map(|g| {
                let g: Vec<&str> = g.iter().map(|e| e.symbol()).collect();
                format!(" and one of {}", g.join("/"))
            })
            .collect();
        let mode = match i.mode {
            crate::rules::MatchMode::Largest => "the largest constituent",
            crate::rules::MatchMode::System => "every element present; the widest system wins",
            crate::rules::MatchMode::Contains => "every element present",
        };
        let _ = writeln!(
            s,
            "  matches: form {} with {}{groups} ({mode})",
            if forms.is_empty() {
                "-".into()
            } else {
                forms.join("/")
            },
            els.join("-"),
        );
        if !i.hs_codes.is_empty() {
            let _ = writeln!(
                s,
                "  reference customs codes (reference only): {}",
                i.hs_codes.join(", ")
            );
        }
        if !i.note.is_empty() {
            let _ = writeln!(s, "  note: {}", i.note);
        }
        let fields: String = i
            .field_confidence
            .iter()
            .map(|(k, c)| format!("; {k}: {c}"))
            .collect();
        let _ = writeln!(
            s,
            "  source: {}, {} <{}> [confidence {}{fields}]",
            inst.title, i.article, inst.url, i.confidence
        );
    }
    Ok(s)
}

fn list_rules(p: &RulePack, date: Date, format: Format) -> String {
    if format != Format::Human {
        let items: Vec<serde_json::Value> = p
            .items
            .iter()
            .map(|i| {
                let inst = &p.instruments[i.instrument];
                let status = inst.status(date);
                serde_json::json!({
                    "code": i.code, "title": i.title, "title_zh": i.title_zh, "instrument": inst.id,
                    "status": status.name(), "status_text": p.status_text(i.instrument, date),
                    "assumption": p.assumption_text(i.instrument, status),
                    "source": inst.url, "confidence": i.confidence,
                })
            })
            .collect();
        return to_json(
            &serde_json::json!({ "rule_pack": { "id": p.id, "version": p.version, "sha256": p.sha256, "reviewed_through": p.reviewed_through.to_string() }, "as_of": date.to_string(), "items": items }),
        );
    }
    use std::fmt::Write as _;
    let mut s = format!(
        "rule pack {} {} (reviewed through {}; sha256 {})\nstatus on {date}\n",
        p.id, p.version, p.reviewed_through, p.sha256
    );
    for i in &p.items {
        let inst = &p.instruments[i.instrument];
        let _ = writeln!(
            s,
            "{:<12} {:<52} {:<12} {}",
            i.code,
            i.title,
            inst.id,
            p.status_text(i.instrument, date)
        );
    }
    for (n, inst) in p.instruments.iter().enumerate() {
        if let Some(a) = p.assumption_text(n, inst.status(date)) {
            let _ = writeln!(s, "\nunconfirmed status of {}: {a}", inst.id);
        }
    }
    for e in &p.exclusions {
        let _ = writeln!(s, "exclusion {:<22} {}", e.id, e.title);
    }
    s
}
