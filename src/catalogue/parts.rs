//! `integrates` entries that name no part (contract §4): a placeholder for
//! nothing, or the magnets themselves. The parser reports them as
//! `invalid-value`; the exclusions count them as nothing.

/// An `integrates` entry that is not the name of an integrated part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAPart {
    /// Empty, or a word for "nothing" (`none`, `n/a`, `-`, `null`, `no`, `无`).
    Placeholder,
    /// The magnets themselves: the controlled item, not a part integrated
    /// with it (they belong in `components`).
    Magnet,
}

impl NotAPart {
    /// Why the entry is not a part name, for the `invalid-value` message.
    pub fn message(self, value: &str) -> String {
        match self {
            NotAPart::Placeholder => format!(
                "`{value}` is not a part name: an `integrates` entry names a part integrated into the assembly (e.g. \"shaft\", \"bearing\"); to say it integrates nothing, write `integrates = []` or leave the key out. The entry counts as nothing (docs/format.md §4, §5)"
            ),
            NotAPart::Magnet => format!(
                "`{value}` is not an integrated part: the magnets are the controlled item itself and belong in `components`; it counts as nothing, so a rotor or stator whose magnets are loose stays controlled (docs/format.md §5)"
            ),
        }
    }
}

/// Whether an `integrates` entry names no part: a placeholder for nothing,
/// or the magnets themselves (contract §4: an unknown part name counts,
/// these do not).
pub fn not_a_part(value: &str) -> Option<NotAPart> {
    const NOTHING: &[&str] = &[
        "", "none", "n/a", "n.a.", "na", "-", "--", "—", "–", "/", "null", "nil", "no", "nothing",
        "无", "没有", "無",
    ];
    const MAGNETS: &[&str] = &[
        "magnet",
        "magnets",
        "magnetic steel",
        "磁体",
        "磁铁",
        "磁钢",
    ];
    let v = value.trim().to_lowercase();
    if NOTHING.contains(&v.as_str()) {
        Some(NotAPart::Placeholder)
    } else if MAGNETS.contains(&v.as_str()) {
        Some(NotAPart::Magnet)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_magnets_are_not_parts() {
        for v in [
            "", "  ", "none", "None", "N/A", "n/a", "-", "null", "no", "无", " NONE ",
        ] {
            assert_eq!(not_a_part(v), Some(NotAPart::Placeholder), "{v:?}");
        }
        for v in ["magnet", "Magnets", "磁钢"] {
            assert_eq!(not_a_part(v), Some(NotAPart::Magnet), "{v:?}");
        }
        for v in ["shaft", "rivet", "magnet holder", "nonex"] {
            assert_eq!(not_a_part(v), None, "{v:?}");
        }
    }
}
