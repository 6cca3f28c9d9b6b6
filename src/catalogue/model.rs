//! The parsed form of a catalogue file: products, licences and the
//! `[catalogue]` table, every value with its source span.

use crate::chem::Element;
use crate::diagnostic::Diagnostic;
use crate::text::Span;
pub use crate::vocab::Name;
use jiff::civil::Date;

/// Declares a closed set of string values (a spec enum) with its spelling.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal : $doc:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            /// One-line meaning, for hovers and completion.
            pub fn describe(self) -> &'static str {
                match self { $($name::$variant => $doc),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// What a product physically is: a word of the pack's vocabulary
/// (`[[form]]`; docs/rule-pack.md, Vocabulary).
pub type Form = Name;

string_enum!(
    /// What a technology is about (Ann. 62/2025 §1: 1E902.a areas, 1E902.b
    /// production-line services).
    TechnologyArea {
        Mining = "mining": "rare-earth mining (稀土开采)",
        Separation = "separation": "smelting and separation (冶炼分离)",
        MetalSmelting = "metal-smelting": "metal smelting (金属冶炼)",
        MagnetManufacturing = "magnet-manufacturing": "magnet manufacturing: SmCo, NdFeB, Ce magnets (磁材制造)",
        Recycling = "recycling": "rare-earth secondary-resource recycling (稀土二次资源回收利用)",
        ProductionLineServices = "production-line-services": "assembly, commissioning, maintenance, repair, upgrade of production lines for the areas above (1E902.b)",
        Other = "other": "none of the areas above",
    }
);

string_enum!(
    /// How magnets sit in a rotor or stator assembly.
    Mounting {
        Embedded = "embedded": "magnets embedded in the iron core or steel plate (fixed assembly)",
        BuiltIn = "built-in": "magnets built into the iron core or steel plate (fixed assembly)",
        SurfaceMounted = "surface-mounted": "magnets surface-mounted on the iron core or steel plate (fixed assembly)",
        Loose = "loose": "magnets not fixed to the assembly",
    }
);

string_enum!(
    /// Parts integrated into an assembly, by the names the FAQ gives. The
    /// FAQ's lists end in "等零部件" (and other parts): `integrates` accepts
    /// any name, these are the known ones.
    Integrate {
        Shaft = "shaft": "a shaft",
        Bearing = "bearing": "a bearing",
        Sleeve = "sleeve": "an outer sleeve",
        Fan = "fan": "a fan",
        Gear = "gear": "a gear",
        BalancePlate = "balance-plate": "a dynamic-balance plate",
        Encoder = "encoder": "an encoder",
        Chip = "chip": "a chip",
        CircuitBoard = "circuit-board": "a circuit board",
        Bracket = "bracket": "a bracket",
        Pin = "pin": "a pin",
    }
);

/// Kind of transfer (`[[transfer]]` of the pack).
pub type Transfer = Name;

/// What an export is for (`[[purpose]]` of the pack).
pub type Purpose = Name;

/// Licence kinds (`[[licence_type]]` of the pack).
pub type LicenceType = Name;

string_enum!(
    /// Units of a quantity (docs/format.md §3, §4a): mass or pieces.
    Unit {
        Kg = "kg": "kilograms",
        G = "g": "grams",
        T = "t": "tonnes (1000 kg)",
        Pcs = "pcs": "pieces",
    }
);

impl Unit {
    /// Grams in one unit of mass; None for pieces.
    pub fn grams(self) -> Option<f64> {
        match self {
            Unit::G => Some(1.0),
            Unit::Kg => Some(1_000.0),
            Unit::T => Some(1_000_000.0),
            Unit::Pcs => None,
        }
    }
}

/// An amount (`quantity` with `unit`, or `value` with `currency`): v2
/// licence limits, and the amount of an export (docs/format.md §3, §4a).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Amounts {
    pub quantity: Option<Field<f64>>,
    pub unit: Option<Field<Unit>>,
    pub value: Option<Field<f64>>,
    /// ISO 4217 code, upper case.
    pub currency: Option<Field<String>>,
}

