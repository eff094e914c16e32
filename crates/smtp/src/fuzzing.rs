//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`), and the replay of the
//! inputs they found as regression tests on stable (`fuzz/regressions/smtp_*/`).
//!
//! The oracles are the codec's and the receiver's own promises: the same bytes give the same
//! result however they are split into reads, and a message the receiver accepted, stuffed
//! again and sent again, comes back byte for byte.

use crate::codec::{CommandFramer, Frame, parse_command};
use crate::data_receiver::{DataOutcome, DataReceiver};

/// Cuts `data` (after its first byte, which picks the read size) into command lines and
/// parses each. Panics when an invariant breaks.
pub fn commands(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let read_size = usize::from(control) + 1;
    let whole = command_frames(input, input.len().max(1));
    let split = command_frames(input, read_size);
    assert_eq!(whole, split, "the command lines depend on how the bytes were split ({read_size}-byte reads)");
}

/// The frames of `input` read `read_size` bytes at a time, each line parsed.
fn command_frames(input: &[u8], read_size: usize) -> Vec<String> {
    let mut framer = CommandFramer::default();
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    for chunk in input.chunks(read_size) {
        buf.extend_from_slice(chunk);
        loop {
            let (consumed, frame) = framer.next_frame(&buf);
            let line = match frame {
                Some(Frame::Line { len }) => format!("{:?}", parse_command(&buf[..len])),
                Some(other) => format!("{other:?}"),
                None => {
                    buf.drain(..consumed);
                    break;
                }
            };
            seen.push(line);
            buf.drain(..consumed);
        }
        assert!(buf.len() < crate::codec::MAX_COMMAND_LINE + read_size, "the framer let {} bytes pile up", buf.len());
    }
    seen
}

/// Receives `data` (after its first two bytes, which pick the read size and the size cap) as
/// the data of a message. Panics when an invariant breaks.
pub fn data_phase(data: &[u8]) {
    let [read_control, cap_control, input @ ..] = data else { return };
    let read_size = usize::from(*read_control) + 1;
    let cap = usize::from(*cap_control) * 64;
    let whole = receive(input, input.len().max(1), cap);
    let split = receive(input, read_size, cap);
    assert_eq!(whole, split, "the message depends on how the bytes were split ({read_size}-byte reads)");
    let (message, end, outcome) = whole;
    assert!(message.len() <= cap, "kept {} bytes past the {cap}-byte cap", message.len());
    if end.is_some() && outcome == DataOutcome::Complete {
        // Sent again, dot-stuffed as a client would, the message comes back the same.
        let again = receive(&stuff(&message), 4096, cap);
        assert_eq!(again.0, message, "stuffing and receiving again changed the message");
        assert_eq!(again.2, DataOutcome::Complete);
    }
}

/// What the receiver makes of `input` read `read_size` bytes at a time: the message, where
/// the data ended (if it did), and the outcome.
fn receive(input: &[u8], read_size: usize, cap: usize) -> (Vec<u8>, Option<usize>, DataOutcome) {
    let mut receiver = DataReceiver::new(cap);
    let mut message = Vec::new();
    let mut offset = 0;
    for chunk in input.chunks(read_size) {
        let (consumed, ended) = receiver.feed(chunk, &mut message);
        offset += consumed;
        if ended {
            return (message, Some(offset), receiver.outcome());
        }
        assert_eq!(consumed, chunk.len(), "a read must be consumed whole until the end of data");
    }
    (message, None, receiver.outcome())
}

/// A message as a client sends it after DATA: dot-stuffed (RFC 5321 §4.5.2), then `.` alone.
fn stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    fn replay(target: &str, check: fn(&[u8])) {
        // Relative: cargo runs a crate's tests in its folder, while env!("CARGO_MANIFEST_DIR") would
        // pin the folder of whichever clone filled the shared build cache.
        let folder = format!("../../fuzz/regressions/{target}");
        for entry in std::fs::read_dir(&folder).expect("the regression folder exists") {
            let data = std::fs::read(entry.expect("readable folder").path()).expect("readable input");
            check(&data);
        }
    }

    /// Every input the fuzzers kept (crashes, then minimised) still passes.
    #[test]
    fn fuzz_regressions_pass() {
        replay("smtp_commands", super::commands);
        replay("smtp_data", super::data_phase);
    }
}
