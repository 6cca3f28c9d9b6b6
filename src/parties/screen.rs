//! Matching a name against the party list, through an index built once per
//! list: exact keys (hashed), distinctive words and character trigrams
//! (posting lists). Screening one name looks up its key, its words and its
//! trigrams; it never walks the list.
//!
//! A **listed** match: the name's key (see [`super::normalise`]) equals the
//! key of a name or alias of an entry in force on the date.
//!
//! A **possible** match (close, not equal), when one of these holds:
//!
//! - *spelling*: normalised Levenshtein similarity of the keys ≥ 0.85
//!   (Latin) or ≥ 0.75 (CJK), the shorter key at least 6 (Latin) or 3 (CJK)
//!   characters long, and the same digits in both. One typo in a 7-letter
//!   name is 0.857; two different 6-letter names share at most 0.5 by
//!   chance. Numbers are identifiers: `Customer 12` is not `Customer 13`.
//! - *words*: the name holds at least two of the entry's distinctive words
//!   and at least 60 % of them (`Huntington Ingalls` for `Huntington
//!   Ingalls Industries`: 2 of 2, `industries` being generic).
//! - *one word*: the entry has a single distinctive word, at least 5
//!   letters (3 CJK characters) long, and the name contains it (`Aerkomm
//!   Europe` for `Aerkomm Inc.`).
//!
//! Guards against false positives: a distinctive word is not in the
//! generic-word list below and not in more than 1 % of the list's entries
//! (and at least 25 of them); names shorter than 4 characters (2 CJK) are
//! matched exactly only; a name whose only words are generic never matches
//! on words.

use super::normalise::{Normalised, is_cjk, normalise};
use super::{Party, PartyList};
use jiff::civil::Date;
use rustc_hash::{FxHashMap, FxHashSet};

/// Words too common in company names to mean anything alone.
const GENERIC: &[&str] = &[
    "aero",
    "aerospace",
    "aviation",
    "america",
    "american",
    "and",
    "asia",
    "bank",
    "center",
    "centre",
    "china",
    "chinese",
    "customer",
    "defence",
    "defense",
    "development",
    "digital",
    "dynamics",
    "earth",
    "earths",
    "electric",
    "electronics",
    "energy",
    "engineering",
    "enterprise",
    "enterprises",
    "equipment",
    "europe",
    "european",
    "for",
    "forum",
    "general",
    "global",
    "group",
    "heavy",
    "holding",
    "holdings",
    "industrial",
    "industries",
    "industry",
    "institute",
    "international",
    "japan",
    "jet",
    "labs",
    "laboratory",
    "machinery",
    "magnet",
    "magnetic",
    "magnetics",
    "magnets",
    "management",
    "manufacturing",
    "marine",
    "materials",
    "metal",
    "metals",
    "motor",
    "motors",
    "national",
    "network",
    "networks",
    "of",
    "operations",
    "power",
    "products",
    "rare",
    "research",
    "science",
    "sciences",
    "security",
    "service",
    "services",
    "shipbuilding",
    "solutions",
    "studies",
    "system",
    "systems",
    "tech",
    "technical",
    "technologies",
    "technology",
    "the",
    "trade",
    "trading",
    "university",
    "usa",
    "world",
];

/// Posting lists longer than this are not followed (a word or trigram that
/// common selects nothing).
const MAX_WORD_POSTINGS: usize = 256;
const MAX_TRIGRAM_POSTINGS: usize = 64;

/// One indexed name of an entry.
#[derive(Debug)]
struct Name {
    party: u32,
    norm: Normalised,
    /// Distinctive words (see the module notes).
    distinctive: Vec<String>,
}

/// The list's index.
#[derive(Debug, Default)]
pub(crate) struct Index {
    names: Vec<Name>,
    exact: FxHashMap<String, Vec<u32>>,
    words: FxHashMap<String, Vec<u32>>,
    trigrams: FxHashMap<[char; 3], Vec<u32>>,
    generic: FxHashSet<String>,
}

fn trigrams(key: &str) -> impl Iterator<Item = [char; 3]> + '_ {
    let chars: Vec<char> = std::iter::once(' ')
        .chain(key.chars())
        .chain(std::iter::once(' '))
        .collect();
    (0..chars.len().saturating_sub(2))
        .map(move |i| [chars[i], chars[i + 1], chars[i + 2]])
        .collect::<Vec<_>>()
        .into_iter()
}

fn digits(key: &str) -> String {
    key.chars().filter(char::is_ascii_digit).collect()
}

