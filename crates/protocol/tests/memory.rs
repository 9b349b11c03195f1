//! A hostile 1 MiB frame must cost about its own size to decode, not tens of
//! times that: every allocation made while decoding is counted.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use sentinel_protocol::{decode_request, decode_response, MAX_FRAME_BYTES};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// CBOR head of major type `major` with a 4-byte argument.
fn head(major: u8, len: usize) -> Vec<u8> {
    let mut out = vec![(major << 5) | 26];
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out
}

fn text(s: &str) -> Vec<u8> {
    let mut out = vec![0x60 | s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

fn envelope(tag: &str, name: &str, extra_entries: usize) -> Vec<u8> {
    let mut out = vec![0xa0 | (3 + extra_entries) as u8];
    out.extend(text("v"));
    out.push(0x01);
    out.extend(text("id"));
    out.push(0x07);
    out.extend(text(tag));
    out.extend(text(name));
    out
}

/// Frames that cost ~70 MiB with a decode-to-generic-tree design.
fn hostile_frames() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    // A byte-string argument given as an array of a million tiny integers.
    let count = MAX_FRAME_BYTES - 64;
    let mut f = envelope("op", "ping", 1);
    f.extend(text("payload"));
    f.extend(head(4, count));
    f.resize(f.len() + count, 0x00);
    frames.push(f);
    // An unknown argument holding the same array.
    let mut f = envelope("op", "describe", 1);
    f.extend(text("junk"));
    f.extend(head(4, count));
    f.resize(f.len() + count, 0x00);
    frames.push(f);
    // Deeply nested arrays.
    let mut f = envelope("op", "ping", 1);
    f.extend(text("payload"));
    f.resize(f.len() + count, 0x81);
    frames.push(f);
    // A response with a huge PCR list.
    let mut f = envelope("type", "description", 1);
    f.extend(text("pcrs"));
    f.extend(head(4, count / 2));
    f.resize(f.len() + count / 2, 0x40);
    frames.push(f);
    // A valid maximal request: a 1 MiB payload is copied once.
    let mut f = envelope("op", "ping", 1);
    f.extend(text("payload"));
    f.extend(head(2, count));
    f.resize(f.len() + count, 0xab);
    frames.push(f);
    frames
}

#[test]
fn hostile_frames_cost_about_their_own_size() {
    for (i, frame) in hostile_frames().iter().enumerate() {
        assert!(frame.len() <= MAX_FRAME_BYTES, "frame {i} is {} bytes", frame.len());
        let base = LIVE.load(Ordering::SeqCst);
        PEAK.store(base, Ordering::SeqCst);
        let request = decode_request(frame);
        let response = decode_response(frame);
        let peak = PEAK.load(Ordering::SeqCst) - base;
        drop((request, response));
        assert!(peak <= 2 * MAX_FRAME_BYTES + 64 * 1024, "frame {i}: decoding peaked at {peak} bytes");
    }
}
