//! The `ladder` binary: all logic lives in `ladder-cli`.

// Training allocates and frees tensors of many megabytes every step; mimalloc, told not to
// purge (`ladder_train::keep_freed_memory`, called by `ladder_cli::main`), keeps and reuses
// that memory where glibc's malloc returns it to the kernel and page-faults it back
// (scripts/bench-train, docs/LOG.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ladder_cli::main()
}
