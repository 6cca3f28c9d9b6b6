//! The parsed form of a catalogue file: products, licences and the
//! `[catalogue]` table, every value with its source span.

use crate::chem::Element;
use crate::diagnostic::Diagnostic;
use crate::text::Span;
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

string_enum!(
    /// What a product physically is (docs/format.md §4).
    Form {
        Metal = "metal": "a metal; it is the metal of its largest constituent",
        Alloy = "alloy": "an alloy (ingot, block, bar, wire, sheet, rod, plate, tube, granule, powder...)",
        Target = "target": "a sputtering target (planar or rotary)",
        Magnet = "magnet": "a finished or primary-processed permanent magnet: block, disc, ring, arc, tile, magnetic steel",
        MagnetPowder = "magnet-powder": "permanent-magnet powder",
        Oxide = "oxide": "an oxide or a mixture of oxides",
        Compound = "compound": "a compound or a mixture of compounds",
        Crystal = "crystal": "a crystal (laser, scintillator...)",
        Phosphor = "phosphor": "a phosphor or other luminescent material",
        Catalyst = "catalyst": "a catalyst powder or other catalytic functional material",
        OtherMaterial = "other-material": "any other material",
        RotorAssembly = "rotor-assembly": "a motor rotor assembly",
        StatorAssembly = "stator-assembly": "a motor stator assembly",
        Sensor = "sensor": "a sensor, sensor part or sensor assembly",
        Motor = "motor": "a motor",
        Component = "component": "any other part that holds magnets, e.g. a pot magnet",
        FinishedProduct = "finished-product": "finished electronic goods (headphones, speakers...)",
        ConsumerProduct = "consumer-product": "a consumer product (magnetic toys, phone cases, chargers...)",
        Fixture = "fixture": "an electromagnetic clamp or fixture, or a magnetic machine fixing part (FAQ V 3(3): a downstream product)",
        Ore = "ore": "an ore or concentrate (Ann. 56/2025 1C914.a: rare-earth ores)",
        Reagent = "reagent": "a process chemical: flotation reagent, extractant (Ann. 56/2025 1C914.b, .c); classified by `cas` and `collectors`",
        Technology = "technology": "technology or its carrier: drawings, process specifications, parameters, programs, simulation data (Ann. 62/2025 1E902); classified by `technology_area`",
    }
);

impl Form {
    /// Forms classified by stated facts (`cas`, `collectors`,
    /// `technology_area`) rather than by composition: without those facts
    /// nothing can be ruled out.
    pub fn by_facts(self) -> bool {
        matches!(self, Form::Reagent | Form::Technology)
    }
}

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

impl Form {
    /// Materials are classified by composition; parts and goods by what they contain.
    pub fn is_material(self) -> bool {
        !matches!(
            self,
            Form::RotorAssembly
                | Form::StatorAssembly
                | Form::Sensor
                | Form::Motor
                | Form::Component
                | Form::FinishedProduct
                | Form::ConsumerProduct
                | Form::Fixture
                | Form::Technology
        )
    }
}

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

string_enum!(
    /// Kind of transfer; every one is an export (Regulations Art. 2).
    Transfer {
        Trade = "trade": "a trade export (the default)",
        Gift = "gift": "a gift to a foreign party: an export",
        Exhibition = "exhibition": "an exhibition abroad: an export",
        Cooperation = "cooperation": "a transfer for cooperation: an export",
        Aid = "aid": "aid: an export",
        Other = "other": "another transfer to a foreign party: an export",
    }
);

string_enum!(
    /// What an export is for.
    Purpose {
        Production = "production": "production",
        Resale = "resale": "resale",
        Research = "research": "research",
        Testing = "testing": "testing (an export certificate may serve)",
        Inspection = "inspection": "inspection (an export certificate may serve)",
        SpareParts = "spare-parts": "spare parts (an export certificate may serve)",
        Repair = "repair": "overseas repair (an export certificate may serve)",
        Exhibition = "exhibition": "exhibition, items returned after the show (an export certificate may serve)",
        Other = "other": "another purpose",
    }
);

string_enum!(
    /// Licence kinds.
    LicenceType {
        Individual = "individual": "individual licence: one end user, valid at most 1 year",
        General = "general": "general licence: one or more end users and shipments, valid at most 3 years",
        Certificate = "certificate": "export certificate by registration and information reporting: testing, inspection, spare parts, repair, exhibition",
    }
);

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
    pub key: String,
    pub key_span: Span,
    pub percent: f64,
    pub value_span: Span,
    /// Mass share of each element of the key's formula.
    pub shares: Vec<(Element, f64)>,
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
    /// The table has a syntax error: its values may be incomplete.
    pub broken: bool,
}

impl Licence {
    pub fn id_str(&self) -> Option<&str> {
        self.id.as_ref().map(|f| f.value.as_str())
    }
}

/// A `[[product]]` table.
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
    /// Part names: known ones (`Integrate`) or any other (the list is open).
    pub integrates: Option<Field<Vec<Field<String>>>>,
    pub moulded: Option<Field<bool>>,
    pub calcined: Option<Field<bool>>,
    pub category: Option<Field<String>>,
    pub hs_code: Option<Field<String>>,
    pub control_code: Option<Field<String>>,
    pub destination: Option<Field<String>>,
    pub end_user: Option<Field<String>>,
    /// The consignee when it is not the end user (screened, contract §4b).
    pub importer: Option<Field<String>>,
    pub transfer: Option<Field<Transfer>>,
    pub purpose: Option<Field<Purpose>>,
    pub licence: Option<Field<String>>,
    pub ship_date: Option<Field<Date>>,
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
    /// The table has a syntax error: its values may be incomplete.
    pub broken: bool,
    /// Keys that were present but whose value was invalid (reported already).
    pub invalid: Vec<&'static str>,
}

impl Product {
    pub fn sku_str(&self) -> Option<&str> {
        self.sku.as_ref().map(|f| f.value.as_str())
    }
    /// Whether a key was given with an invalid value.
    pub fn was_invalid(&self, key: &str) -> bool {
        self.invalid.contains(&key)
    }
    /// Where the export leaves from: `exported_from`, else `made_in`, else
    /// China (a PRC export, the contract's default).
    pub fn export_origin(&self) -> &str {
        self.exported_from
            .as_ref()
            .or(self.made_in.as_ref())
            .map_or("CN", |f| f.value.as_str())
    }
    /// An export by an operator outside mainland China (Ann. 61/2025).
    pub fn exported_from_abroad(&self) -> bool {
        self.export_origin() != "CN"
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
    Form,
    Mounting,
    Integrate,
    Transfer,
    Purpose,
    LicenceType,
    TechnologyArea,
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
        self.integrates.shift(d);
        self.moulded.shift(d);
        self.calcined.shift(d);
        self.category.shift(d);
        self.hs_code.shift(d);
        self.control_code.shift(d);
        self.destination.shift(d);
        self.end_user.shift(d);
        self.importer.shift(d);
        self.transfer.shift(d);
        self.purpose.shift(d);
        self.licence.shift(d);
        self.ship_date.shift(d);
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
