//! The jurisdiction's vocabulary, read from the rule pack: the words a
//! catalogue may use for a product's form, an export's purpose and transfer
//! kind and a licence's type, the grammar of control codes (how codes look
//! and how one covers another), and the regulator's name in messages.
//!
//! A catalogue stores these words as written ([`Name`]); whether a word is
//! known, and what it means, is the pack's answer. The engine never names a
//! form: its structural rules ask for a form's [`Category`] (material, part,
//! downstream good, technology) and [`Role`]s (a magnet, classified by stated
//! facts...), which the pack declares. Format: docs/rule-pack.md
//! ("Vocabulary").

use serde::Deserialize;
use std::fmt;

/// A word of the vocabulary as written in a catalogue (a form, purpose,
/// transfer kind or licence type). Compared by its text; the pack says
/// whether it is known. It carries a hash of its text, so two different
/// words are told apart by one integer comparison (the engine compares a
/// product's form with every item's forms).
#[derive(Clone, Default)]
pub struct Name {
    text: Box<str>,
    tag: u64,
}

impl Name {
    pub fn new(s: &str) -> Self {
        use std::hash::Hasher;
        let mut h = rustc_hash::FxHasher::default();
        h.write(s.as_bytes());
        Name {
            text: s.into(),
            tag: h.finish(),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Name {
    fn eq(&self, o: &Self) -> bool {
        self.tag == o.tag && self.text == o.text
    }
}

impl Eq for Name {}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.text.hash(h)
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Name {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.text.cmp(&o.text)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, o: &str) -> bool {
        &*self.text == o
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, o: &&str) -> bool {
        &*self.text == *o
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name::new(s)
    }
}

/// What kind of thing a form is: how the engine classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Classified by its composition (metals, alloys, oxides, magnets...).
    Material,
    /// A part or assembly: classified by what it contains (`components`).
    Part,
    /// A downstream good: classified by what it contains, like a part.
    Good,
    /// Technology or its carrier: classified by the facts it states.
    Technology,
}

impl Category {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "material" => Category::Material,
            "part" => Category::Part,
            "good" => Category::Good,
            "technology" => Category::Technology,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Material => "material",
            Category::Part => "part",
            Category::Good => "good",
            Category::Technology => "technology",
        }
    }
}

/// A role a form plays in the engine's structural rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A magnet (or magnet powder): an assembly whose magnets are not listed
    /// may hold one of these that an exclusion does not reach.
    Magnet,
    /// Classified by the facts it states (`cas`, `collectors`,
    /// `technology_area`): without them nothing can be ruled out; without a
    /// composition, by those facts only.
    ByFacts,
    /// Judged under the home rules wherever it is exported from (technology
    /// provided abroad by the home country's persons).
    HomeRulesAnywhere,
}

impl Role {
    pub const ALL: &'static [(&'static str, Role)] = &[
        ("magnet", Role::Magnet),
        ("by-facts", Role::ByFacts),
        ("home-rules-anywhere", Role::HomeRulesAnywhere),
    ];
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, r)| *r)
    }
}

/// A form the pack knows.
#[derive(Clone, Debug, PartialEq)]
pub struct FormDef {
    pub id: Name,
    pub category: Category,
    pub roles: Vec<Role>,
    pub description: String,
}

/// A purpose or transfer kind the pack knows.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub id: Name,
    pub description: String,
}

/// How control codes look, and how one covers another.
#[derive(Clone, Debug)]
pub struct CodeGrammar {
    pub pattern: regex::Regex,
    /// A code of this grammar, for messages.
    pub example: String,
    /// The shape in words, for messages.
    pub shape: String,
    /// A code covers the codes that continue it after this separator
    /// (`1C905` covers `1C905.a.4`).
    pub separator: String,
}

impl PartialEq for CodeGrammar {
    fn eq(&self, o: &Self) -> bool {
        self.pattern.as_str() == o.pattern.as_str()
            && self.example == o.example
            && self.shape == o.shape
            && self.separator == o.separator
    }
}

impl CodeGrammar {
    /// Whether `s` is a control code of this grammar.
    pub fn is_code(&self, s: &str) -> bool {
        self.pattern.is_match(s)
    }
    /// Whether `cover` covers `code`: itself or a sub-item of it.
    pub fn covers(&self, cover: &str, code: &str) -> bool {
        code == cover
            || (!self.separator.is_empty()
                && code.len() > cover.len()
                && code.starts_with(cover)
                && code[cover.len()..].starts_with(self.separator.as_str()))
    }
    /// The message for a value that is not a code.
    pub fn not_a_code(&self, value: &str) -> String {
        format!(
            "`{value}` is not a control code: codes look like \"{}\" ({})",
            self.example, self.shape
        )
    }
}