impl Amounts {
    /// The quantity with its unit, when both are given.
    pub fn quantity(&self) -> Option<(f64, Unit)> {
        Some((self.quantity.as_ref()?.value, self.unit.as_ref()?.value))
    }
    /// The value with its currency, when both are given.
    pub fn value(&self) -> Option<(f64, &str)> {
        Some((
            self.value.as_ref()?.value,
            self.currency.as_ref()?.value.as_str(),
        ))
    }
    pub fn is_empty(&self) -> bool {
        self.quantity.is_none()
            && self.unit.is_none()
            && self.value.is_none()
            && self.currency.is_none()
    }
}

/// A value with the span of its value and of its key.
#[derive(Clone, Debug, PartialEq)]
pub struct Field<T> {
    pub value: T,
    pub span: Span,
    pub key: Span,
}

/// One `composition` entry: `key = percent`.
#[derive(Clone, Debug, PartialEq)]
pub struct CompositionEntry {
    /// The element or formula as written (boxed: no spare capacity).
    pub key: Box<str>,
    pub key_span: Span,
    pub percent: f64,
    pub value_span: Span,
    /// Mass share of each element of the key's formula (boxed: no spare
    /// capacity, a million products hold one or more each).
    pub shares: Box<[(Element, f64)]>,
}

/// A product's composition.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Composition {
    pub entries: Vec<CompositionEntry>,
    pub span: Span,
    pub key: Span,
}

impl Composition {
    /// Mass percent of every element, summed over the entries, largest first.
    pub fn element_percents(&self) -> Vec<(Element, f64)> {
        let mut out: Vec<(Element, f64)> = Vec::new();
        for e in &self.entries {
            for &(el, share) in &e.shares {
                let p = e.percent * share;
                match out.iter_mut().find(|(x, _)| *x == el) {
                    Some(slot) => slot.1 += p,
                    None => out.push((el, p)),
                }
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    pub fn total(&self) -> f64 {
        self.entries.iter().map(|e| e.percent).sum()
    }
}

/// The `[catalogue]` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CatalogueTable {
    pub header: Span,
    pub span: Span,
    pub name: Option<Field<String>>,
    pub exporter: Option<Field<String>>,
    pub as_of: Option<Field<Date>>,
    pub rules: Option<Field<String>>,
}

/// A `[[licence]]` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Licence {
    pub header: Span,
    pub span: Span,
    pub id: Option<Field<String>>,
    pub kind: Option<Field<LicenceType>>,
    pub issued: Option<Field<Date>>,
    pub expires: Option<Field<Date>>,
    pub items: Option<Field<Vec<Field<String>>>>,
    pub end_users: Option<Field<Vec<Field<String>>>>,
    pub destinations: Option<Field<Vec<Field<String>>>>,
    pub purposes: Option<Field<Vec<Field<Purpose>>>>,
    /// v2 limits: at most this quantity and value over all its exports.
    pub limits: Amounts,
    /// The table has a syntax error: its values may be incomplete.
    pub broken: bool,
    /// Keys that were present but whose value was invalid (reported
    /// already): a limit that could not be read is not "no limit".
    pub invalid: Vec<&'static str>,
}

impl Licence {
    pub fn id_str(&self) -> Option<&str> {
        self.id.as_ref().map(|f| f.value.as_str())
    }
}

/// A `[[product]]` table.
///
/// The fields most products have are inline; the rarely set ones are in a
/// [`ProductMore`] allocated only when one of them is given (a product of a
/// large catalogue is a few hundred bytes, not a thousand). `Product` derefs
/// to its `ProductMore` (an empty one when there is none), so readers write
/// `p.made_in` either way; writers go through [`Product::more_mut`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Product {
    pub header: Span,
    pub span: Span,
    pub sku: Option<Field<String>>,
    pub name: Option<Field<String>>,
    pub form: Option<Field<Form>>,
    pub composition: Option<Composition>,
    pub components: Option<Field<Vec<Field<String>>>>,
    pub mounting: Option<Field<Mounting>>,
    pub moulded: Option<Field<bool>>,
    pub calcined: Option<Field<bool>>,
    pub destination: Option<Field<String>>,
    pub end_user: Option<Field<String>>,
    pub licence: Option<Field<String>>,
    pub ship_date: Option<Field<Date>>,
    /// The rarely set fields; read them through `Deref` (`p.made_in`),
    /// write them through [`Product::more_mut`].
    pub more: More,
    /// v2 export evidence and amount (docs/format.md §4): boxed, most
    /// products of a large catalogue have none.
    pub export: Option<Box<ExportFacts>>,
    /// The table has a syntax error: its values may be incomplete.
    pub broken: bool,
    /// Keys that were present but whose value was invalid (reported already).
    pub invalid: Invalid,
}

