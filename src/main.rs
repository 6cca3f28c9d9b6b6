use clap::Parser;

/// mimalloc: a parse allocates millions of small values on all cores; glibc's
/// allocator spent a quarter of `check`'s time in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = catalogue_lsp::cli::Cli::parse();
    std::process::exit(catalogue_lsp::cli::run(cli));
}
