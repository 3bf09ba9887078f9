//! One module per command; each has an `Args` struct with `run(self, out)`.

pub mod aggregate;
pub mod bench;
pub mod check_verifier;
pub mod compile;
pub mod demo;
pub mod deploy;
pub mod fidelity;
pub mod gen_verifier;
pub mod input;
pub mod inspect;
pub mod prove;
pub mod register;
pub mod registry;
pub mod render;
pub mod setup;
pub mod submit;
pub mod verify;

/// The value of `key` (a `Key:  123 kB` line) in a `/proc` status file such as `/proc/meminfo`, in kB.
pub(crate) fn proc_kb(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

/// The largest peak measured before the last [`reset_peak_rss`], bytes.
static PEAK_BEFORE_RESET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Starts a new measurement of this process's peak resident memory (Linux: `/proc/self/clear_refs`, which
/// resets `VmHWM` to the current resident size); false where that is not possible. The peak so far is
/// kept for [`process_peak_rss_bytes`].
pub(crate) fn reset_peak_rss() -> bool {
    if let Some(peak) = peak_rss_bytes() {
        PEAK_BEFORE_RESET.fetch_max(peak, std::sync::atomic::Ordering::Relaxed);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This process's peak resident memory since it started or since [`reset_peak_rss`], in bytes.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    proc_kb("/proc/self/status", "VmHWM").map(|kb| kb * 1024)
}

/// This process's peak resident memory since it started, resets included, in bytes.
pub(crate) fn process_peak_rss_bytes() -> Option<u64> {
    let before = PEAK_BEFORE_RESET.load(std::sync::atomic::Ordering::Relaxed);
    peak_rss_bytes().map(|now| now.max(before))
}
