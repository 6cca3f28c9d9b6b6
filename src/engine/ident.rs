//! Identifier hygiene (Unicode TR39): invisible characters and look-alikes
//! in SKUs, licence ids and the references to them, and skeletons, under
//! which two names that look the same compare equal.

use unicode_script::UnicodeScript;
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::{GeneralSecurityProfile, MixedScript};

/// At most this many characters are described in one message.
const MAX_DESCRIBED: usize = 3;

/// Names of the invisible and formatting characters most often met in
/// pasted text (others are described by their code point).
const NAMES: &[(char, &str)] = &[
    ('\u{0009}', "CHARACTER TABULATION"),
    ('\u{000A}', "LINE FEED"),
    ('\u{000D}', "CARRIAGE RETURN"),
    ('\u{00A0}', "NO-BREAK SPACE"),
    ('\u{00AD}', "SOFT HYPHEN"),
    ('\u{034F}', "COMBINING GRAPHEME JOINER"),
    ('\u{061C}', "ARABIC LETTER MARK"),
    ('\u{115F}', "HANGUL CHOSEONG FILLER"),
    ('\u{1160}', "HANGUL JUNGSEONG FILLER"),
    ('\u{180E}', "MONGOLIAN VOWEL SEPARATOR"),
    ('\u{2000}', "EN QUAD"),
    ('\u{2001}', "EM QUAD"),
    ('\u{2002}', "EN SPACE"),
    ('\u{2003}', "EM SPACE"),
    ('\u{2004}', "THREE-PER-EM SPACE"),
    ('\u{2005}', "FOUR-PER-EM SPACE"),
    ('\u{2006}', "SIX-PER-EM SPACE"),
    ('\u{2007}', "FIGURE SPACE"),
    ('\u{2008}', "PUNCTUATION SPACE"),
    ('\u{2009}', "THIN SPACE"),
    ('\u{200A}', "HAIR SPACE"),
    ('\u{200B}', "ZERO WIDTH SPACE"),
    ('\u{200C}', "ZERO WIDTH NON-JOINER"),
    ('\u{200D}', "ZERO WIDTH JOINER"),
    ('\u{200E}', "LEFT-TO-RIGHT MARK"),
    ('\u{200F}', "RIGHT-TO-LEFT MARK"),
    ('\u{2028}', "LINE SEPARATOR"),
    ('\u{2029}', "PARAGRAPH SEPARATOR"),
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{202F}', "NARROW NO-BREAK SPACE"),
    ('\u{205F}', "MEDIUM MATHEMATICAL SPACE"),
    ('\u{2060}', "WORD JOINER"),
    ('\u{2061}', "FUNCTION APPLICATION"),
    ('\u{2062}', "INVISIBLE TIMES"),
    ('\u{2063}', "INVISIBLE SEPARATOR"),
    ('\u{2064}', "INVISIBLE PLUS"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
    ('\u{3000}', "IDEOGRAPHIC SPACE"),
    ('\u{3164}', "HANGUL FILLER"),
    ('\u{FEFF}', "ZERO WIDTH NO-BREAK SPACE"),
    ('\u{FFA0}', "HALFWIDTH HANGUL FILLER"),
];

/// Whether `c` shows as nothing, as a blank other than the plain space, or
/// changes how the text around it is laid out.
fn invisible(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || c.identifier_type() == Some(IdentifierType::Default_Ignorable)
}

fn describe_invisible(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    match NAMES.binary_search_by_key(&c, |(n, _)| *n) {
        Ok(i) => format!("{code} {} (invisible)", NAMES[i].1),
        Err(_) if c.is_control() => format!("{code} (a control character)"),
        Err(_) if ('\u{FE00}'..='\u{FE0F}').contains(&c) => {
            format!(
                "{code} VARIATION SELECTOR-{} (invisible)",
                c as u32 - 0xFE00 + 1
            )
        }
        Err(_) => format!("{code} (an invisible or formatting character)"),
    }
}

/// The skeleton of one character if it is plain ASCII and differs from it.
fn ascii_lookalike(c: char) -> Option<String> {
    if c.is_ascii() {
        return None;
    }
    let mut buf = [0u8; 4];
    let s: String = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
    (!s.is_empty() && s.is_ascii() && s.chars().all(|x| x.is_ascii_graphic())).then_some(s)
}

fn describe_lookalike(c: char, like: &str) -> String {
    let script = c.script().full_name();
    let like = match like.chars().next() {
        Some(l) if like.len() == 1 && l.is_ascii_alphabetic() => format!("Latin {like}"),
        _ => format!("`{like}`"),
    };
    let script = if script == "Common" || script == "Inherited" {
        String::new()
    } else {
        format!("{script} ")
    };
    format!("{script}{c} U+{:04X} looks like {like}", c as u32)
}

/// What is suspicious in an identifier, one description per character
/// (invisible ones, and look-alikes of ASCII letters and digits when the
/// identifier mixes scripts or all its non-ASCII letters are look-alikes),
/// and how many such characters there are.
pub fn suspicious(id: &str) -> (Vec<String>, usize) {
    if id.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return (Vec::new(), 0);
    }
    let mut found: Vec<(char, Option<String>)> = Vec::new();
    let mut lookalikes = Vec::new();
    let mut other_letters = false;
    for c in id.chars() {
        if invisible(c) {
            found.push((c, None));
        } else if let Some(like) = ascii_lookalike(c) {
            lookalikes.push((c, like));
        } else if !c.is_ascii() && c.is_alphanumeric() {
            other_letters = true;
        }
    }
    // A wholly non-Latin name with some look-alike letters (Cyrillic МАГ-1)
    // is a name in its own script; a mixed one, or one whose every letter
    // looks like a Latin one, is a disguise.
    if !lookalikes.is_empty() && (!other_letters || !id.is_single_script()) {
        found.extend(lookalikes.into_iter().map(|(c, l)| (c, Some(l))));
    }
    let mut seen = Vec::new();
    found.retain(|(c, _)| {
        let new = !seen.contains(c);
        seen.push(*c);
        new
    });
    let n = found.len();
    let described = found
        .into_iter()
        .take(MAX_DESCRIBED)
        .map(|(c, like)| match like {
            None => describe_invisible(c),
            Some(l) => describe_lookalike(c, &l),
        })
        .collect();
    (described, n)
}

