//! Chemistry the engine needs: the periodic table (symbol, name, standard
//! atomic weight) and a parser for the formulas catalogue authors write as
//! composition keys (`Dy2O3`, `Sm2Co17`, `Tb0.3Dy0.7Fe2`, `Ca(OH)2`,
//! `CuSO4·5H2O`). A formula's mass is split between its elements by atomic
//! weight, so a composition entry contributes a mass percent to each element.

/// `(symbol, English name, standard atomic weight)` for elements 1–118.
pub const ELEMENTS: [(&str, &str, f64); 118] = [
    ("H", "hydrogen", 1.008),
    ("He", "helium", 4.0026),
    ("Li", "lithium", 6.94),
    ("Be", "beryllium", 9.0122),
    ("B", "boron", 10.81),
    ("C", "carbon", 12.011),
    ("N", "nitrogen", 14.007),
    ("O", "oxygen", 15.999),
    ("F", "fluorine", 18.998),
    ("Ne", "neon", 20.180),
    ("Na", "sodium", 22.990),
    ("Mg", "magnesium", 24.305),
    ("Al", "aluminium", 26.982),
    ("Si", "silicon", 28.085),
    ("P", "phosphorus", 30.974),
    ("S", "sulfur", 32.06),
    ("Cl", "chlorine", 35.45),
    ("Ar", "argon", 39.948),
    ("K", "potassium", 39.098),
    ("Ca", "calcium", 40.078),
    ("Sc", "scandium", 44.956),
    ("Ti", "titanium", 47.867),
    ("V", "vanadium", 50.942),
    ("Cr", "chromium", 51.996),
    ("Mn", "manganese", 54.938),
    ("Fe", "iron", 55.845),
    ("Co", "cobalt", 58.933),
    ("Ni", "nickel", 58.693),
    ("Cu", "copper", 63.546),
    ("Zn", "zinc", 65.38),
    ("Ga", "gallium", 69.723),
    ("Ge", "germanium", 72.630),
    ("As", "arsenic", 74.922),
    ("Se", "selenium", 78.971),
    ("Br", "bromine", 79.904),
    ("Kr", "krypton", 83.798),
    ("Rb", "rubidium", 85.468),
    ("Sr", "strontium", 87.62),
    ("Y", "yttrium", 88.906),
    ("Zr", "zirconium", 91.224),
    ("Nb", "niobium", 92.906),
    ("Mo", "molybdenum", 95.95),
    ("Tc", "technetium", 98.0),
    ("Ru", "ruthenium", 101.07),
    ("Rh", "rhodium", 102.91),
    ("Pd", "palladium", 106.42),
    ("Ag", "silver", 107.87),
    ("Cd", "cadmium", 112.41),
    ("In", "indium", 114.82),
    ("Sn", "tin", 118.71),
    ("Sb", "antimony", 121.76),
    ("Te", "tellurium", 127.60),
    ("I", "iodine", 126.90),
    ("Xe", "xenon", 131.29),
    ("Cs", "caesium", 132.91),
    ("Ba", "barium", 137.33),
    ("La", "lanthanum", 138.91),
    ("Ce", "cerium", 140.12),
    ("Pr", "praseodymium", 140.91),
    ("Nd", "neodymium", 144.24),
    ("Pm", "promethium", 145.0),
    ("Sm", "samarium", 150.36),
    ("Eu", "europium", 151.96),
    ("Gd", "gadolinium", 157.25),
    ("Tb", "terbium", 158.93),
    ("Dy", "dysprosium", 162.50),
    ("Ho", "holmium", 164.93),
    ("Er", "erbium", 167.26),
    ("Tm", "thulium", 168.93),
    ("Yb", "ytterbium", 173.05),
    ("Lu", "lutetium", 174.97),
    ("Hf", "hafnium", 178.49),
    ("Ta", "tantalum", 180.95),
    ("W", "tungsten", 183.84),
    ("Re", "rhenium", 186.21),
    ("Os", "osmium", 190.23),
    ("Ir", "iridium", 192.22),
    ("Pt", "platinum", 195.08),
    ("Au", "gold", 196.97),
    ("Hg", "mercury", 200.59),
    ("Tl", "thallium", 204.38),
    ("Pb", "lead", 207.2),
    ("Bi", "bismuth", 208.98),
    ("Po", "polonium", 209.0),
    ("At", "astatine", 210.0),
    ("Rn", "radon", 222.0),
    ("Fr", "francium", 223.0),
    ("Ra", "radium", 226.0),
    ("Ac", "actinium", 227.0),
    ("Th", "thorium", 232.04),
    ("Pa", "protactinium", 231.04),
    ("U", "uranium", 238.03),
    ("Np", "neptunium", 237.0),
    ("Pu", "plutonium", 244.0),
    ("Am", "americium", 243.0),
    ("Cm", "curium", 247.0),
    ("Bk", "berkelium", 247.0),
    ("Cf", "californium", 251.0),
    ("Es", "einsteinium", 252.0),
    ("Fm", "fermium", 257.0),
    ("Md", "mendelevium", 258.0),
    ("No", "nobelium", 259.0),
    ("Lr", "lawrencium", 262.0),
    ("Rf", "rutherfordium", 267.0),
    ("Db", "dubnium", 268.0),
    ("Sg", "seaborgium", 269.0),
    ("Bh", "bohrium", 270.0),
    ("Hs", "hassium", 269.0),
    ("Mt", "meitnerium", 278.0),
    ("Ds", "darmstadtium", 281.0),
    ("Rg", "roentgenium", 282.0),
    ("Cn", "copernicium", 285.0),
    ("Nh", "nihonium", 286.0),
    ("Fl", "flerovium", 289.0),
    ("Mc", "moscovium", 290.0),
    ("Lv", "livermorium", 293.0),
    ("Ts", "tennessine", 294.0),
    ("Og", "oganesson", 294.0),
];

