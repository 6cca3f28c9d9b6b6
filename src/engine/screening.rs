//! The screening pass (contract §4b): every party a catalogue names — a
//! product's `end_user` and `importer`, a licence's `end_users` — against
//! the party list on the evaluation date, with the consequence of each list
//! checked against the licence the export uses. A reviewed non-match
//! (`[[screening]]`, complete) silences `possible-listed-party` for its
//! (party, entry) pair; nothing silences `listed-party`.
//!
//! Adding another kind of party (a shipment's `end_user`/`importer`) is one
//! more call of [`screen_party`] with its [`Role`] and the licence it uses.

use crate::catalogue::{Catalogue, Field, Licence};
use crate::diagnostic::{Code, Diagnostic, SourceRef};
use crate::parties::{Finding, ListKind, Match, Screener, normalise};
use crate::rules::{LicenceRule, RulePack};
use jiff::civil::Date;

/// Which party of an export a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    EndUser,
    Importer,
    /// One of a licence's `end_users`.
    LicenceEndUser,
}

impl Role {
    fn what(self) -> &'static str {
        match self {
            Role::EndUser => "end user",
            Role::Importer => "importer",
            Role::LicenceEndUser => "licence end user",
        }
    }
}

/// The licence an export uses, as far as the workspace knows it.
#[derive(Clone, Copy, Debug)]
pub struct LicenceUsed<'a> {
    pub id: Option<&'a str>,
    /// What its type allows, from the pack of the file that defines it.
    pub kind: Option<&'a LicenceRule>,
}

/// Whether a complete `[[screening]]` record of the file clears `party`
/// (by normalised name) against `entry`.
fn reviewed(cat: &Catalogue, party: &str, entry: &str) -> bool {
    let key = normalise(party).key;
    cat.screenings.iter().any(|s| {
        s.complete()
            && s.entry.as_ref().is_some_and(|e| e.value == entry)
            && s.party
                .as_ref()
                .is_some_and(|p| normalise(&p.value).key == key)
    })
}

/// A party name of an export: which party, where, and the licence used.
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    pub role: Role,
    pub name: &'a Field<String>,
    pub licence: LicenceUsed<'a>,
    /// The product the export is of.
    pub sku: Option<&'a str>,
}

/// Screens one party name and appends its diagnostics.
pub fn screen_party(
    screener: &mut Screener,
    cat: &Catalogue,
    named: Named,
    date: Date,
    out: &mut Vec<Diagnostic>,
) {
    let Named {
        role,
        name,
        licence,
        sku,
    } = named;
    let findings = screener.screen(&name.value, date);
    for f in findings.iter() {
        let p = &screener.list.parties[f.party];
        if matches!(f.how, Match::Possible { .. }) && reviewed(cat, &name.value, &p.id) {
            continue;
        }
        out.push(diagnostic(screener, f, role, name, date, licence).with_sku(sku));
    }
}

fn diagnostic(
    screener: &Screener,
    f: &Finding,
    role: Role,
    name: &Field<String>,
    date: Date,
    licence: LicenceUsed,
) -> Diagnostic {
    let list = screener.list;
    let p = &list.parties[f.party];
    let listed = format!(
        "{} entry `{}` {} ({}, added {}{}; list {} {})",
        p.list.title(),
        p.id,
        p.display(),
        p.source.instrument,
        p.added,
        p.removed
            .map(|r| format!(", removed {r}"))
            .unwrap_or_default(),
        list.id,
        list.version,
    );
    let source = Some(SourceRef {
        instrument: p.source.instrument.as_str().into(),
        article: "".into(),
        url: p.source.url.as_str().into(),
    });
    let licence_part = licence_consequence(p.list, role, licence);
    match &f.how {
        Match::Listed => {
            let todo = match p.list {
                ListKind::ControlList => "Do not export dual-use items to it; if the export is truly necessary, apply to MOFCOM first",
                ListKind::WatchList => "Use an individual licence applied for with the risk assessment and the undertaking, or do not export",
                ListKind::UnreliableEntityList => "Do not export to it before checking the measures against this transaction",
            };
            Diagnostic::new(
                Code::ListedParty,
                name.span,
                format!(
                    "{} \"{}\" is listed on {date}: {listed}. Consequence: {}.{licence_part} {todo}",
                    role.what(),
                    name.value,
                    p.consequence(),
                ),
            )
            .with_source(source)
        }
        Match::Possible { .. } => Diagnostic::new(
            Code::PossibleListedParty,
            name.span,
            format!(
                "{} \"{}\" is close to \"{}\", {listed}: {}. If it is that party: {}.{licence_part} If it is not, record the review in a screening record: `party`, `entry` \"{}\", `reason`, `by` and `on`",
                role.what(),
                name.value,
                f.matched,
                f.why(),
                p.consequence(),
                p.id,
            ),
        )
        .with_source(source)
        .with_replacements(vec![name.value.clone(), p.id.clone()]),
    }
}

/// What the list means for the licence this export uses.
fn licence_consequence(list: ListKind, role: Role, l: LicenceUsed) -> String {
    let named = |id: Option<&str>| {
        id.map(|i| format!("licence `{i}`"))
            .unwrap_or("the licence".into())
    };
    match (list, l.kind) {
        // A type for several end users or for certain purposes only (the
        // general licence, the export certificate).
        (ListKind::WatchList, Some(r)) if !r.single_end_user() => {
            let on = if role == Role::LicenceEndUser {
                "it names a watch-list party"
            } else {
                "this export uses it"
            };
            format!(
                " {} is {} and {on}: a watch-list party cannot be served under a general licence or an export certificate.",
                named(l.id),
                r.a_name(),
            )
        }
        (ListKind::WatchList, Some(r)) => format!(
            " {} is {}: check it was granted on an application with the risk-assessment report and the written undertaking.",
            named(l.id),
            r.a_name(),
        ),
        (ListKind::WatchList, None) if role != Role::LicenceEndUser => {
            " No licence (of a known type) is named: only an individual licence can serve it."
                .into()
        }
        (ListKind::ControlList, Some(_)) => format!(
            " {} does not make the export lawful unless MOFCOM granted it on a special application for this party.",
            named(l.id)
        ),
        _ => String::new(),
    }
}

/// Screens a licence's `end_users` on `date`.
pub fn screen_licence(
    screener: &mut Screener,
    pack: &RulePack,
    cat: &Catalogue,
    l: &Licence,
    date: Date,
    out: &mut Vec<Diagnostic>,
) {
    let Some(users) = &l.end_users else { return };
    let used = LicenceUsed {
        id: l.id_str(),
        kind: l
            .kind
            .as_ref()
            .and_then(|k| pack.licence_rule(k.value.as_str())),
    };
    for u in &users.value {
        let named = Named {
            role: Role::LicenceEndUser,
            name: u,
            licence: used,
            sku: None,
        };
        screen_party(screener, cat, named, date, out);
    }
}
