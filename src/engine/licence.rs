//! Licence rules (Regulations, Decree 792; docs/format.md §3): the licence's own
//! validity, and whether the licence a product names covers its export.

use super::classify::{Classification, Verdict};
use crate::catalogue::parse::{enum_message, ordered_choices};
use crate::catalogue::{Licence, Product, Purpose};
use crate::diagnostic::{Code, Diagnostic, FileIndex, FileRef, Related};
use crate::rules::{EndUserRule, LicenceRule, RulePack};
use jiff::ToSpan;
use jiff::civil::Date;

/// The last day a licence of this type may run to, from its issue date.
pub fn latest_expiry(issued: Date, years: u32) -> Option<Date> {
    issued.checked_add((years as i64).years()).ok()
}

/// Findings on a licence table itself.
pub fn licence_diagnostics(pack: &RulePack, l: &Licence, out: &mut Vec<Diagnostic>) {
    vocabulary_diagnostics(pack, l, out);
    let Some(kind) = l.kind.as_ref().map(|k| &k.value) else {
        return;
    };
    let Some(rule) = pack.licence_rule(kind) else {
        return;
    };
    let src = Some(pack.source(rule.instrument, &rule.article));
    if let (Some(i), Some(e), Some(years)) = (&l.issued, &l.expires, rule.max_validity_years) {
        if let Some(max) = latest_expiry(i.value, years) {
            if e.value > max {
                let head = format!(
                    "{} runs {} to {}, longer than the {years} year{} its type allows (latest expiry {max}).",
                    rule.name,
                    i.value,
                    e.value,
                    if years == 1 { "" } else { "s" }
                );
                out.push(
                    Diagnostic::new(
                        Code::LicenceValidityTooLong,
                        e.span,
                        format!("{head} Check the dates against the licence document"),
                    )
                    .with_explanation(head.len(), pack.explanations().licence_rule(pack, rule))
                    .with_source(src.clone()),
                );
            }
        }
    }
    let end_users = l.end_users.as_ref().map(|f| f.value.len());
    match (rule.end_users, end_users) {
        (EndUserRule::ExactlyOne, Some(n)) if n > 1 => {
            let head = format!(
                "{} names {n} end users, but {} covers exactly one.",
                rule.name,
                rule.a_name()
            );
            out.push(
                Diagnostic::new(
                    Code::IndividualLicenceMultipleEndUsers,
                    l.end_users.as_ref().map_or(l.header, |f| f.span),
                    format!(
                        "{head} Use {} or one {} per end user",
                        several_end_users(pack),
                        rule.name
                    ),
                )
                .with_explanation(head.len(), pack.explanations().licence_rule(pack, rule))
                .with_source(src.clone()),
            )
        }
        (EndUserRule::ExactlyOne, Some(0) | None) => out.push(
            Diagnostic::new(Code::MissingField, l.end_users.as_ref().map_or(l.header, |f| f.span), format!("{} names no end user: {} covers exactly one end user; set the licence's `end_users` field to the one end user's name", rule.name, rule.a_name()))
                .with_source(src.clone()),
        ),
        (EndUserRule::OneOrMore, Some(0)) => out.push(
            Diagnostic::new(Code::InvalidValue, l.end_users.as_ref().map_or(l.header, |f| f.span), format!("{} with an empty `end_users`: name at least one end user, or remove the field if it is not limited", rule.name))
                .with_source(src.clone()),
        ),
        _ => {}
    }
    if let (Some(allowed), Some(purposes)) = (&rule.purposes, &l.purposes) {
        // A word the pack does not know is `invalid-value` already.
        for p in purposes
            .value
            .iter()
            .filter(|p| pack.vocab.purpose(&p.value).is_some())
        {
            if !allowed.contains(&p.value) {
                let m = format!(
                    "{}s are used mainly for {}, not `{}`; no source forbids another purpose, but check that the registration covers it.",
                    rule.name,
                    names(allowed),
                    p.value,
                );
                // The explanation goes at the end of this message, as it is now.
                let end = m.len();
                out.push(
                    Diagnostic::new(Code::CertificatePurposeUnusual, p.span, m)
                        .with_explanation(end, pack.explanations().licence_rule(pack, rule))
                        .with_source(src.clone()),
                );
            }
        }
    }
}

fn names(ps: &[Purpose]) -> String {
    ps.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}

/// "a general licence": the pack's first type for one or more end users
/// (any other type when it has none).
fn several_end_users(pack: &RulePack) -> String {
    pack.licence_rules
        .iter()
        .find(|r| r.is_general())
        .or_else(|| pack.licence_rules.iter().find(|r| !r.single_end_user()))
        .map_or_else(|| "another licence".into(), |r| r.a_name())
}

