//! The floor a TOML tool is measured against: parse a file into a
//! `toml::Table` with the `toml` crate and nothing else.
//! `hyperfine 'target/release/examples/toml_floor big.catalogue.toml'`

pub fn main() {
    let path = std::env::args().nth(1).expect("usage: toml_floor FILE");
    let text = std::fs::read_to_string(&path).expect("read");
    match text.parse::<toml::Table>() {
        Ok(t) => println!("{} top-level keys", t.len()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
