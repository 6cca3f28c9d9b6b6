//! Deterministic party-list generator for benchmarks (fictional names):
//! `cargo run --release --example gen_parties -- 5000 > parties5000.toml`
//! Each entry has a Latin name of two or three invented words and a legal
//! form, a Chinese name of three to six characters, one alias, and a list
//! (control list, watch list, unreliable entity list); one in twenty is
//! removed again. No entry is a real company.

use std::fmt::Write;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

const SYLLABLES: &[&str] = &[
    "zor", "vel", "qua", "brin", "dal", "mek", "tor", "lis", "nar", "pex", "rov", "sul", "tam",
    "ux", "ven", "wil", "yar", "zen", "kor", "fal", "gri", "hal", "jun", "kel", "lom", "mor",
];
const GENERIC: &[&str] = &[
    "Systems",
    "Technologies",
    "Aerospace",
    "Industries",
    "Dynamics",
    "Marine",
    "Research",
    "Engineering",
    "Defense",
    "Electronics",
    "Materials",
    "Holdings",
];
const FORMS: &[&str] = &[
    "Inc.",
    "LLC",
    "Co., Ltd.",
    "Corporation",
    "GmbH",
    "Ltd.",
    "S.A.",
    "",
];
const HAN: &[&str] = &[
    "泽", "菲", "尔", "动", "力", "奎", "隆", "光", "学", "马", "林", "德", "科", "航", "海", "星",
    "华", "远", "通", "达", "瑞", "博", "恒", "威",
];
const HAN_FORMS: &[&str] = &["有限公司", "股份有限公司", "公司", "株式会社", "集团"];

fn word(r: &mut Lcg) -> String {
    let n = 2 + r.next() as usize % 2;
    let mut w: String = (0..n).map(|_| r.pick(SYLLABLES)).collect();
    if let Some(f) = w.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    w
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000);
    let mut r = Lcg(7);
    let mut s = String::with_capacity(n * 400);
    let _ = write!(
        s,
        "[parties]\nid = \"generated-{n}\"\nversion = \"1\"\nreviewed_through = 2026-11-30\nnote = \"{n} generated fictional entries for benchmarks\"\n"
    );
    let lists = ["control-list", "watch-list", "unreliable-entity-list"];
    for i in 0..n {
        let words = 1 + r.next() as usize % 2;
        let mut name: Vec<String> = (0..words).map(|_| word(&mut r)).collect();
        name.push(r.pick(GENERIC).to_string());
        let form = r.pick(FORMS);
        let latin = format!("{} {form}", name.join(" ")).trim().to_string();
        let han: String = (0..3 + r.next() as usize % 4)
            .map(|_| r.pick(HAN))
            .collect();
        let zh = format!("{han}{}", r.pick(HAN_FORMS));
        let alias = name[..name.len() - 1].join(" ");
        let _ = write!(
            s,
            "\n[[party]]\nid = \"gen-{i:05}\"\nname = \"{latin}\"\nname_zh = \"{zh}\"\naliases = [\"{alias}\"]\nlist = \"{}\"\nadded = 2025-0{}-1{}\n{}source = {{ instrument = \"Generated announcement {}\", url = \"https://example.invalid/gen/{i}\" }}\nconfidence = \"test\"\n",
            r.pick(&lists),
            1 + r.next() % 9,
            r.next() % 10,
            if r.next() % 20 == 0 {
                "removed = 2026-01-01\n"
            } else {
                ""
            },
            i / 50
        );
    }
    print!("{s}");
}