/// `missing-licence`'s explanation, one copy per pack: ": every export of
/// a controlled item, whether trade, gift, …, needs an individual licence,
/// a general licence or an export certificate".
pub fn every_export_needs(pack: &RulePack) -> crate::diagnostic::Explanation {
    pack.explanations().every_export_needs.clone()
}

/// Why diagnostics of `code` ask what they ask under `pack` on `date`, with
/// the source of each reason: the explanations their short messages leave
/// out (the editor shows them in the hover; `check` prints them in the
/// message; `explain CODE` lists them). Empty for a code without one.
pub fn explanations(
    pack: &RulePack,
    code: Code,
    date: Date,
) -> Vec<(String, Option<crate::diagnostic::SourceRef>)> {
    let sentence = |t: crate::diagnostic::Explanation| crate::diagnostic::sentence(&t).to_string();
    let rule = |r: &LicenceRule| {
        (
            format!("{}: {}", r.name, r.explanation),
            Some(pack.source(r.instrument, &r.article)),
        )
    };
    match code {
        Code::MissingLicence => vec![(
            sentence(every_export_needs(pack)),
            Some(pack.transfer_sourceref()),
        )],
        Code::MissingEndUseEvidence => vec![(
            sentence(super::exports::application_needs(pack)),
            Some(pack.transfer_sourceref()),
        )],
        Code::LicenceValidityTooLong => pack
            .licence_rules
            .iter()
            .filter(|r| r.max_validity_years.is_some())
            .map(rule)
            .collect(),
        Code::IndividualLicenceMultipleEndUsers => pack
            .licence_rules
            .iter()
            .filter(|r| r.end_users == EndUserRule::ExactlyOne)
            .map(rule)
            .collect(),
        Code::CertificatePurposeUnusual => pack
            .licence_rules
            .iter()
            .filter(|r| r.purposes.is_some())
            .map(rule)
            .collect(),
        Code::UnconfirmedStatus => (0..pack.instruments.len())
            .filter_map(|i| {
                let status = pack.instruments[i].status(date);
                let text = pack.assumption_text(i, status)?;
                let by = match status {
                    crate::rules::Status::Unconfirmed { by, .. } => by,
                    _ => i,
                };
                Some((
                    text,
                    Some(pack.source(by, &std::sync::Arc::from("scheduled end of the suspension"))),
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// "an individual licence, a general licence or an export certificate".
/// A vocabulary word that is not one of the pack's: `invalid-value` at the
/// word, with the pack's words as replacements.
pub fn unknown_word(
    key: &str,
    f: &crate::catalogue::Field<crate::vocab::Name>,
    names: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidValue,
        f.span,
        enum_message(key, &f.value, names),
    )
    .with_string_replacements(ordered_choices(&f.value, names))
}

/// The licence's words checked against the pack: its type, purposes and
/// the control codes it lists.
fn vocabulary_diagnostics(pack: &RulePack, l: &Licence, out: &mut Vec<Diagnostic>) {
    if let Some(k) = &l.kind {
        if pack.licence_rule(&k.value).is_none() {
            out.push(unknown_word("type", k, &pack.licence_type_names()));
        }
    }
    if let Some(ps) = &l.purposes {
        for p in &ps.value {
            if pack.vocab.purpose(&p.value).is_none() {
                out.push(unknown_word("purposes", p, &pack.vocab.purpose_names()));
            }
        }
    }
    if let Some(items) = &l.items {
        for i in &items.value {
            if !pack.vocab.codes.is_code(&i.value) {
                out.push(Diagnostic::new(
                    Code::InvalidValue,
                    i.span,
                    pack.vocab.codes.not_a_code(&i.value),
                ));
            }
        }
    }
}

/// What the licence checks need of the files analysed together: a licence
/// by id (with the index of the file defining it) and the nearest known id.
/// The workspace implements it; the checks know nothing else of it.
pub trait LicenceLookup {
    fn licence(&self, id: &str) -> Option<(usize, &Licence)>;
    fn suggest_licence(&self, id: &str) -> Option<&str>;
}

/// Findings on the licence a product uses (or lacks).
pub fn product_licence_diagnostics(
    ws: &impl LicenceLookup,
    pack: &RulePack,
    p: &Product,
    date: Date,
    c: &Classification,
    out: &mut Vec<Diagnostic>,
) {
    let sku = p.sku_str();
    let transfer = p
        .transfer
        .as_ref()
        .filter(|t| pack.vocab.transfer(&t.value).is_some())
        .map_or(pack.vocab.default_transfer.as_str(), |t| t.value.as_str());
    let Some(lref) = &p.licence else {
        if c.verdict == Verdict::Controlled {
            let head = format!(
                "controlled item ({}) exported ({transfer}) without a licence",
                c.codes_text()
            );
            out.push(
                Diagnostic::new(
                    Code::MissingLicence,
                    p.header,
                    format!("{head}. Set its `licence` field to the id of one"),
                )
                .with_explanation(head.len(), every_export_needs(pack))
                .with_sku(sku)
                .with_source(Some(pack.transfer_sourceref())),
            );
        }
        return;
    };
    let Some((lf, l)) = ws.licence(&lref.value) else {
        let near = ws.suggest_licence(&lref.value);
        let msg = match near {
            Some(n) => format!(
                "licence `{}` is not defined in the workspace: did you mean `{n}`?",
                lref.value
            ),
            None => format!(
                "licence `{}` is not defined in the workspace: add a licence record with this `id` (in any catalogue file of the workspace) or fix the id",
                lref.value
            ),
        };
        out.push(
            Diagnostic::new(Code::UnknownLicence, lref.span, msg)
                .with_sku(sku)
                .with_string_replacements(near.map(|n| vec![n.to_string()]).unwrap_or_default()),
        );
        return;
    };
    let related = || Related {
        file: FileRef::Index(FileIndex(lf)),
        span: l.id.as_ref().map_or(l.header, |f| f.span),
        message: format!("licence `{}`", lref.value),
    };
    if matches!(c.verdict, Verdict::NotControlled | Verdict::Excluded) {
        let why = match c.verdict {
            Verdict::Excluded => {
                format!("excluded (`{}`)", c.exclusion.clone().unwrap_or_default())
            }
            _ => format!("not controlled on {date}"),
        };
        out.push(
            Diagnostic::new(Code::UnnecessaryLicence, lref.span, format!("the product is {why}, so licence `{}` is not needed for it; remove the reference unless you rely on it for another reason", lref.value))
                .with_sku(sku)
                .with_related(related()),
        );
        return;
    }
    // A licence that cannot be relied on (its table has a syntax error, or
    // no valid `type`, which decides what it allows) covers nothing: the
    // product is told so, as it would be of a missing licence, beside the
    // licence's own error. Its dates, items, end users and destinations are
    // still checked where they could be read.
    let rule = l
        .kind
        .as_ref()
        .and_then(|k| pack.licence_rule(&k.value))
        .filter(|_| !l.broken);
    if rule.is_none() {
        let why = match (l.broken, &l.kind) {
            (true, _) => "its table has a syntax error",
            (false, None) => "it has no `type`",
            (false, Some(_)) => "its `type` is not a licence type the rule pack knows",
        };
        out.push(
            Diagnostic::new(
                Code::UnknownLicence,
                lref.span,
                format!(
                    "licence `{}` cannot be relied on: {why}. Fix the licence (its own error says how); until then this export has no usable licence",
                    lref.value
                ),
            )
            .with_sku(sku)
            .with_related(related()),
        );
        if l.broken {
            return;
        }
    }
    // A limit that could not be read is not "no limit": the licence cannot
    // be shown to cover the export (the licence's own error says what to fix).
    for (key, code) in [
        ("issued", Code::LicenceNotYetValid),
        ("expires", Code::LicenceExpired),
        ("items", Code::LicenceItemNotCovered),
        ("end_users", Code::LicenceEndUserNotCovered),
        ("destinations", Code::LicenceDestinationNotCovered),
    ] {
        if l.invalid.contains(&key) {
            out.push(
                Diagnostic::new(
                    code,
                    lref.span,
                    format!(
                        "licence `{}`'s `{key}` could not be read, so it cannot be shown to cover this export: fix the licence (its own error says how)",
                        lref.value
                    ),
                )
                .with_sku(sku)
                .with_related(related()),
            );
        }
    }
    let src = rule.map(|rule| pack.source(rule.instrument, &rule.article));
    for f in problems(pack, l, p, date, &c.codes, c.verdict, rule) {
        out.push(
            Diagnostic::new(f.0, lref.span, f.1)
                .with_sku(sku)
                .with_source(src.clone())
                .with_related(related()),
        );
    }
}

/// Every reason the licence does not cover the product's export on the date.
#[allow(clippy::too_many_arguments)]
pub fn problems(
    pack: &RulePack,
    l: &Licence,
    p: &Product,
    date: Date,
    codes: &[String],
    verdict: Verdict,
    rule: Option<&crate::rules::LicenceRule>,
) -> Vec<(Code, String)> {
    let id = l.id_str().unwrap_or("?");
    let mut out = Vec::new();
    if let Some(e) = &l.expires {
        if date > e.value {
            out.push((Code::LicenceExpired, format!("licence `{id}` expired on {} but the export is evaluated on {date}: renew it or use a valid licence", e.value)));
        }
    }
    if let Some(i) = &l.issued {
        if date < i.value {
            out.push((Code::LicenceNotYetValid, format!("licence `{id}` is valid from {} but the export is evaluated on {date}: ship on or after that date or use another licence", i.value)));
        }
    }
    if verdict == Verdict::Controlled {
        if let Some(items) = &l.items {
            let uncovered: Vec<&String> = codes
                .iter()
                .filter(|c| {
                    !items
                        .value
                        .iter()
                        .any(|i| pack.vocab.codes.is_code(&i.value) && pack.covers(&i.value, c))
                })
                .collect();
            if !uncovered.is_empty() {
                let listed = items
                    .value
                    .iter()
                    .filter(|i| pack.vocab.codes.is_code(&i.value))
                    .map(|i| i.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let missing = uncovered
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let head = match listed.is_empty() {
                    true => format!(
                        "licence `{id}` names no valid items, so it does not cover {missing}"
                    ),
                    false => format!("licence `{id}` covers {listed} but not {missing}"),
                };
                out.push((
                    Code::LicenceItemNotCovered,
                    format!(
                        "{head}: a licence covers only the items it names and their sub-items; use a licence for {} or extend this one",
                        uncovered[0]
                    ),
                ));
            }
        }
    }
    if let Some(eu) = &l.end_users {
        let list = eu
            .value
            .iter()
            .map(|x| x.value.as_str())
            .collect::<Vec<_>>();
        match &p.end_user {
            Some(u) if list.contains(&u.value.as_str()) => {}
            Some(u) => out.push((Code::LicenceEndUserNotCovered, format!("end user \"{}\" is not among licence `{id}`'s end users ({}): the licence covers only the end users it names", u.value, list.join("; ")))),
            None => out.push((Code::LicenceEndUserNotCovered, format!("the product names no `end_user`, and licence `{id}` is limited to {}: add the end user", list.join("; ")))),
        }
    }
    if let Some(ds) = &l.destinations {
        let list = ds
            .value
            .iter()
            .map(|x| x.value.as_str())
            .collect::<Vec<_>>();
        match &p.destination {
            Some(d) if list.contains(&d.value.as_str()) => {}
            Some(d) if list.is_empty() => out.push((Code::LicenceDestinationNotCovered, format!("licence `{id}` lists no valid destination, so it does not cover {}: fix its `destinations` or use a licence for {}", d.value, d.value))),
            Some(d) => out.push((Code::LicenceDestinationNotCovered, format!("destination {} is not among licence `{id}`'s destinations ({}): use a licence for {} or change the destination", d.value, list.join(", "), d.value))),
            None if list.is_empty() => out.push((Code::LicenceDestinationNotCovered, format!("licence `{id}` lists no valid destination, so it covers no export: fix its `destinations`"))),
            None => out.push((Code::LicenceDestinationNotCovered, format!("the product names no `destination`, and licence `{id}` is limited to {}: add the destination", list.join(", ")))),
        }
    }
    if let Some((rule, allowed)) = rule.and_then(|r| Some((r, r.purposes.as_ref()?))) {
        let others = crate::vocab::or_list(
            &pack
                .licence_rules
                .iter()
                .filter(|r| !r.restricts_purposes())
                .map(|r| r.a_name())
                .collect::<Vec<_>>(),
        );
        // Words the pack does not know count as not given (`invalid-value` says so).
        let known = |x: &&crate::catalogue::Field<Purpose>| pack.vocab.purpose(&x.value).is_some();
        match p.purpose.as_ref().filter(known).map(|x| &x.value) {
            None => out.push((Code::CertificatePurposeNotAllowed, format!("licence `{id}` is {}, which serves only {}; the product names no `purpose`: add it", rule.a_name(), names(allowed)))),
            Some(pp) if !allowed.contains(pp) && l.purposes.is_none() => out.push((Code::CertificatePurposeUnusual, format!("{}s are used mainly for {}, not `{pp}`; no source forbids another purpose, but check that the registration covers it, or use {others}. {}", rule.name, names(allowed), rule.explanation))),
            Some(pp) => {
                if let Some(lp) = &l.purposes {
                    if !lp.value.iter().any(|x| x.value == *pp) {
                        let listed = lp.value.iter().filter(known).map(|x| x.value.as_str()).collect::<Vec<_>>().join(", ");
                        out.push((Code::CertificatePurposeNotAllowed, format!("{} `{id}` was obtained for {listed}, not `{pp}`: register {} for this purpose", rule.name, rule.a_name())));
                    }
                }
            }
        }
    }
    out
}