impl Index {
    pub(crate) fn build(parties: &[Party]) -> Index {
        let mut names = Vec::new();
        for (i, p) in parties.iter().enumerate() {
            let mut seen = FxHashSet::default();
            for n in p.names() {
                let norm = normalise(n);
                if !norm.is_empty() && seen.insert(norm.key.clone()) {
                    names.push(Name {
                        party: i as u32,
                        norm,
                        distinctive: Vec::new(),
                    });
                }
            }
        }
        // Words in many entries are generic, whatever they are.
        let mut df: FxHashMap<&str, FxHashSet<u32>> = FxHashMap::default();
        for n in &names {
            for w in &n.norm.words {
                df.entry(w.as_str()).or_default().insert(n.party);
            }
        }
        let limit = (parties.len() / 100).max(25);
        let mut generic: FxHashSet<String> = GENERIC.iter().map(|s| s.to_string()).collect();
        generic.extend(
            df.iter()
                .filter(|(_, s)| s.len() > limit)
                .map(|(w, _)| w.to_string()),
        );
        let mut ix = Index {
            generic,
            ..Index::default()
        };
        for (k, mut n) in names.into_iter().enumerate() {
            let k = k as u32;
            n.distinctive = ix.distinctive(&n.norm);
            ix.exact.entry(n.norm.key.clone()).or_default().push(k);
            for w in &n.distinctive {
                let v = ix.words.entry(w.clone()).or_default();
                if v.last() != Some(&k) {
                    v.push(k);
                }
            }
            for t in trigrams(&n.norm.key) {
                let v = ix.trigrams.entry(t).or_default();
                if v.last() != Some(&k) {
                    v.push(k);
                }
            }
            ix.names.push(n);
        }
        ix
    }

    /// The words of a name that can identify it.
    fn distinctive(&self, n: &Normalised) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in &n.words {
            let cjk = w.chars().next().is_some_and(is_cjk);
            let long = if cjk {
                w.chars().count() >= 2
            } else {
                w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit())
            };
            if long && !self.generic.contains(w) && !out.contains(w) {
                out.push(w.clone());
            }
        }
        out
    }
}

/// How a name matched an entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Match {
    /// The same key as one of the entry's names.
    Listed,
    /// Close: the words shared (distinctive words of the entry's name), how
    /// many distinctive words that name has, and the spelling similarity.
    Possible {
        shared: Vec<String>,
        of: usize,
        similarity: f64,
    },
}

/// A match of a screened name with an entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Index of the entry in the list.
    pub party: usize,
    /// The entry's name that matched (as the list writes it).
    pub matched: String,
    pub how: Match,
}

impl Finding {
    /// Why a possible match matched, and how close it is, for messages.
    pub fn why(&self) -> String {
        match &self.how {
            Match::Listed => "the same name once case, width, punctuation, spacing, diacritics and legal form are set aside".into(),
            Match::Possible {
                shared,
                of,
                similarity,
            } => {
                let words = if shared.is_empty() {
                    String::new()
                } else {
                    format!(
                        "shares {} of its {of} distinctive word{} ({}); ",
                        shared.len(),
                        if *of == 1 { "" } else { "s" },
                        shared.join(", ")
                    )
                };
                format!(
                    "{words}spelling similarity {:.0} % (normalised names compared character by character)",
                    similarity * 100.0
                )
            }
        }
    }
}

impl PartyList {
    /// Screens one name on `date`: the entries in force it names exactly,
    /// else those it is close to (best first, at most three). Independent of
    /// the order of the list.
    pub fn screen(&self, name: &str, date: Date) -> Vec<Finding> {
        self.screen_counted(name, date).0
    }