/// An element, as its index in [`ELEMENTS`] (atomic number − 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Element(pub u8);

impl Element {
    pub fn from_symbol(sym: &str) -> Option<Element> {
        ELEMENTS
            .iter()
            .position(|(s, _, _)| *s == sym)
            .map(|i| Element(i as u8))
    }
    pub fn symbol(self) -> &'static str {
        ELEMENTS[self.0 as usize].0
    }
    pub fn name(self) -> &'static str {
        ELEMENTS[self.0 as usize].1
    }
    pub fn weight(self) -> f64 {
        ELEMENTS[self.0 as usize].2
    }
    pub fn atomic_number(self) -> u8 {
        self.0 + 1
    }
}

/// Mass shares of the elements of a formula; the shares sum to 1.
pub type MassShares = Vec<(Element, f64)>;

/// Why a formula could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaError {
    pub message: String,
}

const MAX_FORMULA_LEN: usize = 256;
const MAX_DEPTH: usize = 16;

/// Parses a composition key: an element symbol or a chemical formula, into
/// the mass share of each element.
pub fn parse_formula(src: &str) -> Result<MassShares, FormulaError> {
    let err = |m: String| Err(FormulaError { message: m });
    if src.is_empty() {
        return err("empty formula".into());
    }
    if src.len() > MAX_FORMULA_LEN {
        return err(format!("formula longer than {MAX_FORMULA_LEN} characters"));
    }
    let mut atoms: Vec<(Element, f64)> = Vec::new();
    // Hydrates and adducts: `CuSO4·5H2O`, `CuSO4.5H2O` is ambiguous with
    // decimal counts, so only `·` and `*` separate parts.
    for part in src.split(['·', '*']) {
        let (mult, rest) = leading_number(part);
        let mult = mult.unwrap_or(1.0);
        let mut p = Parser {
            s: rest.as_bytes(),
            i: 0,
            depth: 0,
            src,
        };
        let group = p.group()?;
        if p.i != p.s.len() {
            let c = rest[p.i..].chars().next().unwrap_or(' ');
            return err(format!("unexpected `{c}` in formula `{src}`"));
        }
        for (e, n) in group {
            atoms.push((e, n * mult));
        }
    }
    let mut merged: Vec<(Element, f64)> = Vec::new();
    for (e, n) in atoms {
        match merged.iter_mut().find(|(m, _)| *m == e) {
            Some(slot) => slot.1 += n,
            None => merged.push((e, n)),
        }
    }
    let total: f64 = merged.iter().map(|(e, n)| e.weight() * n).sum();
    if merged.is_empty() || !total.is_finite() || total <= 0.0 {
        return err(format!("formula `{src}` has no atoms"));
    }
    Ok(merged
        .into_iter()
        .map(|(e, n)| (e, e.weight() * n / total))
        .collect())
}