/// An identifier as a message can quote it: invisible characters (which
/// could reorder or hide the message around them) written as `<U+XXXX>`.
pub fn shown(id: &str) -> String {
    if id.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return id.to_string();
    }
    let mut s = String::with_capacity(id.len());
    for c in id.chars() {
        if invisible(c) {
            s.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            s.push(c);
        }
    }
    s
}

/// The message of a `confusable-identifier` warning on an identifier, if any:
/// `what` says what it is (e.g. "sku").
pub fn message(what: &str, id: &str) -> Option<String> {
    let (described, n) = suspicious(id);
    if n == 0 {
        return None;
    }
    let more = if n > described.len() {
        format!(" and {} more", n - described.len())
    } else {
        String::new()
    };
    Some(format!(
        "{what} `{}` contains {}{more}: it does not read as what it is, so a reader (or a search) can take it for another name; retype it in plain characters",
        shown(id),
        described.join(", ")
    ))
}

/// Whether an identifier is worth a skeleton comparison: plain ASCII names
/// are only compared with the others, never flagged among themselves
/// (`l1` and `ll` are distinct names by choice).
pub fn needs_skeleton(id: &str) -> bool {
    !id.is_ascii()
}

/// The TR39 skeleton of an identifier: names that look the same have the same one.
pub fn skeleton(id: &str) -> String {
    unicode_security::skeleton(id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_invisible_and_look_alike_characters() {
        let m = message("sku", "MAG\u{202E}-1").unwrap();
        assert!(m.contains("U+202E RIGHT-TO-LEFT OVERRIDE"), "{m}");
        assert!(m.starts_with("sku `MAG<U+202E>-1` contains"), "{m}");
        let m = message("sku", "MAG\u{200B}1").unwrap();
        assert!(m.contains("U+200B ZERO WIDTH SPACE"), "{m}");
        let m = message("sku", "NDFEB-\u{0421}1").unwrap();
        assert!(
            m.contains("Cyrillic \u{0421} U+0421 looks like Latin C"),
            "{m}"
        );
        // Alone with digits and punctuation, a Cyrillic С is still a disguise.
        assert!(message("sku", "\u{0421}-100").is_some());
        // Fullwidth letters look like ASCII.
        assert!(message("sku", "\u{FF21}BC").is_some());
        assert!(
            message("sku", "a\u{00A0}b")
                .unwrap()
                .contains("NO-BREAK SPACE")
        );
        assert!(message("sku", "a\tb").unwrap().contains("U+0009"));
        // Three described at most, the rest counted.
        let m = message("sku", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}").unwrap();
        assert!(m.contains("and 2 more"), "{m}");
    }

    #[test]
    fn plain_and_wholly_foreign_names_pass() {
        for ok in [
            "NDFEB-DY-10",
            "GL 2026/0042",
            "МАГНИТ-1",
            "钕铁硼-01",
            "MÜLLER-3",
            "",
        ] {
            assert_eq!(message("sku", ok), None, "{ok}");
        }
    }

    #[test]
    fn skeletons_equate_look_alikes() {
        assert_eq!(skeleton("\u{0421}AM-1"), skeleton("CAM-1"));
        assert_eq!(skeleton("CAM\u{200B}-1"), skeleton("CAM-1"));
        assert_ne!(skeleton("CAM-2"), skeleton("CAM-1"));
        assert!(needs_skeleton("\u{0421}AM-1") && !needs_skeleton("CAM-1"));
    }
}
