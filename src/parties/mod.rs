//! The party list as data (contract §4b): MOFCOM's export control control
//! list (出口管制管控名单), watch list (关注名单) and unreliable entity list
//! (不可靠实体清单), each entry with its names in every script, the dates it
//! was added and removed, and its source. Loading validates with
//! line-accurate errors, like a rule pack; [`screen`] matches names against
//! it through an index (never a scan of the list per name).
//!
//! The default list (`parties/default.toml`) is compiled in and holds only
//! entries verified in public sources; `--parties PATH` and the server's
//! `parties` setting replace it.

pub mod normalise;
pub mod screen;

use crate::rules::to_date;
use jiff::civil::Date;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use toml::Spanned;

pub use normalise::{Normalised, normalise};
pub use screen::{Finding, Match, Screener};

/// The default list, compiled in.
pub const EMBEDDED: &str = include_str!("../../parties/default.toml");

/// Which MOFCOM list an entry is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListKind {
    ControlList,
    WatchList,
    UnreliableEntityList,
}

impl ListKind {
    pub const ALL: &'static [ListKind] = &[
        ListKind::ControlList,
        ListKind::WatchList,
        ListKind::UnreliableEntityList,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::ControlList => "control-list",
            ListKind::WatchList => "watch-list",
            ListKind::UnreliableEntityList => "unreliable-entity-list",
        }
    }
    pub fn parse(s: &str) -> Option<ListKind> {
        ListKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
    /// The list's name in English and Chinese.
    pub fn title(self) -> &'static str {
        match self {
            ListKind::ControlList => "export control control list (出口管制管控名单)",
            ListKind::WatchList => "watch list (关注名单)",
            ListKind::UnreliableEntityList => "unreliable entity list (不可靠实体清单)",
        }
    }
}

/// Where an entry comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartySource {
    pub instrument: String,
    pub url: String,
}

/// One entry of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub id: String,
    /// The name as the instrument gives it in Latin script.
    pub name: String,
    /// The name as the instrument gives it in Chinese.
    pub name_zh: Option<String>,
    /// Other spellings and scripts.
    pub aliases: Vec<String>,
    pub country: Option<String>,
    pub list: ListKind,
    pub added: Date,
    pub removed: Option<Date>,
    pub source: PartySource,
    pub confidence: String,
    /// What the instrument imposes beyond the list's own consequence (the
    /// unreliable entity list's measures differ per announcement).
    pub measures: Option<String>,
    pub note: Option<String>,
}

impl Party {
    /// In force on `date`: added on or before it and not removed by then.
    pub fn in_force(&self, date: Date) -> bool {
        self.added <= date && self.removed.is_none_or(|r| date < r)
    }
    /// Every name of the entry: the Latin name, the Chinese name, the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.name_zh.as_deref())
            .chain(self.aliases.iter().map(String::as_str))
    }
    /// The name shown in messages: `Latin (中文)`.
    pub fn display(&self) -> String {
        match &self.name_zh {
            Some(zh) => format!("{} ({zh})", self.name),
            None => self.name.clone(),
        }
    }
    /// What listing means for an export, per the list and the source.
    pub fn consequence(&self) -> String {
        match self.list {
            ListKind::ControlList => "exporting dual-use items to it is prohibited, and ongoing exports must stop; only on an application to MOFCOM in a special case may an export be allowed (Export Control Law; Dual-Use Items Export Control Regulations)".to_string(),
            ListKind::WatchList => "no general licence and no export certificate (registration and information reporting) may serve it; only an individual licence, applied for with a risk-assessment report on the party and a written undertaking, and reviewed without the Art. 17(1) time limit (Dual-Use Items Export Control Regulations)".to_string(),
            ListKind::UnreliableEntityList => match &self.measures {
                Some(m) => format!("the announcement's measures: {m} (Provisions on the Unreliable Entity List)"),
                None => "measures under the Provisions on the Unreliable Entity List apply; read the announcement for which".to_string(),
            },
        }
    }
}