/// The keys of a table whose value was invalid, in one word (none, the
/// usual case, allocates nothing). A word less than a boxed slice keeps a
/// `Product` at 448 bytes: mimalloc's size class for 449 to 512 is 512, so
/// a million boxed products take 64 MB less (`a_product_stays_small`).
#[derive(Clone, Debug, Default, PartialEq)]
#[allow(clippy::box_collection)] // the box is the point: one word where a Vec takes three
pub struct Invalid(Option<Box<Vec<&'static str>>>);

impl std::ops::Deref for Invalid {
    type Target = [&'static str];
    fn deref(&self) -> &[&'static str] {
        self.0.as_deref().map_or(&[], |v| v.as_slice())
    }
}

impl From<Vec<&'static str>> for Invalid {
    fn from(keys: Vec<&'static str>) -> Self {
        Invalid((!keys.is_empty()).then(|| Box::new(keys)))
    }
}

impl Invalid {
    /// The keys, to add to.
    pub fn into_vec(self) -> Vec<&'static str> {
        self.0.map_or_else(Vec::new, |b| *b)
    }
}

/// The fields of a `[[product]]` few products set (the extraterritorial
/// facts of v1, codes, transfer and purpose, reagents, technologies).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProductMore {
    /// Part names: known ones (`Integrate`) or any other (the list is open).
    pub integrates: Option<Field<Vec<Field<String>>>>,
    pub category: Option<Field<String>>,
    pub hs_code: Option<Field<String>>,
    pub control_code: Option<Field<String>>,
    pub transfer: Option<Field<Transfer>>,
    pub purpose: Option<Field<Purpose>>,
    /// Where the product was made (ISO alpha-2); absent: not stated.
    pub made_in: Option<Field<String>>,
    /// Where this export leaves from (ISO alpha-2); absent: `made_in`, else
    /// China. Another country: an export by an operator abroad (Ann. 61/2025).
    pub exported_from: Option<Field<String>>,
    /// The item itself is of Chinese origin.
    pub cn_origin: Option<Field<bool>>,
    /// Percent of the product's value that is Chinese-origin Annex 1 Part I
    /// material (Ann. 61/2025 §1(1)).
    pub cn_content_value: Option<Field<f64>>,
    /// Produced using Chinese-origin rare-earth technology (Ann. 61/2025 §1(2)).
    pub cn_technology: Option<Field<bool>>,
    /// CAS registry numbers of the substance(s).
    pub cas: Option<Field<Vec<Field<String>>>>,
    /// Collector classes a flotation reagent contains (`hydroxamic-acid`,
    /// `phosphate-ester`, any other name); `[]`: none.
    pub collectors: Option<Field<Vec<Field<String>>>>,
    /// What a technology is about.
    pub technology_area: Option<Field<Vec<Field<TechnologyArea>>>>,
}

