//! Party names compared as a screening tool compares them: the same name
//! written in another case, width, punctuation, spacing, with or without
//! diacritics or its legal form is the same name (contract §4b).
//!
//! The steps, in order (each has a golden test in `tests/parties.rs`):
//!
//! 1. Unicode compatibility decomposition (NFKD): full-width `ＡＢＣ` and
//!    `（）` become `ABC` and `()`, ligatures `ﬁ` become `fi`.
//! 2. Combining diacritical marks (U+0300–U+036F) are dropped: `Société`
//!    → `Societe`. Other combining marks (the kana voicing marks) are kept
//!    and composed again (NFC), so `ガ` stays `ガ`.
//! 3. Lower case; `ß` → `ss`, `æ` → `ae`, `œ` → `oe`, `ø` → `o`, `ł` → `l`,
//!    `đ` → `d` (letters that carry no combining mark to drop).
//! 4. `&` is the word `and`; every other character that is not a letter or
//!    digit (punctuation, symbols, the middle dot of `洛克希德·马丁`) separates words.
//! 5. Words are split at whitespace; a run of Han, kana or Hangul is split off
//!    from the Latin words around it (`IHI宇航株式会社` → `ihi`, `宇航株式会社`).
//! 6. Legal-form words are removed: Latin ones as whole words (`inc`, `llc`,
//!    `ltd`, `co`, `corp`, `gmbh`, `ag`, `sa`, `kk`, `plc`, …, and the
//!    spelled-out `limited`, `company`, `corporation`, `incorporated`), CJK
//!    ones as suffixes or prefixes of a CJK word (`股份有限公司`, `有限公司`,
//!    `集团`, `公司`, `株式会社`, …, simplified and traditional); and the
//!    words `the` and `and`.
//!
//! What remains, joined by single spaces, is the name's key: two names with
//! the same key are the same name.

use unicode_normalization::UnicodeNormalization;

/// Latin legal-form words (after lower-casing and punctuation removal: `Co.`
/// is `co`, `S.A.` is `s a`, handled as the pair below).
const LEGAL_WORDS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "kk",
    "plc",
    "pte",
    "pty",
    "pvt",
    "bhd",
    "sdn",
    "ulc",
];

/// Words that carry nothing of a name.
const FILLER_WORDS: &[&str] = &["the", "and"];

/// CJK legal forms, longest first (simplified, then traditional where it differs).
const CJK_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "集团有限公司",
    "集團有限公司",
    "集团公司",
    "集團公司",
    "有限公司",
    "株式会社",
    "株式會社",
    "有限会社",
    "有限會社",
    "合同会社",
    "合同會社",
    "集团",
    "集團",
    "公司",
];

/// Whether `c` is written without spaces between words (Han, kana, Hangul).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // kana
        | 0x3400..=0x4DBF    // Han extension A
        | 0x4E00..=0x9FFF    // Han
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // Han compatibility
        | 0x20000..=0x3134F) // Han extensions B–G
}

/// A name's normal form: its words and the key they make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalised {
    /// The words, in order, legal forms and fillers removed.
    pub words: Vec<String>,
    /// The words joined by single spaces.
    pub key: String,
}

impl Normalised {
    pub fn is_empty(&self) -> bool {
        self.key.is_empty()
    }
    /// Characters in the key, spaces left out.
    pub fn len(&self) -> usize {
        self.key.chars().filter(|c| *c != ' ').count()
    }
    /// The name is written in a CJK script (its key holds a Han, kana or Hangul character).
    pub fn is_cjk(&self) -> bool {
        self.key.chars().any(is_cjk)
    }
}