/// A party list that failed to load: which file, which line, what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ListError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: bad party list: {}", self.file, l, self.message),
            None => write!(f, "{}: bad party list: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ListError {}

/// A loaded, validated and indexed party list.
#[derive(Debug)]
pub struct PartyList {
    pub id: String,
    pub version: String,
    pub reviewed_through: Date,
    /// How far the list reaches.
    pub note: String,
    pub sha256: String,
    pub parties: Vec<Party>,
    pub(crate) index: screen::Index,
}

static DEFAULT: OnceLock<Arc<PartyList>> = OnceLock::new();

impl PartyList {
    /// The embedded default list (validated by the test suite, so loading cannot fail at run time).
    pub fn embedded() -> Arc<PartyList> {
        DEFAULT
            .get_or_init(|| match PartyList::parse(EMBEDDED, "embedded") {
                Ok(p) => Arc::new(p),
                Err(e) => panic!("the embedded party list is invalid: {e}"),
            })
            .clone()
    }

    /// Loads a list file the user named (`--parties`, the `parties`
    /// setting): anywhere, through the guarded reader (a regular file of
    /// bounded size; never a FIFO or device).
    pub fn load(path: &Path) -> Result<PartyList, ListError> {
        let file = crate::fsread::shown(path);
        let guard = crate::fsread::Guard {
            what: "a party list",
            ..crate::fsread::Guard::rule_pack(None)
        };
        let text = crate::fsread::read_text(path, &guard).map_err(|message| ListError {
            file: file.clone(),
            line: None,
            message,
        })?;
        PartyList::parse(&text, &file)
    }

    /// Parses and validates list text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<PartyList, ListError> {
        let line_of = |off: usize| {
            text[..crate::text::floor_char_boundary(text, off)]
                .lines()
                .count()
                .max(1)
        };
        let err = |span: Option<std::ops::Range<usize>>, m: String| ListError {
            file: origin.to_string(),
            line: span.map(|s| line_of(s.start + 1)),
            message: m,
        };
        let raw: RawList =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().trim().to_string()))?;
        let date = |d: &Spanned<toml::value::Datetime>, what: &str| -> Result<Date, ListError> {
            to_date(d.get_ref()).ok_or_else(|| {
                err(
                    Some(d.span()),
                    format!("{what} must be a date like 2026-07-31"),
                )
            })
        };
        let h = raw.parties.get_ref();
        let nonempty = |s: &str, what: &str, span: std::ops::Range<usize>| {
            if s.trim().is_empty() {
                Err(err(Some(span), format!("{what} must not be empty")))
            } else {
                Ok(())
            }
        };
        nonempty(&h.id, "[parties] id", raw.parties.span())?;
        nonempty(&h.version, "[parties] version", raw.parties.span())?;
        nonempty(
            &h.note,
            "[parties] note (how far the list reaches)",
            raw.parties.span(),
        )?;
        let reviewed_through = date(&h.reviewed_through, "reviewed_through")?;
        let mut parties: Vec<Party> = Vec::with_capacity(raw.party.len());
        let mut ids = rustc_hash::FxHashSet::default();
        for rp in &raw.party {
            let span = rp.span();
            let p = rp.get_ref();
            nonempty(&p.id, "party id", span.clone())?;
            if !ids.insert(p.id.clone()) {
                return Err(err(
                    Some(span),
                    format!("party `{}` is defined twice", p.id),
                ));
            }
            let list = ListKind::parse(p.list.get_ref()).ok_or_else(|| {
                err(
                    Some(p.list.span()),
                    format!(
                        "list `{}` is not one of {}",
                        p.list.get_ref(),
                        ListKind::ALL
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            let added = date(&p.added, "added")?;
            let removed = p.removed.as_ref().map(|d| date(d, "removed")).transpose()?;
            if removed.is_some_and(|r| r < added) {
                return Err(err(
                    Some(span),
                    format!("party `{}` is removed before it is added", p.id),
                ));
            }
            if let Some(c) = &p.country {
                let ok =
                    c.get_ref().len() == 2 && c.get_ref().bytes().all(|b| b.is_ascii_uppercase());
                if !ok {
                    return Err(err(
                        Some(c.span()),
                        format!(
                            "country `{}` is not an ISO 3166-1 alpha-2 code like US",
                            c.get_ref()
                        ),
                    ));
                }
            }
            nonempty(&p.source.instrument, "source.instrument", span.clone())?;
            nonempty(&p.source.url, "source.url", span.clone())?;
            nonempty(&p.confidence, "confidence", span.clone())?;
            let party = Party {
                id: p.id.clone(),
                name: p.name.clone(),
                name_zh: p.name_zh.clone(),
                aliases: p.aliases.clone(),
                country: p.country.as_ref().map(|c| c.get_ref().clone()),
                list,
                added,
                removed,
                source: PartySource {
                    instrument: p.source.instrument.clone(),
                    url: p.source.url.clone(),
                },
                confidence: p.confidence.clone(),
                measures: p.measures.clone(),
                note: p.note.clone(),
            };
            if let Some(bad) = party
                .names()
                .find(|n| !n.chars().any(char::is_alphanumeric) && normalise(n).is_empty())
            {
                return Err(err(
                    Some(span),
                    format!("party `{}`: name `{bad}` has no letters or digits", p.id),
                ));
            }
            parties.push(party);
        }
        let index = screen::Index::build(&parties);
        Ok(PartyList {
            id: h.id.clone(),
            version: h.version.clone(),
            reviewed_through,
            note: h.note.clone(),
            sha256: Sha256::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            parties,
            index,
        })
    }

    /// The entries in force on `date`, in list order.
    pub fn in_force(&self, date: Date) -> impl Iterator<Item = &Party> {
        self.parties.iter().filter(move |p| p.in_force(date))
    }

    /// The list as of `date`, for people: the header, then each list's
    /// entries in force with their names, dates and sources.
    pub fn render(&self, date: Date) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "party list {} {} (reviewed through {}; sha256 {})\n{}\nin force on {date}:",
            self.id,
            self.version,
            self.reviewed_through,
            self.sha256,
            self.note.trim()
        );
        if date > self.reviewed_through {
            let _ = writeln!(
                s,
                "note: {date} is later than the list was reviewed through ({}): entries added since are missing",
                self.reviewed_through
            );
        }
        for kind in ListKind::ALL {
            let entries: Vec<&Party> = self.in_force(date).filter(|p| p.list == *kind).collect();
            let _ = writeln!(
                s,
                "\n{} — {} entr{}",
                kind.title(),
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" }
            );
            for p in entries {
                let _ = writeln!(
                    s,
                    "  {}  {}{}",
                    p.id,
                    p.display(),
                    p.country
                        .as_deref()
                        .map(|c| format!(" [{c}]"))
                        .unwrap_or_default()
                );
                let _ = writeln!(
                    s,
                    "      added {} by {} <{}> (confidence {})",
                    p.added, p.source.instrument, p.source.url, p.confidence
                );
            }
        }
        let gone: Vec<&Party> = self
            .parties
            .iter()
            .filter(|p| p.removed.is_some_and(|r| r <= date))
            .collect();
        if !gone.is_empty() {
            let _ = writeln!(s, "\nremoved by {date}:");
            for p in gone {
                let _ = writeln!(
                    s,
                    "  {}  {} ({}, removed {})",
                    p.id,
                    p.display(),
                    p.list.as_str(),
                    p.removed.map(|r| r.to_string()).unwrap_or_default()
                );
            }
        }
        s
    }

    /// The list as of `date` as JSON.
    pub fn to_json(&self, date: Date) -> serde_json::Value {
        serde_json::json!({
            "parties": { "id": self.id, "version": self.version, "sha256": self.sha256, "reviewed_through": self.reviewed_through.to_string(), "note": self.note.trim() },
            "as_of": date.to_string(),
            "entries": self.in_force(date).map(|p| serde_json::json!({
                "id": p.id, "name": p.name, "name_zh": p.name_zh, "aliases": p.aliases, "country": p.country,
                "list": p.list.as_str(), "added": p.added.to_string(), "removed": p.removed.map(|r| r.to_string()),
                "source": { "instrument": p.source.instrument, "url": p.source.url }, "confidence": p.confidence,
            })).collect::<Vec<_>>(),
        })
    }

    /// One entry explained: names, list, dates, consequence and source.
    pub fn explain(&self, p: &Party) -> String {
        let mut names: Vec<&str> = p.names().collect();
        names.dedup();
        format!(
            "{} — {}\nlist: {}\nnames: {}\ncountry: {}\nadded: {}{}\nconsequence: {}\nsource: {} <{}> (confidence {}){}\nparty list: {} {} (reviewed through {})\n",
            p.id,
            p.display(),
            p.list.title(),
            names.join("; "),
            p.country.as_deref().unwrap_or("not given"),
            p.added,
            p.removed
                .map(|r| format!("\nremoved: {r}"))
                .unwrap_or_default(),
            p.consequence(),
            p.source.instrument,
            p.source.url,
            p.confidence,
            p.note
                .as_deref()
                .map(|n| format!("\nnote: {n}"))
                .unwrap_or_default(),
            self.id,
            self.version,
            self.reviewed_through,
        )
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    parties: Spanned<RawHeader>,
    #[serde(default)]
    party: Vec<Spanned<RawParty>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: String,
    version: String,
    reviewed_through: Spanned<toml::value::Datetime>,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    id: String,
    name: String,
    #[serde(default)]
    name_zh: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    country: Option<Spanned<String>>,
    list: Spanned<String>,
    added: Spanned<toml::value::Datetime>,
    #[serde(default)]
    removed: Option<Spanned<toml::value::Datetime>>,
    source: RawSource,
    confidence: String,
    #[serde(default)]
    measures: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    instrument: String,
    url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_loads_and_says_how_far_it_reaches() {
        let l = PartyList::embedded();
        assert!(!l.parties.is_empty());
        assert!(!l.note.is_empty());
        assert_eq!(l.sha256.len(), 64);
        for p in &l.parties {
            assert!(p.source.url.starts_with("http"), "{}", p.id);
        }
    }

    #[test]
    fn errors_name_the_line() {
        let text = "[parties]\nid = \"t\"\nversion = \"1\"\nreviewed_through = 2026-01-01\nnote = \"n\"\n\n[[party]]\nid = \"a\"\nname = \"A Co\"\nlist = \"black-list\"\nadded = 2026-01-01\nsource = { instrument = \"x\", url = \"https://x\" }\nconfidence = \"test\"\n";
        let e = PartyList::parse(text, "t.toml").unwrap_err();
        assert_eq!(e.line, Some(10), "{e}");
        assert!(e.message.contains("black-list"), "{e}");
        let dup = text.replace("black-list", "watch-list");
        let dup = format!(
            "{dup}\n[[party]]\nid = \"a\"\nname = \"B\"\nlist = \"watch-list\"\nadded = 2026-01-01\nsource = {{ instrument = \"x\", url = \"https://x\" }}\nconfidence = \"t\"\n"
        );
        let e = PartyList::parse(&dup, "t.toml").unwrap_err();
        assert_eq!(e.line, Some(15), "{e}");
        let unknown = text
            .replace("black-list", "watch-list")
            .replace("confidence", "confidance");
        let e = PartyList::parse(&unknown, "t.toml").unwrap_err();
        assert!(e.message.contains("confidance"), "{e}");
        assert_eq!(e.line, Some(13), "{e}");
    }
}