/// No rarely set field given: what a product without a `ProductMore` reads.
static NO_MORE: ProductMore = ProductMore {
    integrates: None,
    category: None,
    hs_code: None,
    control_code: None,
    transfer: None,
    purpose: None,
    made_in: None,
    exported_from: None,
    cn_origin: None,
    cn_content_value: None,
    cn_technology: None,
    cas: None,
    collectors: None,
    technology_area: None,
};

impl ProductMore {
    pub fn is_empty(&self) -> bool {
        *self == NO_MORE
    }
}

/// A product's [`ProductMore`], when one was needed. Equal when the fields
/// are: an empty box is equal to none.
#[derive(Clone, Debug, Default)]
pub struct More(Option<Box<ProductMore>>);

impl More {
    fn get(&self) -> &ProductMore {
        self.0.as_deref().unwrap_or(&NO_MORE)
    }
}

impl PartialEq for More {
    fn eq(&self, other: &More) -> bool {
        self.get() == other.get()
    }
}

impl std::ops::Deref for Product {
    type Target = ProductMore;
    fn deref(&self) -> &ProductMore {
        self.more.get()
    }
}

impl Product {
    /// The rarely set fields, to write them (allocated on first use).
    pub fn more_mut(&mut self) -> &mut ProductMore {
        self.more.0.get_or_insert_with(Box::default)
    }
    /// Takes `more` as the rarely set fields (kept only when one is set).
    pub fn set_more(&mut self, more: ProductMore) {
        self.more = More((!more.is_empty()).then(|| Box::new(more)));
    }
}

impl Product {
    pub fn sku_str(&self) -> Option<&str> {
        self.sku.as_ref().map(|f| f.value.as_str())
    }
    /// Whether a key was given with an invalid value.
    pub fn was_invalid(&self, key: &str) -> bool {
        self.invalid.contains(&key)
    }
    /// Where the export would leave from if it leaves from abroad:
    /// `exported_from`, else `made_in`, else China. Whether it does is
    /// [`Product::export_from`]'s answer; this one only names the country.
    pub fn export_origin(&self) -> &str {
        self.exported_from
            .as_ref()
            .or(self.made_in.as_ref())
            .map_or("CN", |f| f.value.as_str())
    }
    /// Where the export leaves from, as far as the product says
    /// (docs/format.md §4, `exported_from`): a product made abroad may be
    /// exported from China (then Ann. 18 applies) or from abroad (Ann.
    /// 61/2025), so `made_in` alone does not say which.
    pub fn export_from(&self) -> ExportFrom<'_> {
        match (&self.exported_from, &self.made_in) {
            (Some(f), _) if f.value == "CN" => ExportFrom::China,
            (Some(f), _) => ExportFrom::Abroad(&f.value),
            (None, Some(m)) if m.value != "CN" => ExportFrom::Unstated { made_in: &m.value },
            (None, _) => ExportFrom::China,
        }
    }
    /// An export by an operator outside mainland China (Ann. 61/2025), as
    /// `exported_from` states.
    pub fn exported_from_abroad(&self) -> bool {
        matches!(self.export_from(), ExportFrom::Abroad(_))
    }
}

/// Where an export leaves from ([`Product::export_from`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFrom<'a> {
    /// `exported_from = "CN"`, or neither field says otherwise (the
    /// contract's default: a PRC export).
    China,
    /// `exported_from` names this other country.
    Abroad(&'a str),
    /// No `exported_from`, and `made_in` names this other country: exported
    /// from China or from there, the catalogue does not say.
    Unstated { made_in: &'a str },
}

/// The v2 facts of an export (docs/format.md §4): the parties and papers a
/// licence application needs, and the amount.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportFacts {
    pub importer: Option<Field<String>>,
    pub end_use: Option<Field<String>>,
    pub contract: Option<Field<String>>,
    pub euc: Option<Field<String>>,
    pub amounts: Amounts,
}