    /// [`PartyList::screen`] with the work it did: posting-list entries
    /// visited and candidates scored (for complexity tests: bounded by the
    /// posting caps, not by the length of the list).
    pub fn screen_counted(&self, name: &str, date: Date) -> (Vec<Finding>, usize) {
        let mut work = 0usize;
        let n = normalise(name);
        if n.is_empty() {
            return (Vec::new(), work);
        }
        let ix = &self.index;
        let mut out: Vec<Finding> = Vec::new();
        if let Some(ks) = ix.exact.get(&n.key) {
            work += ks.len();
            for &k in ks {
                let nm = &ix.names[k as usize];
                let party = nm.party as usize;
                if self.parties[party].in_force(date) && !out.iter().any(|f| f.party == party) {
                    out.push(Finding {
                        party,
                        matched: self.name_text(nm),
                        how: Match::Listed,
                    });
                }
            }
        }
        if !out.is_empty() {
            out.sort_by(|a, b| self.parties[a.party].id.cmp(&self.parties[b.party].id));
            return (out, work);
        }
        let cjk = n.is_cjk();
        if n.len() < if cjk { 2 } else { 4 } {
            return (out, work);
        }
        let mine = ix.distinctive(&n);
        // Candidates: names sharing a distinctive word, or many trigrams.
        let mut cands: FxHashSet<u32> = FxHashSet::default();
        for w in &mine {
            if let Some(v) = ix.words.get(w).filter(|v| v.len() <= MAX_WORD_POSTINGS) {
                work += v.len();
                cands.extend(v.iter().copied());
            }
        }
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        let mut informative = 0u32;
        let mut seen = FxHashSet::default();
        for t in trigrams(&n.key) {
            if !seen.insert(t) {
                continue;
            }
            if let Some(v) = ix
                .trigrams
                .get(&t)
                .filter(|v| v.len() <= MAX_TRIGRAM_POSTINGS)
            {
                informative += 1;
                work += v.len();
                for &k in v {
                    *counts.entry(k).or_default() += 1;
                }
            }
        }
        let need = (informative / 2).max(2);
        cands.extend(
            counts
                .into_iter()
                .filter(|&(_, c)| c >= need)
                .map(|(k, _)| k),
        );
        let my_digits = digits(&n.key);
        let mut best: FxHashMap<usize, Finding> = FxHashMap::default();
        let mut score_of: FxHashMap<usize, f64> = FxHashMap::default();
        work += cands.len();
        for k in cands {
            let nm = &ix.names[k as usize];
            let party = nm.party as usize;
            if !self.parties[party].in_force(date) {
                continue;
            }
            let shared: Vec<String> = nm
                .distinctive
                .iter()
                .filter(|w| mine.contains(w))
                .cloned()
                .collect();
            let of = nm.distinctive.len();
            let similarity = strsim::normalized_levenshtein(&n.key, &nm.norm.key);
            let both_cjk = cjk && nm.norm.is_cjk();
            let shorter = n.len().min(nm.norm.len());
            let spelling = if both_cjk {
                similarity >= 0.75 && shorter >= 3
            } else {
                similarity >= 0.85 && shorter >= 6
            } && my_digits == digits(&nm.norm.key);
            let words = shared.len() >= 2 && shared.len() as f64 >= 0.6 * of as f64;
            let one_word = of == 1
                && shared.len() == 1
                && shared[0].chars().count()
                    >= if shared[0].chars().next().is_some_and(is_cjk) {
                        3
                    } else {
                        5
                    };
            if !(spelling || words || one_word) {
                continue;
            }
            let score = similarity.max(shared.len() as f64 / of.max(1) as f64);
            // The best of an entry's names, whatever order they were indexed in.
            let better = match (score_of.get(&party), best.get(&party)) {
                (
                    Some(s),
                    Some(Finding {
                        how:
                            Match::Possible {
                                similarity: sim, ..
                            },
                        matched,
                        ..
                    }),
                ) => {
                    (score, similarity)
                        .partial_cmp(&(*s, *sim))
                        .is_some_and(|o| o.is_gt())
                        || (score == *s
                            && similarity == *sim
                            && nm.norm.key < normalise(matched).key)
                }
                _ => true,
            };
            if better {
                score_of.insert(party, score);
                best.insert(
                    party,
                    Finding {
                        party,
                        matched: self.name_text(nm),
                        how: Match::Possible {
                            shared,
                            of,
                            similarity,
                        },
                    },
                );
            }
        }
        let mut found: Vec<(f64, Finding)> = best
            .into_iter()
            .map(|(p, f)| (score_of.get(&p).copied().unwrap_or(0.0), f))
            .collect();
        found.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.parties[a.1.party].id.cmp(&self.parties[b.1.party].id))
        });
        (found.into_iter().take(3).map(|(_, f)| f).collect(), work)
    }

    /// The entry's name (as written in the list) behind an index name.
    fn name_text(&self, nm: &Name) -> String {
        let p = &self.parties[nm.party as usize];
        p.names()
            .find(|x| normalise(x).key == nm.norm.key)
            .unwrap_or(&p.name)
            .to_string()
    }
}

/// Screens names with a memo: a catalogue names the same end users again
/// and again, and each distinct name on each date is looked up once.
pub struct Screener<'l> {
    pub list: &'l PartyList,
    /// Findings per date, then per name as written.
    memo: FxHashMap<Date, FxHashMap<String, std::rc::Rc<Vec<Finding>>>>,
}

impl<'l> Screener<'l> {
    pub fn new(list: &'l PartyList) -> Self {
        Screener {
            list,
            memo: FxHashMap::default(),
        }
    }
    pub fn screen(&mut self, name: &str, date: Date) -> std::rc::Rc<Vec<Finding>> {
        let by_name = self.memo.entry(date).or_default();
        if let Some(f) = by_name.get(name) {
            return f.clone();
        }
        let f = std::rc::Rc::new(self.list.screen(name, date));
        by_name.insert(name.to_owned(), f.clone());
        f
    }
}
