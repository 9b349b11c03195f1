//! Stand-in blobs and binaries for the tests: a few bytes each, no real kernel.
#![allow(dead_code)]
use std::fs;
use std::path::Path;

/// Writes stand-in nitro-cli blobs (bzImage, cmdline, init, nsm.ko, bzImage.config) into `dir`.
pub fn write_blobs(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("bzImage"), b"MZ stand-in kernel \x00\x01\x02\x03").unwrap();
    // nitro-cli trims the command line file; the trailing newline must not be measured.
    fs::write(dir.join("cmdline"), b"reboot=k panic=30 pci=off nomodules console=ttyS0 init=/init\n").unwrap();
    fs::write(dir.join("init"), b"\x7fELF stand-in init").unwrap();
    fs::write(dir.join("nsm.ko"), b"\x7fELF stand-in nsm driver").unwrap();
    fs::write(
        dir.join("bzImage.config"),
        "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86_64 4.14.256-209.484.amzn2.x86_64 Kernel Configuration\n",
    )
    .unwrap();
}

/// A stand-in static x86_64 executable: a 64-byte ELF header (no program
/// headers, so no interpreter) followed by `payload`.
pub fn fake_elf(payload: &[u8]) -> Vec<u8> {
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf[6] = 1; // version
    elf[16] = 2; // ET_EXEC
    elf[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    elf[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    elf[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    elf.extend_from_slice(payload);
    elf
}
