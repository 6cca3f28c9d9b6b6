use clap::Parser;

/// mimalloc: a parse allocates millions of small values on all cores; glibc's
/// allocator spent a quarter of `check`'s time in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v3, the version libmimalloc-sys
/// builds): how many milliseconds freed memory stays committed (default
/// 1000 in its options.c).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The language server frees megabytes on every keystroke (the last
/// publication, a whole-text change); returned to the system after 2 ms
/// instead of a second, the peak RSS on 100 000 products drops by a tenth with
/// no cost to the keystroke latency (README, Performance). `check` is
/// short-lived and keeps the default.
fn tune_allocator_for_serving() {
    // SAFETY: sets a mimalloc option (an integer in a table), valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 2) }
}

fn main() {
    let cli = catalogue_lsp::cli::Cli::parse();
    if matches!(cli.command, catalogue_lsp::cli::Command::Serve { .. }) {
        tune_allocator_for_serving();
    }
    std::process::exit(catalogue_lsp::cli::run(cli));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is the purge delay: its default (1000 ms, or what
    /// `MIMALLOC_PURGE_DELAY` in the environment says: mimalloc reads it at
    /// start), the option before it is `purge_decommits` (1), then what we set.
    #[test]
    fn the_purge_delay_option_is_the_one_tuned() {
        let default = match std::env::var("MIMALLOC_PURGE_DELAY") {
            Err(_) => 1000,
            Ok(v) => v
                .trim()
                .parse::<std::os::raw::c_long>()
                .unwrap_or_else(|_| panic!("MIMALLOC_PURGE_DELAY={v:?} is not a number of milliseconds: unset it to run this test")),
        };
        // SAFETY: reads and sets a mimalloc option.
        unsafe {
            assert_eq!(
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
                default
            );
            assert_eq!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY - 1), 1);
        }
        tune_allocator_for_serving();
        // SAFETY: reads a mimalloc option.
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
            2
        );
    }
}