/// The vocabulary of one pack.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocabulary {
    /// The licensing authority, as messages name it ("MOFCOM").
    pub regulator: String,
    /// What an individual licence application needs, in words (messages
    /// asking for end-use evidence list it); None: the pack does not say.
    pub application_needs: Option<String>,
    /// The working days the regulator has to decide on an application;
    /// None: the pack does not say.
    pub decision_working_days: Option<u32>,
    pub codes: CodeGrammar,
    pub forms: Vec<FormDef>,
    pub purposes: Vec<Term>,
    pub transfers: Vec<Term>,
    /// The transfer kind of a product that states none.
    pub default_transfer: Name,
    /// Instruments cited as the help of classification, exclusion and
    /// licence diagnostics (SARIF `helpUri`): indices into the pack's
    /// instruments.
    pub classification_instrument: Option<usize>,
    pub exclusion_instrument: Option<usize>,
    pub licence_instrument: Option<usize>,
}

impl Vocabulary {
    pub fn form(&self, name: &str) -> Option<&FormDef> {
        self.forms.iter().find(|f| f.id == name)
    }
    /// A filter bit for form `name`: two forms with different bits differ
    /// (bits repeat after 128 forms, so a set bit still needs the names
    /// compared). 0 for a word that is not a form of the pack.
    pub fn bit(&self, name: &Name) -> u128 {
        self.forms
            .iter()
            .position(|f| f.id == *name)
            .map_or(0, |i| 1u128 << (i % 128))
    }
    /// The filter bits of a list of forms.
    pub fn mask(&self, names: &[Name]) -> u128 {
        names.iter().fold(0, |m, n| m | self.bit(n))
    }
    /// The form a word names, by its tag first (the engine's hot path).
    pub fn form_of(&self, name: &Name) -> Option<&FormDef> {
        self.forms.iter().find(|f| f.id == *name)
    }
    pub fn purpose(&self, name: &str) -> Option<&Term> {
        self.purposes.iter().find(|f| f.id == name)
    }
    pub fn transfer(&self, name: &str) -> Option<&Term> {
        self.transfers.iter().find(|f| f.id == name)
    }
    /// Whether form `name` plays `role` (an unknown form plays none).
    pub fn has_role(&self, name: &Name, role: Role) -> bool {
        self.form_of(name).is_some_and(|f| f.roles.contains(&role))
    }
    /// The category of form `name` (`None`: not a form of this pack).
    pub fn category(&self, name: &Name) -> Option<Category> {
        self.form_of(name).map(|f| f.category)
    }
    pub fn form_names(&self) -> Vec<&str> {
        self.forms.iter().map(|f| f.id.as_str()).collect()
    }
    pub fn purpose_names(&self) -> Vec<&str> {
        self.purposes.iter().map(|f| f.id.as_str()).collect()
    }
    pub fn transfer_names(&self) -> Vec<&str> {
        self.transfers.iter().map(|f| f.id.as_str()).collect()
    }
}

/// "a" or "an" before a noun phrase (by its first letter: the vocabulary's
/// nouns are English words written by the pack).
pub fn article(noun: &str) -> &'static str {
    match noun.chars().next() {
        Some(c) if "aeiouAEIOU".contains(c) => "an",
        _ => "a",
    }
}

impl Vocabulary {
    /// "MOFCOM decides within 45 working days", or None when the pack does not say.
    pub fn decision_period(&self) -> Option<String> {
        self.decision_working_days
            .map(|n| format!("{} decides within {n} working days", self.regulator))
    }
}

/// "x, y or z".
pub fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `[vocabulary]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVocabulary {
    pub regulator: String,
    pub application_needs: Option<String>,
    pub decision_working_days: Option<u32>,
    pub code_pattern: String,
    pub code_example: String,
    pub code_shape: String,
    #[serde(default = "dot")]
    pub code_separator: String,
    pub default_transfer: String,
    pub classification_instrument: Option<String>,
    pub exclusion_instrument: Option<String>,
    pub licence_instrument: Option<String>,
}

fn dot() -> String {
    ".".into()
}

/// `[[form]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawForm {
    pub id: String,
    pub category: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub description: String,
}

/// `[[purpose]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTerm {
    pub id: String,
    pub description: String,
}

