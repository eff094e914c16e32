//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`), and the replay of the
//! inputs they found as regression tests on stable (`fuzz/regressions/imap_framing/`).
//!
//! The oracle is the framer's own promise: the same bytes give the same events however they
//! are split into reads, and what it buffers never passes one command's cap.

use crate::framing::{FrameEvent, Framer};

/// Frames and parses `data` (its first byte picks the read size and whether the client has
/// logged in; the rest is what the client sends). Panics when an invariant breaks.
pub fn frame_and_parse(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let read_size = usize::from(control & 0x3f) + 1;
    let authenticated = control & 0x40 != 0;
    let whole = events(input, input.len().max(1), authenticated);
    let split = events(input, read_size, authenticated);
    assert_eq!(whole, split, "the events depend on how the bytes were split ({read_size}-byte reads)");
}

/// The events `input` gives when received `read_size` bytes at a time, each event taken as
/// soon as it can be (as the session does).
fn events(input: &[u8], read_size: usize, authenticated: bool) -> Vec<String> {
    let mut framer = Framer::default();
    if authenticated {
        framer.set_authenticated();
    }
    let mut seen = Vec::new();
    for chunk in input.chunks(read_size) {
        framer.push(chunk);
        while let Some(event) = framer.next_event() {
            seen.push(describe(&event));
        }
        assert!(
            framer.buffered() <= framer.max_command_bytes() + read_size,
            "the framer holds {} bytes, past one command's cap",
            framer.buffered()
        );
    }
    seen
}

fn describe(event: &FrameEvent) -> String {
    format!("{event:?}")
}

#[cfg(test)]
mod tests {
    /// Every input the fuzzer kept (crashes, then minimised) still passes.
    #[test]
    fn fuzz_regressions_pass() {
        // Relative: cargo runs a crate's tests in its folder, while env!("CARGO_MANIFEST_DIR") would
        // pin the folder of whichever clone filled the shared build cache.
        let folder = "../../fuzz/regressions/imap_framing";
        for entry in std::fs::read_dir(folder).expect("the regression folder exists") {
            let path = entry.expect("readable folder").path();
            let data = std::fs::read(&path).expect("readable input");
            super::frame_and_parse(&data);
        }
    }
}
