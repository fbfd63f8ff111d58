//! Keeping freed memory mapped, for processes whose global allocator is mimalloc.
//!
//! A training step frees and reallocates hundreds of megabytes of tensors. mimalloc
//! returns freed pages to the kernel after a delay (1 s in its v3 line), and a step takes
//! about that long, so every step faulted them back in: on a machine that backs them with
//! transparent huge pages the kernel zeroed 2 MiB per fault, about 2,200 faults and up to
//! a third of the cycles per step at d_model 256 (`perf`, docs/LOG.md 2026-12-01). A
//! training process reuses the same sizes every step, so it keeps its pages instead.

/// mimalloc's `mi_option_purge_delay` (its position in `mi_option_e`; the Rust bindings
/// of libmimalloc-sys 0.1.49 do not name it). `tests` checks the index against the
/// option's documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to return freed pages to the kernel. Call once, early in `main`,
/// in a binary whose `#[global_allocator]` is mimalloc; elsewhere it has no effect.
/// Freed memory stays reusable by the process: its resident size is its peak.
pub fn keep_freed_memory() {
    set_option(PURGE_DELAY, -1);
}

#[allow(unsafe_code)]
fn set_option(option: libmimalloc_sys::mi_option_t, value: std::os::raw::c_long) {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; it takes no
    // pointers and is safe to call from any thread at any time.
    unsafe { libmimalloc_sys::mi_option_set(option, value) }
}

#[cfg(test)]
#[allow(unsafe_code)]
fn get_option(option: libmimalloc_sys::mi_option_t) -> std::os::raw::c_long {
    // SAFETY: reads an integer from mimalloc's option table, as `set_option`.
    unsafe { libmimalloc_sys::mi_option_get(option) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_the_option_it_claims_to_be() {
        // mimalloc v3's default purge delay is 1000 ms (or MIMALLOC_PURGE_DELAY when the
        // environment sets it); the options around index 15 have other defaults
        // (use_numa_nodes 0, eager_commit_delay 1), so a renumbering in a later mimalloc
        // shows up here before it changes the wrong option.
        let expected = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        assert_eq!(get_option(PURGE_DELAY), expected);
        keep_freed_memory();
        assert_eq!(get_option(PURGE_DELAY), -1);
        set_option(PURGE_DELAY, expected);
    }
}
