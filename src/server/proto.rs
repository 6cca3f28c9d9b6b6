//! `to_proto`: every conversion from the engine's and the text's types to
//! the protocol's (`lsp_types`), in one place. Byte spans become ranges in
//! the negotiated encoding (clamped to the text, never a panic); the
//! engine's `Diagnostic` becomes an LSP diagnostic (severity, code, its
//! documentation link, related information, tags, quick-fix data); the
//! format seam's text edits become LSP text edits; table kinds become symbol
//! kinds; Markdown becomes hover contents. The one conversion the other way,
//! a client position to a byte offset, is here too ([`offset`]).
//!
//! Handlers and the state call these; no other server file writes an
//! `lsp::Range`, `lsp::Diagnostic`, `Location` or `TextEdit` literal. What a
//! handler says is its business; how it is spelled on the wire is this
//! module's.

use super::state::FileView;
use crate::catalogue::{TableKind, format};
use crate::diagnostic::{Code, Diagnostic, Severity, SourceRef};
use crate::text::{Encoding, LineIndex, Span};
use std::collections::HashMap;
use tower_lsp::lsp_types::{self as lsp, Url};

/// The position of a byte offset (clamped to the text; an offset inside a
/// character is the character's start).
pub fn position(text: &str, lines: &LineIndex, offset: usize, enc: Encoding) -> lsp::Position {
    let (line, character) = lines.position(text, offset, enc);
    lsp::Position::new(line, character)
}

/// The range of a byte span in the negotiated encoding.
pub fn range(text: &str, lines: &LineIndex, span: Span, enc: Encoding) -> lsp::Range {
    lsp::Range {
        start: position(text, lines, span.start(), enc),
        end: position(text, lines, span.end(), enc),
    }
}

/// [`range`] of a span of a file.
pub fn file_range(f: &FileView, span: Span, enc: Encoding) -> lsp::Range {
    range(f.text, f.lines, span, enc)
}

/// The byte offset of a client's position (`from_proto`): out-of-range lines
/// and columns are clamped to the text.
pub fn offset(f: &FileView, pos: lsp::Position, enc: Encoding) -> usize {
    f.lines.offset(f.text, pos.line, pos.character, enc)
}

/// A span of a file as a location.
pub fn location(f: &FileView, span: Span, enc: Encoding) -> lsp::Location {
    lsp::Location {
        uri: f.uri.clone(),
        range: file_range(f, span, enc),
    }
}

pub fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

/// A related location of a diagnostic.
pub fn related(uri: &Url, range: lsp::Range, message: &str) -> lsp::DiagnosticRelatedInformation {
    lsp::DiagnosticRelatedInformation {
        location: lsp::Location {
            uri: uri.clone(),
            range,
        },
        message: message.to_string(),
    }
}

/// An engine diagnostic at `range` with severity `sev` (the user's override
/// applied by the caller) and its related locations already converted.
pub fn diagnostic(
    d: &Diagnostic,
    sev: Severity,
    range: lsp::Range,
    related: Vec<lsp::DiagnosticRelatedInformation>,
) -> lsp::Diagnostic {
    let href = d
        .source
        .as_ref()
        .and_then(|s| Url::parse(&s.url).ok())
        .or_else(|| {
            Url::parse(&format!(
                "{}#{}",
                crate::diagnostic::SPEC_URI,
                d.code.as_str()
            ))
            .ok()
        });
    // The message says what is wrong and what to do. Why (the explanation
    // its code shares) and the full citation are in the hover on the
    // diagnostic's range and behind its link (`codeDescription`): every byte
    // here is re-sent on each keystroke. Errors and warnings still name
    // their legal basis in the text, shortly (the instrument without its
    // description, and the article), so a Problems list read or exported
    // without hovering keeps it.
    let message = match &d.source {
        Some(s) if sev <= Severity::Warning => {
            format!("{}\nSource: {}", d.message, short_cite(s))
        }
        _ => d.message.clone(),
    };
    lsp::Diagnostic {
        range,
        severity: Some(severity(sev)),
        code: Some(lsp::NumberOrString::String(d.code.as_str().into())),
        code_description: href.map(|href| lsp::CodeDescription { href }),
        source: Some("catalogue-lsp".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: (d.code == Code::UnnecessaryLicence).then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        // Quick-fix data only where there is a fix: every byte is re-sent on each keystroke.
        data: (!d.fix.replacements.is_empty())
            .then(|| serde_json::json!({ "sku": d.sku, "replacements": d.fix.replacements, "quote": d.fix.quote })),
    }
}

/// A citation for the diagnostic's text: the instrument's title without its
/// parenthesised description ("Regulations on Export Control of Dual-Use
/// Items (State Council Decree 792)" → "Regulations on Export Control of
/// Dual-Use Items"), then the article whole (its caveats included). The
/// hover gives the full citation with its link.
pub fn short_cite(s: &SourceRef) -> String {
    let title = s.instrument.trim();
    let title = match title.find(" (") {
        Some(at) if at > 0 => &title[..at],
        _ => title,
    };
    if s.article.is_empty() {
        title.to_string()
    } else {
        format!("{title}, {}", s.article)
    }
}

/// A configuration error shown at the top of every file (an unusable rule
/// pack): an error of `code` with the message cut to a few lines' length.
pub fn config_error(code: Code, message: &str) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: lsp::Range::default(),
        severity: Some(lsp::DiagnosticSeverity::ERROR),
        code: Some(lsp::NumberOrString::String(code.as_str().into())),
        source: Some("catalogue-lsp".into()),
        // Sent with every publication: a huge setting is not echoed whole.
        message: shown_message(message),
        ..Default::default()
    }
}

