//! The same floor as `toml_floor`, with the allocator `catalogue-lsp` uses
//! (mimalloc), so the comparison can be made allocator for allocator:
//! `cargo run --release --example toml_floor_mimalloc -- FILE`

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "toml_floor.rs"]
mod floor;

fn main() {
    floor::main();
}
