//! Just enough ELF to pick the EIF's architecture flag and to notice a binary
//! that cannot run in the enclave's root file system (which has no libc and no
//! dynamic loader).

/// The CPU architecture an EIF is built for (the EIF header's arch flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// x86_64: flag bit cleared.
    X86_64,
    /// aarch64: `EIF_HDR_ARCH_ARM64`.
    Aarch64,
}

impl Arch {
    /// The EIF header flags for this architecture.
    pub fn eif_flags(self) -> u16 {
        match self {
            Arch::X86_64 => 0,
            Arch::Aarch64 => aws_nitro_enclaves_image_format::defs::EIF_HDR_ARCH_ARM64,
        }
    }

    /// The name nitro-cli and the Rust target triples use.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }
}

/// What [`inspect`] found in a file's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    /// The machine the executable is for.
    pub arch: Arch,
    /// Whether it asks for a program interpreter (`PT_INTERP`): a dynamically
    /// linked program, which will not start in the enclave.
    pub dynamic: bool,
}

const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const PT_INTERP: u32 = 3;

/// Reads the ELF header of a 64-bit little-endian executable. `Err` says why
/// the bytes are not one we can put into an EIF.
pub fn inspect(bytes: &[u8]) -> Result<ElfInfo, String> {
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
        return Err("not an ELF file".to_string());
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".to_string());
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let arch = match u16_at(18) {
        EM_X86_64 => Arch::X86_64,
        EM_AARCH64 => Arch::Aarch64,
        other => return Err(format!("ELF machine {other} is neither x86_64 nor aarch64")),
    };
    let phoff = u64::from_le_bytes(bytes[32..40].try_into().expect("8 bytes"));
    let phentsize = usize::from(u16_at(54));
    let phnum = usize::from(u16_at(56));
    let mut dynamic = false;
    if let Ok(phoff) = usize::try_from(phoff) {
        for index in 0..phnum {
            let at = phoff.saturating_add(index.saturating_mul(phentsize));
            if let Some(p_type) = bytes.get(at..at.saturating_add(4)) {
                if u32::from_le_bytes(p_type.try_into().expect("4 bytes")) == PT_INTERP {
                    dynamic = true;
                }
            }
        }
    }
    Ok(ElfInfo { arch, dynamic })
}
