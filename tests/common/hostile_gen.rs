// Generators of the hostile catalogues of issue 12 item 5, shared by
// `examples/gen_hostile.rs` and `tests/complexity.rs` (included with
// `include!`/`#[path]`, so plain functions only).

use std::fmt::Write;

/// Width of a layer of the layered bill of materials.
pub const BOM_WIDTH: usize = 40;

/// The catalogue text of `kind` with `n` items, or `None` for an unknown kind.
pub fn hostile(kind: &str, n: usize) -> Option<String> {
    let mut s = String::with_capacity(n * 64);
    s.push_str("[catalogue]\nas_of = 2026-06-01\n\n");
    match kind {
        "shared-sku" => {
            for i in 0..n {
                let _ = write!(
                    s,
                    "[[product]]\nsku = \"SAME\"\nname = \"p{i}\"\nform = \"oxide\"\ncomposition = {{ Y2O3 = 99.9 }}\n\n"
                );
            }
        }
        "shared-licence" => {
            s.push_str("[[product]]\nsku = \"P\"\nform = \"oxide\"\ncomposition = { Y2O3 = 99.9 }\nlicence = \"L\"\n\n");
            for _ in 0..n {
                s.push_str("[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-12-31\n\n");
            }
        }
        "layered-bom" => {
            let layers = n.div_ceil(BOM_WIDTH);
            for l in 0..layers {
                for k in 0..BOM_WIDTH {
                    let _ = write!(s, "[[product]]\nsku = \"L{l}-{k}\"\n");
                    if l + 1 < layers {
                        s.push_str("form = \"component\"\n");
                        s.push_str("components = [");
                        for j in 0..BOM_WIDTH {
                            let _ =
                                write!(s, "{}\"L{}-{j}\"", if j > 0 { ", " } else { "" }, l + 1);
                        }
                        s.push_str("]\n");
                    } else {
                        s.push_str("form = \"metal\"\ncomposition = { Fe = 100 }\n");
                    }
                    s.push('\n');
                }
            }
        }
        "unknown-components" => {
            for i in 0..n {
                let _ = write!(
                    s,
                    "[[product]]\nsku = \"PART-{i:06}\"\nform = \"component\"\ncomponents = [\"PRAT-{i:06}\"]\n\n"
                );
            }
        }
        _ => return None,
    }
    Some(s)
}