impl Product {
    /// The v2 export facts, empty when none are given.
    pub fn export_facts(&self) -> &ExportFacts {
        static NONE: std::sync::OnceLock<ExportFacts> = std::sync::OnceLock::new();
        self.export
            .as_deref()
            .unwrap_or_else(|| NONE.get_or_init(ExportFacts::default))
    }
}

/// A `[[shipment]]` table (docs/format.md §4a): one more export of a
/// product, judged on its own date with the product's facts. Absent keys
/// default to the product's own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shipment {
    pub header: Span,
    pub span: Span,
    pub sku: Option<Field<String>>,
    pub ship_date: Option<Field<Date>>,
    pub destination: Option<Field<String>>,
    pub end_user: Option<Field<String>>,
    pub licence: Option<Field<String>>,
    pub transfer: Option<Field<Transfer>>,
    pub purpose: Option<Field<Purpose>>,
    pub facts: ExportFacts,
    /// The table has a syntax error: its values may be incomplete.
    pub broken: bool,
    /// Keys that were present but whose value was invalid (reported already).
    pub invalid: Vec<&'static str>,
}

impl Shipment {
    pub fn sku_str(&self) -> Option<&str> {
        self.sku.as_ref().map(|f| f.value.as_str())
    }
}

/// A `[[screening]]` table: a reviewed non-match of a party name with a
/// party-list entry (contract §4b). It silences `possible-listed-party` for
/// that pair once `reason`, `by` and `on` are given; never `listed-party`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Screening {
    pub header: Span,
    pub span: Span,
    /// The party name as the catalogue writes it.
    pub party: Option<Field<String>>,
    /// The id of the list entry it was reviewed against.
    pub entry: Option<Field<String>>,
    pub reason: Option<Field<String>>,
    pub by: Option<Field<String>>,
    pub on: Option<Field<Date>>,
}

impl Screening {
    /// Every field is given: the record counts.
    pub fn complete(&self) -> bool {
        let filled =
            |f: &Option<Field<String>>| f.as_ref().is_some_and(|f| !f.value.trim().is_empty());
        filled(&self.party)
            && filled(&self.entry)
            && filled(&self.reason)
            && filled(&self.by)
            && self.on.is_some()
    }
}

impl Shift for Screening {
    fn shift(&mut self, d: isize) {
        self.header.shift(d);
        self.span.shift(d);
        self.party.shift(d);
        self.entry.shift(d);
        self.reason.shift(d);
        self.by.shift(d);
        self.on.shift(d);
    }
}

/// What kind of table a chunk of the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// Keys before the first header.
    Root,
    Catalogue,
    Licence,
    Product,
    /// v2: `[[shipment]]`.
    Shipment,
    /// `[[screening]]`: a reviewed non-match of a party (contract §4b).
    Screening,
    Other,
}

/// A table of the file, in source order, pointing into the vectors below.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRef {
    pub kind: TableKind,
    pub span: Span,
    pub header: Span,
    /// Index into `products` or `licences` for those kinds.
    pub index: usize,
    /// Syntax and value diagnostics found in this table.
    pub diagnostics: Vec<Diagnostic>,
}

/// One parsed catalogue file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalogue {
    pub catalogue: Option<CatalogueTable>,
    pub licences: Vec<Licence>,
    /// Boxed: a parse builds each on its own core and the list only takes the pointers.
    pub products: Vec<Box<Product>>,
    /// v2: `[[shipment]]` tables, in file order.
    pub shipments: Vec<Shipment>,
    /// `[[screening]]` records, in file order.
    pub screenings: Vec<Screening>,
    pub tables: Vec<TableRef>,
    /// Diagnostics about the file as a whole (encoding, a second `[catalogue]`).
    pub diagnostics: Vec<Diagnostic>,
}

impl Catalogue {
    /// Every parse diagnostic: the file's, then each table's, in order.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .chain(self.tables.iter().flat_map(|t| t.diagnostics.iter()))
    }
}

