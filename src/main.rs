use clap::Parser;

fn main() {
    let cli = catalogue_lsp::cli::Cli::parse();
    std::process::exit(catalogue_lsp::cli::run(cli));
}