/// A configuration message cut to a few lines' length (it is re-sent on
/// every publication: a 5 MB setting must not be echoed whole).
fn shown_message(m: &str) -> String {
    const MAX: usize = 1000;
    match m.char_indices().nth(MAX) {
        None => m.to_string(),
        Some((at, _)) => format!("{}… ({} bytes in all)", &m[..at], m.len()),
    }
}

pub fn text_edit(range: lsp::Range, new_text: String) -> lsp::TextEdit {
    lsp::TextEdit { range, new_text }
}

/// The format seam's text edits of one file as LSP edits.
pub fn text_edits(f: &FileView, edits: Vec<format::TextEdit>, enc: Encoding) -> Vec<lsp::TextEdit> {
    edits
        .into_iter()
        .map(|e| text_edit(file_range(f, e.span, enc), e.text))
        .collect()
}

/// A quick fix made of `changes`, for `diagnostic` when it answers one.
pub fn quick_fix(
    title: String,
    diagnostic: Option<&lsp::Diagnostic>,
    changes: HashMap<Url, Vec<lsp::TextEdit>>,
    preferred: bool,
) -> lsp::CodeActionOrCommand {
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: diagnostic.map(|d| vec![d.clone()]),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }),
        is_preferred: preferred.then_some(true),
        ..Default::default()
    })
}

/// Edits of several files as a workspace edit.
pub fn workspace_edit(changes: HashMap<Url, Vec<lsp::TextEdit>>) -> lsp::WorkspaceEdit {
    lsp::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }
}

/// Markdown as a hover, over `range` when given.
pub fn hover(markdown: String, range: Option<lsp::Range>) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: markdown,
        }),
        range,
    }
}

/// The symbol kind of a table: a product an object, a licence a key, the
/// `[catalogue]` table a namespace; None for tables not in the outline.
pub fn symbol_kind(kind: TableKind) -> Option<lsp::SymbolKind> {
    match kind {
        TableKind::Product => Some(lsp::SymbolKind::OBJECT),
        TableKind::Licence => Some(lsp::SymbolKind::KEY),
        TableKind::Catalogue => Some(lsp::SymbolKind::NAMESPACE),
        _ => None,
    }
}

/// One symbol of the outline (no children; the typed reference of the outline).
#[cfg(test)]
#[allow(deprecated)] // DocumentSymbol::deprecated is a required field
pub fn document_symbol(
    name: String,
    detail: Option<String>,
    kind: lsp::SymbolKind,
    range: lsp::Range,
    selection_range: lsp::Range,
) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range,
        children: None,
    }
}

/// One symbol of the workspace.
#[allow(deprecated)] // SymbolInformation::deprecated is a required field
pub fn symbol_information(
    name: &str,
    kind: lsp::SymbolKind,
    location: lsp::Location,
) -> lsp::SymbolInformation {
    lsp::SymbolInformation {
        name: name.to_string(),
        kind,
        tags: None,
        deprecated: None,
        location,
        container_name: None,
    }
}

/// A completion item; an empty detail is left out.
pub fn completion_item(
    label: &str,
    detail: &str,
    k: lsp::CompletionItemKind,
) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: label.to_string(),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        kind: Some(k),
        ..Default::default()
    }
}