fn leading_number(s: &str) -> (Option<f64>, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    if end == 0 {
        return (None, s);
    }
    (s[..end].parse().ok(), &s[end..])
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn fail<T>(&self, m: String) -> Result<T, FormulaError> {
        Err(FormulaError { message: m })
    }

    fn group(&mut self) -> Result<Vec<(Element, f64)>, FormulaError> {
        let mut out = Vec::new();
        while self.i < self.s.len() {
            let c = self.s[self.i];
            if c == b'(' || c == b'[' {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return self.fail(format!(
                        "brackets nested deeper than {MAX_DEPTH} in `{}`",
                        self.src
                    ));
                }
                let close = if c == b'(' { b')' } else { b']' };
                self.i += 1;
                let inner = self.group()?;
                if self.s.get(self.i) != Some(&close) {
                    return self.fail(format!(
                        "unclosed `{}` in formula `{}`",
                        c as char, self.src
                    ));
                }
                self.i += 1;
                self.depth -= 1;
                let n = self.count()?;
                out.extend(inner.into_iter().map(|(e, k)| (e, k * n)));
            } else if c.is_ascii_uppercase() {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len() && self.s[self.i].is_ascii_lowercase() {
                    self.i += 1;
                }
                let sym = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                let Some(e) = Element::from_symbol(sym) else {
                    return self.fail(unknown_symbol_message(sym, self.src));
                };
                let n = self.count()?;
                out.push((e, n));
            } else {
                break;
            }
        }
        if out.is_empty() {
            return self.fail(format!(
                "`{}` is not an element symbol or chemical formula",
                self.src
            ));
        }
        Ok(out)
    }

    fn count(&mut self) -> Result<f64, FormulaError> {
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.') {
            self.i += 1;
        }
        if start == self.i {
            return Ok(1.0);
        }
        let txt = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        match txt.parse::<f64>() {
            Ok(n) if n > 0.0 && n.is_finite() => Ok(n),
            _ => self.fail(format!("bad atom count `{txt}` in formula `{}`", self.src)),
        }
    }
}

fn unknown_symbol_message(sym: &str, src: &str) -> String {
    let hint = ELEMENTS
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(src) || s.eq_ignore_ascii_case(sym))
        .map(|(s, _, _)| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    if sym == src || !hint.is_empty() && src.len() <= 2 {
        format!("`{src}` is not an element symbol{hint}")
    } else {
        format!("`{sym}` in formula `{src}` is not an element symbol{hint}")
    }
}

/// Suggests the element whose symbol or name is nearest to an unknown key.
pub fn suggest_element(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    ELEMENTS
        .iter()
        .find(|(s, n, _)| s.eq_ignore_ascii_case(key) || *n == lower)
        .map(|(s, _, _)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(f: &str, sym: &str) -> f64 {
        let e = Element::from_symbol(sym).unwrap();
        parse_formula(f)
            .unwrap()
            .into_iter()
            .find(|(x, _)| *x == e)
            .map(|(_, s)| s)
            .unwrap_or(0.0)
    }

    #[test]
    fn element_symbols_are_formulas_of_one_element() {
        assert_eq!(
            parse_formula("Dy").unwrap(),
            vec![(Element::from_symbol("Dy").unwrap(), 1.0)]
        );
    }

    #[test]
    fn oxide_mass_shares_follow_atomic_weights() {
        // Dy2O3: 2×162.50 / (2×162.50 + 3×15.999) = 0.8713
        assert!((share("Dy2O3", "Dy") - 0.8713).abs() < 1e-3);
        assert!((share("Dy2O3", "O") - 0.1287).abs() < 1e-3);
    }

    #[test]
    fn intermetallics_garnets_and_decimal_counts() {
        assert!(share("Sm2Co17", "Sm") > 0.2 && share("Sm2Co17", "Co") > 0.7);
        assert!(share("Y3Al5O12", "Y") > 0.4);
        let terfenol = parse_formula("Tb0.3Dy0.7Fe2").unwrap();
        assert_eq!(terfenol.len(), 3);
    }

    #[test]
    fn brackets_and_hydrates() {
        assert!(share("Ca(OH)2", "H") > 0.0);
        assert!(share("CuSO4·5H2O", "H") > 0.0);
        assert!(share("Nd2(SO4)3", "S") > 0.0);
    }

    #[test]
    fn bad_formulas_are_clear_errors() {
        assert!(
            parse_formula("DY")
                .unwrap_err()
                .message
                .contains("did you mean `Dy`")
        );
        assert!(parse_formula("Xx2O3").is_err());
        assert!(
            parse_formula("Ca(OH")
                .unwrap_err()
                .message
                .contains("unclosed")
        );
        assert!(parse_formula("dy").is_err());
        assert!(parse_formula("Y2O3:Eu").is_err());
        assert!(parse_formula(&"(".repeat(100)).is_err());
        assert!(parse_formula("").is_err());
        assert!(parse_formula("Fe0").is_err());
    }
}