/// Validates the vocabulary; `find_inst` resolves an instrument id. Errors
/// are messages (the caller adds the file and line).
pub(crate) fn build(
    v: &RawVocabulary,
    forms: &[toml::Spanned<RawForm>],
    purposes: &[RawTerm],
    transfers: Vec<Term>,
    find_inst: &dyn Fn(&str) -> Result<usize, String>,
) -> Result<Vocabulary, (Option<std::ops::Range<usize>>, String)> {
    let pattern = regex::Regex::new(&v.code_pattern).map_err(|e| {
        (
            None,
            format!("vocabulary.code_pattern is not a regular expression: {e}"),
        )
    })?;
    let codes = CodeGrammar {
        pattern,
        example: v.code_example.clone(),
        shape: v.code_shape.clone(),
        separator: v.code_separator.clone(),
    };
    if !codes.is_code(&codes.example) {
        return Err((
            None,
            format!(
                "vocabulary.code_example `{}` does not match code_pattern",
                codes.example
            ),
        ));
    }
    let mut out_forms: Vec<FormDef> = Vec::new();
    for rf in forms {
        let f = rf.get_ref();
        let at = Some(rf.span());
        if f.id.is_empty() || out_forms.iter().any(|x| x.id == f.id.as_str()) {
            return Err((at, format!("form `{}` is empty or defined twice", f.id)));
        }
        let category = Category::parse(&f.category).ok_or_else(|| {
            (
                at.clone(),
                format!(
                    "form {}: category must be material, part, good or technology, not `{}`",
                    f.id, f.category
                ),
            )
        })?;
        let roles = f
            .roles
            .iter()
            .map(|r| {
                Role::parse(r).ok_or_else(|| {
                    (
                        at.clone(),
                        format!(
                            "form {}: unknown role `{r}`; roles: {}",
                            f.id,
                            Role::ALL
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out_forms.push(FormDef {
            id: Name::new(&f.id),
            category,
            roles,
            description: f.description.clone(),
        });
    }
    if out_forms.is_empty() {
        return Err((None, "the pack defines no [[form]]".into()));
    }
    let mut out_purposes: Vec<Term> = Vec::new();
    for p in purposes {
        if p.id.is_empty() || out_purposes.iter().any(|x| x.id == p.id.as_str()) {
            return Err((
                None,
                format!("purpose `{}` is empty or defined twice", p.id),
            ));
        }
        out_purposes.push(Term {
            id: Name::new(&p.id),
            description: p.description.clone(),
        });
    }
    if !transfers
        .iter()
        .any(|t| t.id == v.default_transfer.as_str())
    {
        return Err((
            None,
            format!(
                "vocabulary.default_transfer `{}` is not a [[transfer]]",
                v.default_transfer
            ),
        ));
    }
    let inst =
        |o: &Option<String>| -> Result<Option<usize>, (Option<std::ops::Range<usize>>, String)> {
            o.as_deref()
                .map(|id| find_inst(id).map_err(|m| (None, format!("vocabulary: {m}"))))
                .transpose()
        };
    Ok(Vocabulary {
        regulator: v.regulator.clone(),
        application_needs: v.application_needs.clone(),
        decision_working_days: v.decision_working_days,
        codes,
        forms: out_forms,
        purposes: out_purposes,
        default_transfer: Name::new(&v.default_transfer),
        transfers,
        classification_instrument: inst(&v.classification_instrument)?,
        exclusion_instrument: inst(&v.exclusion_instrument)?,
        licence_instrument: inst(&v.licence_instrument)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grammar(p: &str) -> CodeGrammar {
        CodeGrammar {
            pattern: regex::Regex::new(p).unwrap(),
            example: "1C905.a.4".into(),
            shape: "".into(),
            separator: ".".into(),
        }
    }

    #[test]
    fn a_code_covers_itself_and_what_continues_it_after_the_separator() {
        let g = grammar("^[0-9][A-E][0-9]{3}(\\.[a-z0-9]+)*$");
        assert!(g.covers("1C905", "1C905.a.4"));
        assert!(g.covers("1C905.a", "1C905.a.4"));
        assert!(g.covers("1C905.a.4", "1C905.a.4"));
        assert!(!g.covers("1C90", "1C905.a.4"));
        assert!(!g.covers("1C905.a.4", "1C905.a"));
        assert!(!g.covers("1C905.a", "1C905.ab"));
        let slash = CodeGrammar {
            separator: "/".into(),
            ..g.clone()
        };
        assert!(slash.covers("X1", "X1/2"));
        assert!(!slash.covers("X1", "X1.2"));
    }

    #[test]
    fn articles_and_lists_read_as_english() {
        assert_eq!(article("individual licence"), "an");
        assert_eq!(article("general licence"), "a");
        assert_eq!(or_list(&["a".into(), "b".into(), "c".into()]), "a, b or c");
        assert_eq!(or_list(&["a".into()]), "a");
    }
}
