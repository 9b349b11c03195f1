//! PCR0/1/2 of a small EIF built from stand-in blobs: the EIF library's values
//! (what `build` returns and what `describe` recomputes) against an independent
//! implementation of nitro-cli's formula over the sections parsed here.
mod common;

use std::fs;
use std::path::Path;

use sentinel_eif::{Arch, Blobs, BuildInput, Measurements};
use sha2::{Digest, Sha384};

/// nitro-cli's formula, written out: one extend of a zeroed SHA-384 register
/// with the digest of the concatenated sections.
fn pcr(sections: &[&[u8]]) -> String {
    let mut inner = Sha384::new();
    for section in sections {
        inner.update(section);
    }
    let mut outer = Sha384::new();
    outer.update([0u8; 48]);
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

/// Sections of an EIF as this test reads the format: a 548-byte header
/// (magic, version, flags, default memory and CPUs, reserved, section count,
/// 32 offsets, 32 sizes, unused, CRC32), then per section a 12-byte header
/// (type u16, flags u16, size u64, big-endian) and the data.
struct Parsed {
    kernel: Vec<u8>,
    cmdline: Vec<u8>,
    ramdisks: Vec<Vec<u8>>,
    metadata: Vec<u8>,
    flags: u16,
}

fn parse(eif: &[u8]) -> Parsed {
    assert_eq!(&eif[..4], b".eif");
    let u16_at = |at: usize| u16::from_be_bytes(eif[at..at + 2].try_into().unwrap());
    let u64_at = |at: usize| u64::from_be_bytes(eif[at..at + 8].try_into().unwrap());
    let flags = u16_at(6);
    let num_sections = usize::from(u16_at(26));
    let mut parsed = Parsed { kernel: vec![], cmdline: vec![], ramdisks: vec![], metadata: vec![], flags };
    let mut at = 548;
    let mut seen = 0;
    while at < eif.len() {
        let kind = u16_at(at);
        let size = usize::try_from(u64_at(at + 4)).unwrap();
        // The header's offset table points at each section header.
        assert_eq!(u64_at(28 + 8 * seen), at as u64, "section {seen} offset");
        assert_eq!(u64_at(28 + 256 + 8 * seen), size as u64, "section {seen} size");
        let data = eif[at + 12..at + 12 + size].to_vec();
        match kind {
            1 => parsed.kernel = data,
            2 => parsed.cmdline = data,
            3 => parsed.ramdisks.push(data),
            5 => parsed.metadata = data,
            other => panic!("unexpected section type {other}"),
        }
        at += 12 + size;
        seen += 1;
    }
    assert_eq!(seen, num_sections);
    parsed
}

/// The independent computation for a parsed EIF.
fn expected(parsed: &Parsed) -> Measurements {
    let mut all: Vec<&[u8]> = vec![&parsed.kernel, &parsed.cmdline];
    all.extend(parsed.ramdisks.iter().map(Vec::as_slice));
    Measurements {
        pcr0: pcr(&all),
        pcr1: pcr(&[&parsed.kernel, &parsed.cmdline, &parsed.ramdisks[0]]),
        pcr2: pcr(&parsed.ramdisks[1..].iter().map(Vec::as_slice).collect::<Vec<_>>()),
        pcr8: None,
    }
}

fn build(dir: &Path, blobs: &Blobs, binary: &[u8], name: &str) -> (Measurements, Vec<u8>) {
    let out = dir.join(name);
    let input = BuildInput { binary, arch: Arch::X86_64, source_date_epoch: 1_700_000_000 };
    let measurements = sentinel_eif::build(blobs, &input, &out).unwrap();
    (measurements, fs::read(&out).unwrap())
}

#[test]
fn the_formula_here_is_nitro_clis() {
    // PCR of an empty measurement, the value crates/nsm pins as LOCAL_PCR1
    // (computed there with the same formula, from its own constant).
    assert_eq!(
        pcr(&[]),
        "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a"
    );
    // Concatenation: sections are hashed as one byte string.
    assert_eq!(pcr(&[b"ab", b"c"]), pcr(&[b"abc"]));
}

#[test]
fn library_measurements_match_the_formula_and_react_to_the_right_inputs() {
    let dir = tempfile::tempdir().unwrap();
    common::write_blobs(&dir.path().join("blobs"));
    let blobs = Blobs::load(&dir.path().join("blobs")).unwrap();
    let binary = common::fake_elf(b"stand-in enclave program");

    let (measured, eif) = build(dir.path(), &blobs, &binary, "a.eif");
    let parsed = parse(&eif);

    // The sections hold what went in: the kernel file, the trimmed command line, two ramdisks.
    assert_eq!(parsed.kernel, fs::read(dir.path().join("blobs/bzImage")).unwrap());
    assert_eq!(parsed.cmdline, b"reboot=k panic=30 pci=off nomodules console=ttyS0 init=/init");
    assert_eq!(parsed.ramdisks.len(), 2);
    assert_eq!(parsed.flags, 0, "x86_64");
    let input = BuildInput { binary: &binary, arch: Arch::X86_64, source_date_epoch: 1_700_000_000 };
    assert_eq!(parsed.ramdisks, sentinel_eif::ramdisks(&blobs, &input).to_vec());

    // Library (builder) == independent formula == library (reader, as describe-eif).
    let independent = expected(&parsed);
    assert_eq!(measured, independent);
    let described = sentinel_eif::describe(&dir.path().join("a.eif")).unwrap();
    assert_eq!(described.measurements, independent);
    assert!(described.crc_valid);
    assert_eq!(
        described.sections.iter().map(|s| s.kind).collect::<Vec<_>>(),
        ["Kernel", "Cmdline", "Metadata", "Ramdisk", "Ramdisk"]
    );
    // PCR0 covers everything, so it differs from the partial ones.
    assert_ne!(measured.pcr0, measured.pcr1);
    assert_ne!(measured.pcr0, measured.pcr2);

    // One byte of the binary: PCR0 and PCR2 change, PCR1 (kernel + bootstrap) does not.
    let mut changed = binary.clone();
    *changed.last_mut().unwrap() ^= 0x01;
    let (after, eif_after) = build(dir.path(), &blobs, &changed, "b.eif");
    assert_eq!(after, expected(&parse(&eif_after)));
    assert_ne!(after.pcr0, measured.pcr0);
    assert_ne!(after.pcr2, measured.pcr2);
    assert_eq!(after.pcr1, measured.pcr1);

    // One byte of AWS's init: PCR0 and PCR1 change, PCR2 (our root file system) does not.
    let mut other = blobs.clone();
    other.init[0] ^= 0x01;
    let (after, eif_after) = build(dir.path(), &other, &binary, "c.eif");
    assert_eq!(after, expected(&parse(&eif_after)));
    assert_ne!(after.pcr0, measured.pcr0);
    assert_ne!(after.pcr1, measured.pcr1);
    assert_eq!(after.pcr2, measured.pcr2);
}

#[test]
fn the_same_inputs_give_the_same_eif_bytes() {
    let dir = tempfile::tempdir().unwrap();
    common::write_blobs(&dir.path().join("blobs"));
    let blobs = Blobs::load(&dir.path().join("blobs")).unwrap();
    let binary = common::fake_elf(b"stand-in enclave program");
    let (first, first_bytes) = build(dir.path(), &blobs, &binary, "1.eif");
    let (second, second_bytes) = build(dir.path(), &blobs, &binary, "2.eif");
    assert_eq!(first, second);
    assert_eq!(first_bytes, second_bytes, "metadata included: no clock, no paths");
    // SOURCE_DATE_EPOCH stamps the binary's entry, so it is part of PCR2.
    let input = BuildInput { binary: &binary, arch: Arch::X86_64, source_date_epoch: 0 };
    let other = sentinel_eif::build(&blobs, &input, &dir.path().join("3.eif")).unwrap();
    assert_eq!(other.pcr1, first.pcr1);
    assert_ne!(other.pcr2, first.pcr2);
}

#[test]
fn aarch64_sets_the_header_flag_without_changing_the_measured_bytes() {
    let dir = tempfile::tempdir().unwrap();
    common::write_blobs(&dir.path().join("blobs"));
    let blobs = Blobs::load(&dir.path().join("blobs")).unwrap();
    let binary = common::fake_elf(b"x");
    let (x86, _) = build(dir.path(), &blobs, &binary, "x86.eif");
    let input = BuildInput { binary: &binary, arch: Arch::Aarch64, source_date_epoch: 1_700_000_000 };
    let arm = sentinel_eif::build(&blobs, &input, &dir.path().join("arm.eif")).unwrap();
    assert_eq!(parse(&fs::read(dir.path().join("arm.eif")).unwrap()).flags, 1);
    assert_eq!(sentinel_eif::describe(&dir.path().join("arm.eif")).unwrap().arch, Arch::Aarch64);
    assert_eq!(arm, x86, "the header flags are not measured");
}