/// A label after `position`, padded on its left.
pub fn inlay_hint(position: lsp::Position, label: String) -> lsp::InlayHint {
    lsp::InlayHint {
        position,
        label: lsp::InlayHintLabel::String(label),
        kind: None,
        text_edits: None,
        tooltip: None,
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

/// A code lens that is a label: it runs no command.
pub fn label_lens(range: lsp::Range, title: String) -> lsp::CodeLens {
    lsp::CodeLens {
        range,
        command: Some(lsp::Command {
            title,
            command: String::new(),
            arguments: None,
        }),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, span: Span, enc: Encoding) -> ((u32, u32), (u32, u32)) {
        let r = range(text, &LineIndex::new(text), span, enc);
        (
            (r.start.line, r.start.character),
            (r.end.line, r.end.character),
        )
    }

    /// 𝄞 is 4 bytes, 2 UTF-16 units (a surrogate pair), 1 UTF-32 unit; é is
    /// 2 bytes, 1 unit in both.
    #[test]
    fn spans_become_ranges_in_each_encoding() {
        let text = "a = \"𝄞é\"\r\nb = \"x\"\n";
        let x = text.find('x').unwrap();
        let e = text.find('é').unwrap();
        // From 𝄞 to after é on the first line.
        let first = Span::new(5, e + 2);
        assert_eq!(at(text, first, Encoding::Utf8), ((0, 5), (0, 11)));
        assert_eq!(at(text, first, Encoding::Utf16), ((0, 5), (0, 8)));
        assert_eq!(at(text, first, Encoding::Utf32), ((0, 5), (0, 7)));
        // On the second line, after a CRLF: columns restart at 0.
        let second = Span::new(x, x + 1);
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            assert_eq!(at(text, second, enc), ((1, 5), (1, 6)), "{enc:?}");
        }
    }

    /// A span past the end or inside a character is clamped to a boundary:
    /// never a panic, never a position past the text.
    #[test]
    fn out_of_range_spans_clamp() {
        let text = "a = \"𝄞\"\nb";
        let end = ((1, 1), (1, 1));
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            assert_eq!(at(text, Span::new(500, 9000), enc), end, "{enc:?}");
            assert_eq!(at(text, Span::new(usize::MAX - 1, usize::MAX), enc), end);
        }
        // Bytes 6..8 are inside 𝄞 (bytes 5..9): both ends fall back to its start.
        assert_eq!(at(text, Span::new(6, 8), Encoding::Utf16), ((0, 5), (0, 5)));
        assert_eq!(at("", Span::new(3, 4), Encoding::Utf16), ((0, 0), (0, 0)));
    }

    #[test]
    fn positions_back_to_offsets_clamp() {
        let text = "a𝄞b\nc";
        let lines = LineIndex::new(text);
        let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let cat = crate::catalogue::Catalogue::default();
        let f = FileView {
            uri: &uri,
            names: 0,
            text,
            lines: &lines,
            catalogue: &cat,
            format: crate::catalogue::Format::Toml,
        };
        let p = |l, c| lsp::Position::new(l, c);
        assert_eq!(offset(&f, p(0, 3), Encoding::Utf16), 5, "after the pair");
        assert_eq!(offset(&f, p(0, 2), Encoding::Utf16), 1, "inside the pair");
        assert_eq!(offset(&f, p(0, 2), Encoding::Utf32), 5);
        assert_eq!(offset(&f, p(0, 99), Encoding::Utf8), 6, "past the line end");
        assert_eq!(offset(&f, p(7, 0), Encoding::Utf16), text.len());
    }

    #[test]
    fn diagnostics_carry_code_link_tags_and_related() {
        let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let d = Diagnostic::new(Code::UnnecessaryLicence, Span::new(0, 1), "m");
        let r = related(&uri, lsp::Range::default(), "here");
        let l = diagnostic(&d, Severity::Hint, lsp::Range::default(), vec![r]);
        assert_eq!(l.severity, Some(lsp::DiagnosticSeverity::HINT));
        assert_eq!(
            l.code,
            Some(lsp::NumberOrString::String("unnecessary-licence".into()))
        );
        assert!(
            l.code_description
                .is_some_and(|c| c.href.as_str().ends_with("#unnecessary-licence"))
        );
        assert_eq!(l.tags, Some(vec![lsp::DiagnosticTag::UNNECESSARY]));
        assert_eq!(l.related_information.map(|r| r.len()), Some(1));
        assert_eq!(l.data, None, "no fix, no data");
        // An error with a source: the message, then a short citation; the
        // explanation is left to the hover.
        let src = SourceRef {
            instrument:
                "Regulations on Export Control of Dual-Use Items (State Council Decree 792)".into(),
            article: "Arts. 18-20 (exact split unverified)".into(),
            url: "http://example.org/reg".into(),
        };
        let e = Diagnostic::new(Code::MissingLicence, Span::new(0, 1), "no licence. Set one")
            .with_explanation(10, std::sync::Arc::new(": every export needs one".into()))
            .with_source(Some(src.clone()));
        let l = diagnostic(&e, Severity::Error, lsp::Range::default(), vec![]);
        assert_eq!(
            l.message,
            "no licence. Set one\nSource: Regulations on Export Control of Dual-Use Items, Arts. 18-20 (exact split unverified)"
        );
        assert_eq!(
            l.code_description.map(|c| c.href.to_string()),
            Some("http://example.org/reg".into())
        );
        // Hints and information marks: no citation in the text (the link has it).
        let h = diagnostic(&e, Severity::Hint, lsp::Range::default(), vec![]);
        assert_eq!(h.message, "no licence. Set one");
        let bare = SourceRef {
            instrument: "(odd) title".into(),
            article: "".into(),
            url: "".into(),
        };
        assert_eq!(short_cite(&bare), "(odd) title");
        let long = "x".repeat(5000);
        let e = config_error(Code::RulePackError, &long);
        assert!(e.message.len() < 1100 && e.message.ends_with("(5000 bytes in all)"));
    }
}