/// Moves every span by a signed byte delta: a table re-used after an edit
/// earlier in the file keeps its parse and only moves.
pub trait Shift {
    fn shift(&mut self, delta: isize);
}

impl Shift for Span {
    fn shift(&mut self, delta: isize) {
        *self = self.moved(delta);
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, delta: isize) {
        if let Some(x) = self {
            x.shift(delta);
        }
    }
}

impl<T: Shift + ?Sized> Shift for Box<T> {
    fn shift(&mut self, delta: isize) {
        (**self).shift(delta);
    }
}

impl<T: Shift> Shift for [T] {
    fn shift(&mut self, delta: isize) {
        for x in self {
            x.shift(delta);
        }
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, delta: isize) {
        self.as_mut_slice().shift(delta);
    }
}

/// Values that carry no span.
macro_rules! no_shift {
    ($($t:ty),*) => { $(impl Shift for $t { fn shift(&mut self, _: isize) {} })* };
}
no_shift!(
    String,
    bool,
    Date,
    Name,
    Mounting,
    Integrate,
    TechnologyArea,
    Unit,
    f64
);

impl<T: Shift> Shift for Field<T> {
    fn shift(&mut self, delta: isize) {
        self.value.shift(delta);
        self.span.shift(delta);
        self.key.shift(delta);
    }
}

impl Shift for CompositionEntry {
    fn shift(&mut self, delta: isize) {
        self.key_span.shift(delta);
        self.value_span.shift(delta);
    }
}

impl Shift for Composition {
    fn shift(&mut self, delta: isize) {
        self.entries.shift(delta);
        self.span.shift(delta);
        self.key.shift(delta);
    }
}

impl Shift for Diagnostic {
    fn shift(&mut self, delta: isize) {
        self.span.shift(delta);
        for r in &mut self.related {
            // Same-file references made while parsing move with the table.
            if r.file == crate::diagnostic::FileRef::Same {
                r.span.shift(delta);
            }
        }
    }
}

impl Shift for Product {
    fn shift(&mut self, d: isize) {
        self.header.shift(d);
        self.span.shift(d);
        self.sku.shift(d);
        self.name.shift(d);
        self.form.shift(d);
        self.composition.shift(d);
        self.components.shift(d);
        self.mounting.shift(d);
        self.moulded.shift(d);
        self.calcined.shift(d);
        self.destination.shift(d);
        self.end_user.shift(d);
        self.licence.shift(d);
        self.ship_date.shift(d);
        self.more.0.shift(d);
        if let Some(e) = self.export.as_mut() {
            e.shift(d);
        }
    }
}

impl Shift for ProductMore {
    fn shift(&mut self, d: isize) {
        self.integrates.shift(d);
        self.category.shift(d);
        self.hs_code.shift(d);
        self.control_code.shift(d);
        self.transfer.shift(d);
        self.purpose.shift(d);
        self.made_in.shift(d);
        self.exported_from.shift(d);
        self.cn_origin.shift(d);
        self.cn_content_value.shift(d);
        self.cn_technology.shift(d);
        self.cas.shift(d);
        self.collectors.shift(d);
        self.technology_area.shift(d);
    }
}

impl Shift for Amounts {
    fn shift(&mut self, d: isize) {
        self.quantity.shift(d);
        self.unit.shift(d);
        self.value.shift(d);
        self.currency.shift(d);
    }
}

impl Shift for ExportFacts {
    fn shift(&mut self, d: isize) {
        self.importer.shift(d);
        self.end_use.shift(d);
        self.contract.shift(d);
        self.euc.shift(d);
        self.amounts.shift(d);
    }
}