/// The normal form of a name.
pub fn normalise(name: &str) -> Normalised {
    // Steps 1–3.
    let mut folded = String::with_capacity(name.len() + 8);
    // ASCII text is its own NFKD and NFC: skip the decomposition.
    let chars: Box<dyn Iterator<Item = char> + '_> = if name.is_ascii() {
        Box::new(name.chars())
    } else {
        Box::new(
            name.nfkd()
                .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
                .nfc(),
        )
    };
    for c in chars {
        match c {
            'ß' | 'ẞ' => folded.push_str("ss"),
            'æ' | 'Æ' => folded.push_str("ae"),
            'œ' | 'Œ' => folded.push_str("oe"),
            'ø' | 'Ø' => folded.push('o'),
            'ł' | 'Ł' => folded.push('l'),
            'đ' | 'Đ' => folded.push('d'),
            '&' => folded.push_str(" and "),
            c if c.is_alphanumeric() => folded.extend(c.to_lowercase()),
            _ => folded.push(' '),
        }
    }
    // Step 5: split at spaces and between CJK and other characters.
    let mut raw: Vec<String> = Vec::new();
    for w in folded.split_whitespace() {
        let mut cur = String::new();
        let mut cur_cjk = None;
        for c in w.chars() {
            let k = is_cjk(c);
            if cur_cjk.is_some_and(|x| x != k) {
                raw.push(std::mem::take(&mut cur));
            }
            cur_cjk = Some(k);
            cur.push(c);
        }
        if !cur.is_empty() {
            raw.push(cur);
        }
    }
    // Step 6. `s a`, `s p a`, `b v`, `n v`: dotted forms split into letters.
    let mut words: Vec<String> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let w = &raw[i];
        let pair = raw.get(i + 1).map(|n| format!("{w}{n}"));
        let triple = raw
            .get(i + 2)
            .zip(pair.as_ref())
            .map(|(n, p)| format!("{p}{n}"));
        let single_letters = |k: usize| raw[i..i + k].iter().all(|x| x.chars().count() == 1);
        if i + 2 < raw.len()
            && single_letters(3)
            && triple.as_deref().is_some_and(|t| LEGAL_WORDS.contains(&t))
        {
            i += 3;
            continue;
        }
        if i + 1 < raw.len()
            && single_letters(2)
            && pair.as_deref().is_some_and(|p| LEGAL_WORDS.contains(&p))
        {
            i += 2;
            continue;
        }
        if LEGAL_WORDS.contains(&w.as_str()) || FILLER_WORDS.contains(&w.as_str()) {
            i += 1;
            continue;
        }
        if w.chars().next().is_some_and(is_cjk) {
            let stripped = strip_cjk_forms(w);
            if !stripped.is_empty() {
                words.push(stripped.to_owned());
            }
        } else {
            words.push(w.clone());
        }
        i += 1;
    }
    // A name that is nothing but a legal form keeps its words: `Company Ltd`
    // is not the empty name.
    if words.is_empty() && !raw.is_empty() {
        words = raw;
    }
    let key = words.join(" ");
    Normalised { words, key }
}

/// A CJK word without its legal-form suffixes and prefixes.
fn strip_cjk_forms(mut w: &str) -> &str {
    loop {
        let before = w;
        for f in CJK_FORMS {
            if let Some(rest) = w.strip_suffix(f) {
                w = rest;
                break;
            }
        }
        for f in ["株式会社", "株式會社"] {
            if let Some(rest) = w.strip_prefix(f) {
                w = rest;
            }
        }
        if w == before {
            return w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        normalise(s).key
    }

    #[test]
    fn each_rule_folds_to_the_same_key() {
        assert_eq!(key("ACME Widgets"), key("acme widgets"));
        assert_eq!(key("ＡＣＭＥ　Ｗｉｄｇｅｔｓ"), key("ACME Widgets"));
        assert_eq!(key("A.C.M.E.-Widgets!"), key("a c m e widgets"));
        assert_eq!(key("  ACME \t Widgets "), "acme widgets");
        assert_eq!(key("Société Générale"), "societe generale");
        assert_eq!(key("Straße"), "strasse");
        assert_eq!(key("ACME Widgets, Inc."), "acme widgets");
        assert_eq!(key("ACME Widgets Co., Ltd."), "acme widgets");
        assert_eq!(key("ACME Widgets GmbH"), "acme widgets");
        assert_eq!(key("ACME Widgets S.A."), "acme widgets");
        assert_eq!(key("The ACME & Widgets Company"), "acme widgets");
        assert_eq!(key("阿克米有限公司"), "阿克米");
        assert_eq!(key("阿克米股份有限公司"), "阿克米");
        assert_eq!(key("阿克米集团"), "阿克米");
        assert_eq!(key("株式会社阿克米"), "阿克米");
        assert_eq!(key("IHI宇航株式會社"), "ihi 宇航");
        assert_eq!(key("洛克希德·马丁公司"), "洛克希德 马丁");
    }

    #[test]
    fn kana_voicing_is_kept() {
        assert_ne!(key("ガス"), key("カス"));
    }

    #[test]
    fn a_name_that_is_only_a_legal_form_keeps_its_words() {
        assert_eq!(key("Company Ltd"), "company ltd");
        assert_eq!(key("..."), "");
    }
}
