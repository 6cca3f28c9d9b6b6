//! Hover: what a product's verdict is and why (its trace with sources),
//! what a composition key, a pack's word or an enumerated value means, a
//! licence's terms, whether it covers the export under the cursor and how
//! much of it the workspace's exports use; party names are
//! `server::screening`'s.

use super::{inside, link, result_for, table_at};
use crate::catalogue::{self, Field, Integrate, Mounting, Product, TableKind};
use crate::engine::{ProductResult, Verdict, licence};
use crate::rules::RulePack;
use crate::server::proto;
use crate::server::state::State;
use crate::text::Span;
use std::fmt::Write;
use tower_lsp::lsp_types::*;

fn verdict_line(r: &ProductResult) -> String {
    let c = &r.classification;
    match c.verdict {
        Verdict::Controlled => format!(
            "**controlled** — {}",
            c.codes
                .iter()
                .enumerate()
                .map(|(n, code)| format!("`{code}` {}", c.titles.get(n).map_or("", |t| &**t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Verdict::Excluded => format!(
            "**excluded** — `{}`{}",
            c.exclusion.clone().unwrap_or_default(),
            if c.codes.is_empty() {
                String::new()
            } else {
                format!(" (takes {} out of control)", c.codes.join(", "))
            }
        ),
        Verdict::NotControlled => "**not controlled**".into(),
        Verdict::Indeterminate => format!("**indeterminate** — missing {}", c.missing.join(", ")),
    }
}

pub fn hover(st: &State, uri: &Url, pos: Position) -> Option<Hover> {
    let f = st.file(uri)?;
    let offset = proto::offset(&f, pos, st.encoding);
    let notes = diagnostic_notes(st, uri, &f, offset);
    let with_notes = |mut md: String, range: Option<Span>| {
        if let Some((span, n)) = &notes {
            if !md.is_empty() {
                md.push_str("\n---\n\n");
            }
            md.push_str(n);
            return (md, range.or(Some(*span)));
        }
        (md, range)
    };
    let only_notes = || {
        let (md, range) = with_notes(String::new(), None);
        (!md.is_empty())
            .then(|| proto::hover(md, range.map(|s| proto::file_range(&f, s, st.encoding))))
    };
    let cat = f.catalogue;
    let Some(t) = table_at(cat, offset) else {
        return only_notes();
    };
    let mut md = String::new();
    let range;
    if let Some((span, text)) =
        crate::server::screening::party_hover(st, uri, &f, t.kind, t.index, offset)
    {
        let (md, range) = with_notes(text, Some(span));
        return Some(proto::hover(
            md,
            range.map(|s| proto::file_range(&f, s, st.encoding)),
        ));
    }
    match t.kind {
        TableKind::Product => {
            let p = cat.products.get(t.index)?;
            if let Some(l) = p.licence.as_ref().filter(|l| inside(l.span, offset)) {
                range = Some(l.span);
                licence_hover(st, uri, t.index, p, &l.value, &mut md);
            } else if let Some(e) = p
                .composition
                .as_ref()
                .and_then(|c| c.entries.iter().find(|e| inside(e.key_span, offset)))
            {
                range = Some(e.key_span);
                let _ = writeln!(
                    md,
                    "**{}** — {}",
                    e.key,
                    e.shares
                        .iter()
                        .map(|(el, s)| format!(
                            "{} ({}, {:.1} % of it)",
                            el.name(),
                            el.symbol(),
                            s * 100.0
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let pack = st.pack_of(uri);
                for (el, _) in &e.shares {
                    let items: Vec<String> = pack
                        .items
                        .iter()
                        .filter(|i| i.elements.contains(el))
                        .map(|i| i.code.clone())
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    if !items.is_empty() {
                        let _ = writeln!(
                            md,
                            "\n{} is a listed element: {}",
                            el.symbol(),
                            items.join(", ")
                        );
                    }
                }
            } else if let Some((span, text)) = enum_value_at(&st.pack_of(uri), p, offset) {
                range = Some(span);
                md.push_str(&text);
            } else {
                range = Some(p.header);
                product_hover(st, uri, t.index, p, &mut md);
            }
        }
        TableKind::Licence => {
            let l = cat.licences.get(t.index)?;
            range = Some(l.header);
            licence_summary(&st.pack_of(uri), l, &mut md);
            md.push_str(&licence_use(st, l));
        }
        _ => return only_notes(),
    }
    let (md, range) = with_notes(md, range);
    Some(proto::hover(
        md,
        range.map(|s| proto::file_range(&f, s, st.encoding)),
    ))
}

/// Why the published diagnostics at `offset` ask what they ask, and their
/// sources in full with links: what the short messages leave out (the
/// explanation each code shares, the citation). With the span of the first
/// such diagnostic; None when no diagnostic there has either.
fn diagnostic_notes(
    st: &State,
    uri: &Url,
    f: &crate::server::state::FileView,
    offset: usize,
) -> Option<(Span, String)> {
    let a = st.analyses.get(uri)?;
    let mut md = String::new();
    let mut first = None;
    let mut seen = Vec::new();
    let offset = offset as isize;
    for (moved, d) in a.diagnostics() {
        // Decided on the kept diagnostic, moved in arithmetic: a hover does
        // not copy the file's diagnostics.
        let (start, end) = (
            d.span.start() as isize + moved,
            d.span.end() as isize + moved,
        );
        if (d.explanation.is_none() && d.source.is_none()) || offset < start || offset > end {
            continue;
        }
        let d = crate::server::state::placed(moved, d);
        // Only what the editor shows (a code turned off explains nothing).
        if st.lsp_diagnostic(f, &d).is_none() {
            continue;
        }
        let key = (d.code, d.explanation.clone(), d.source.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        first.get_or_insert(d.span);
        let _ = write!(md, "- `{}`", d.code.as_str());
        if let Some(e) = d.explanation_sentence() {
            let _ = write!(md, ": {e}");
        }
        if let Some(s) = &d.source {
            let _ = write!(md, " — {}", link(&s.url, &s.cite()));
        }
        md.push('\n');
    }
    let span = first?;
    Some((span, format!("**Why** (the diagnostics here)\n\n{md}")))
}

fn enum_value_at(pack: &RulePack, p: &Product, offset: usize) -> Option<(Span, String)> {
    // The pack's words: what the pack says they mean, or that it does not know them.
    let word = |f: &Option<Field<catalogue::Name>>, describe: &dyn Fn(&str) -> Option<String>| {
        let f = f.as_ref().filter(|f| inside(f.span, offset))?;
        let desc =
            describe(&f.value).unwrap_or_else(|| format!("not a word of rule pack {}", pack.id));
        Some((f.span, format!("`{}`: {desc}", f.value)))
    };
    let v = &pack.vocab;
    fn one<T: Copy>(
        f: &Option<Field<T>>,
        offset: usize,
        d: impl Fn(T) -> (&'static str, &'static str),
    ) -> Option<(Span, String)> {
        let f = f.as_ref().filter(|f| inside(f.span, offset))?;
        let (name, desc) = d(f.value);
        Some((f.span, format!("`{name}`: {desc}")))
    }
    word(&p.form, &|n| v.form(n).map(|d| d.description.clone()))
        .or_else(|| {
            one(&p.mounting, offset, |v: Mounting| {
                (v.as_str(), v.describe())
            })
        })
        .or_else(|| word(&p.transfer, &|n| v.transfer(n).map(|d| d.description.clone())))
        .or_else(|| word(&p.purpose, &|n| v.purpose(n).map(|d| d.description.clone())))
        .or_else(|| {
            let list = p.integrates.as_ref()?;
            let f = list.value.iter().find(|f| inside(f.span, offset))?;
            Some((
                f.span,
                match Integrate::parse(&f.value) {
                    Some(i) => format!("`{}`: {}", f.value, i.describe()),
                    None if crate::catalogue::not_a_part(&f.value).is_some() => format!(
                        "`{}`: not a part name; it counts as nothing",
                        f.value
                    ),
                    None => format!(
                        "`{}`: an integrated part not among the known names (the FAQ's list is open: it still counts)",
                        f.value
                    ),
                },
            ))
        })
}

fn product_hover(st: &State, uri: &Url, index: usize, p: &Product, md: &mut String) {
    let _ = writeln!(
        md,
        "### {}{}",
        p.sku_str().unwrap_or("(no sku)"),
        p.name
            .as_ref()
            .map(|n| format!(" — {}", n.value))
            .unwrap_or_default()
    );
    let Some(r) = result_for(st, uri, index) else {
        return;
    };
    let pack = st.pack_of(uri);
    let _ = writeln!(
        md,
        "{}\n\nEvaluated as of **{}** with rule pack `{}` {}.\n",
        verdict_line(r),
        r.as_of,
        pack.id,
        pack.version
    );
    let c = &r.classification;
    if let Some(other) = &c.other_reading {
        for a in &c.assumptions {
            if let Some(text) = pack.assumption_text(a.instrument, a.status) {
                let _ = writeln!(
                    md,
                    "**Unconfirmed status** — {text}. Under the other reading: **{}**{}.\n",
                    other.verdict.as_str(),
                    if other.codes.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", other.codes.join(", "))
                    }
                );
            }
        }
    }
    let explained = st.explained(uri, index);
    for step in explained.iter().flat_map(|c| &c.trace) {
        match &step.source {
            Some(s) => {
                let _ = writeln!(md, "- {} — {}", step.text, link(&s.url, &s.cite()));
            }
            None => {
                let _ = writeln!(md, "- {}", step.text);
            }
        }
    }
}

fn licence_summary(pack: &RulePack, l: &catalogue::Licence, md: &mut String) {
    let id = l.id_str().unwrap_or("?");
    let kind = l.kind.as_ref().map(|k| &k.value);
    let _ = writeln!(
        md,
        "### Licence {id}\n{}",
        match kind {
            None => "type not given".to_string(),
            Some(k) => pack.licence_rule(k).map_or_else(
                || format!("`{k}`: not a licence type of rule pack {}", pack.id),
                |r| r.title.clone()
            ),
        }
    );
    if let (Some(i), Some(e)) = (&l.issued, &l.expires) {
        let _ = writeln!(md, "\nValid {} to {} (inclusive).", i.value, e.value);
    }
    let list = |f: &Option<Field<Vec<Field<String>>>>| {
        f.as_ref()
            .map(|v| {
                v.value
                    .iter()
                    .map(|x| x.value.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "not limited".into())
    };
    let _ = writeln!(
        md,
        "\n- items: {}\n- end users: {}\n- destinations: {}",
        list(&l.items),
        list(&l.end_users),
        list(&l.destinations)
    );
    if let Some(r) = kind.and_then(|k| pack.licence_rule(k)) {
        let s = pack.source(r.instrument, &r.article);
        let _ = writeln!(md, "\n{} — {}", r.explanation, link(&s.url, &s.cite()));
    }
}

fn licence_hover(st: &State, uri: &Url, index: usize, p: &Product, id: &str, md: &mut String) {
    let files = st.files();
    let Some(l) = files
        .iter()
        .flat_map(|f| f.catalogue.licences.iter())
        .find(|l| l.id_str() == Some(id))
    else {
        let _ = writeln!(md, "Licence `{id}` is not defined in the workspace.");
        return;
    };
    let pack = st.pack_of(uri);
    licence_summary(&pack, l, md);
    md.push_str(&licence_use(st, l));
    if let (Some(r), Some(rule)) = (
        result_for(st, uri, index),
        l.kind.as_ref().and_then(|k| pack.licence_rule(&k.value)),
    ) {
        let problems = licence::problems(
            &pack,
            l,
            p,
            r.as_of,
            &r.classification.codes,
            r.verdict(),
            Some(rule),
        );
        if problems.is_empty() {
            let _ = writeln!(md, "\n✔ Covers this export on {}.", r.as_of);
        } else {
            let _ = writeln!(md, "\n✘ Does not cover this export on {}:", r.as_of);
            for (_, m) in problems {
                let _ = writeln!(md, "- {m}");
            }
        }
    }
}

/// A licence's use by the workspace's exports (v2 §4a), for its hover.
fn licence_use(st: &State, l: &catalogue::Licence) -> String {
    let Some(ledger) = st.ledger.as_deref() else {
        return String::new();
    };
    let files = st.files();
    crate::engine::exports::licence_markdown(l, ledger, |e| {
        let Some(f) = files.get(e.file) else {
            return String::new();
        };
        let (what, header) = match e.source {
            crate::engine::exports::Source::Product(i) => {
                ("product", f.catalogue.products.get(i).map(|p| p.header))
            }
            crate::engine::exports::Source::Shipment(i) => {
                ("shipment", f.catalogue.shipments.get(i).map(|x| x.header))
            }
        };
        let sku = files
            .get(e.product.0)
            .and_then(|pf| pf.catalogue.products.get(e.product.1))
            .and_then(|p| p.sku_str())
            .unwrap_or("?");
        let line = header.map_or(0, |h| f.lines.line_of(h.start()) + 1);
        let name = f
            .uri
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("");
        format!("`{sku}` ({what}, {name}:{line})")
    })
}