impl Shift for Shipment {
    fn shift(&mut self, d: isize) {
        self.header.shift(d);
        self.span.shift(d);
        self.sku.shift(d);
        self.ship_date.shift(d);
        self.destination.shift(d);
        self.end_user.shift(d);
        self.licence.shift(d);
        self.transfer.shift(d);
        self.purpose.shift(d);
        self.facts.shift(d);
    }
}

impl Shift for Licence {
    fn shift(&mut self, d: isize) {
        self.header.shift(d);
        self.span.shift(d);
        self.id.shift(d);
        self.kind.shift(d);
        self.issued.shift(d);
        self.expires.shift(d);
        self.items.shift(d);
        self.end_users.shift(d);
        self.destinations.shift(d);
        self.purposes.shift(d);
        self.limits.shift(d);
    }
}

impl Shift for CatalogueTable {
    fn shift(&mut self, d: isize) {
        self.header.shift(d);
        self.span.shift(d);
        self.name.shift(d);
        self.exporter.shift(d);
        self.as_of.shift(d);
        self.rules.shift(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a product costs inline, pinned: a million products are parsed
    /// at once by `check` (README, Performance), so a field added inline
    /// costs a megabyte per byte. Rarely set fields go in `ProductMore`.
    #[test]
    fn a_product_stays_small() {
        // 448 is a mimalloc size class (the next is 512): a product is boxed.
        assert_eq!(std::mem::size_of::<Product>(), 448);
        assert_eq!(std::mem::size_of::<Invalid>(), 8);
        assert_eq!(std::mem::size_of::<CompositionEntry>(), 56);
    }

    /// `made_in` alone does not say where the export leaves from (a product
    /// made abroad may be exported from China); `exported_from` does.
    #[test]
    fn made_in_alone_leaves_the_export_origin_unstated() {
        let text = "[[product]]\nsku = \"A\"\n\n\
            [[product]]\nsku = \"B\"\nmade_in = \"CN\"\n\n\
            [[product]]\nsku = \"C\"\nmade_in = \"JP\"\n\n\
            [[product]]\nsku = \"D\"\nmade_in = \"JP\"\nexported_from = \"CN\"\n\n\
            [[product]]\nsku = \"E\"\nmade_in = \"CN\"\nexported_from = \"NL\"\n";
        let cat = crate::catalogue::parse(text);
        let from: Vec<ExportFrom> = cat.products.iter().map(|p| p.export_from()).collect();
        assert_eq!(
            from,
            [
                ExportFrom::China,
                ExportFrom::China,
                ExportFrom::Unstated { made_in: "JP" },
                ExportFrom::China,
                ExportFrom::Abroad("NL"),
            ]
        );
        assert!(!cat.products[2].exported_from_abroad());
        assert!(cat.products[4].exported_from_abroad());
    }

    /// A product without a rarely set field allocates no `ProductMore`;
    /// one with any reads it through `Deref`, and it moves with the table.
    #[test]
    fn rare_fields_are_boxed_only_when_given() {
        let text = "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }\ndestination = \"DE\"\n\n\
            [[product]]\nsku = \"B\"\nform = \"oxide\"\nmade_in = \"VN\"\nhs_code = \"2846901500\"\n";
        let cat = crate::catalogue::parse(text);
        let (a, b) = (&cat.products[0], &cat.products[1]);
        assert!(a.more.0.is_none(), "{:?}", a.more);
        assert!(a.made_in.is_none() && a.hs_code.is_none());
        assert!(b.more.0.is_some());
        assert_eq!(b.made_in.as_ref().map(|f| f.value.as_str()), Some("VN"));
        assert_eq!(b.export_origin(), "VN");
        let at = b.made_in.as_ref().map(|f| f.span.start());
        let mut moved = (**b).clone();
        moved.shift(10);
        assert_eq!(
            moved.made_in.as_ref().map(|f| f.span.start()),
            at.map(|s| s + 10)
        );
        // An empty box reads and compares as none.
        let mut c = (**a).clone();
        c.more_mut();
        assert_eq!(&c, &**a);
    }
}
