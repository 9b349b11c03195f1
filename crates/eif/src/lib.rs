//! The Sentinel enclave image (EIF) without Docker.
//!
//! `nitro-cli build-enclave` turns a Docker image into an EIF in three steps:
//! it reads the image's ENTRYPOINT/CMD and `Env` into two small files (`cmd`,
//! `env`), has its bundled `linuxkit` pack two ramdisks (a bootstrap ramdisk
//! from AWS's `init` and NSM driver, and a customer ramdisk holding the
//! image's file system under `rootfs/` plus `cmd` and `env`), and assembles
//! kernel + command line + ramdisks with the `aws-nitro-enclaves-image-format`
//! library's `EifBuilder`, which also computes the measurements.
//!
//! This crate does the same without Docker and without linuxkit: the enclave
//! program is one static binary, so the customer ramdisk is written directly
//! ([`ramdisk`]) around it, and the EIF is assembled by the same library
//! ([`build`]). The kernel (`bzImage`), its command line (`cmdline`), `init`
//! and `nsm.ko` still come from AWS: the blobs directory an installed nitro-cli
//! provides (`/usr/share/nitro_enclaves/blobs/`, [`Blobs`]). [`describe`]
//! recomputes the measurements of an existing EIF, as `nitro-cli describe-eif`
//! does.
//!
//! # Measurements
//!
//! Each PCR is one SHA-384 extend of a zeroed register with the SHA-384 of
//! the concatenated section bytes (section headers excluded):
//! `PCR = SHA384(0x00 * 48 || SHA384(sections))`.
//!
//! | PCR | sections |
//! |---|---|
//! | PCR0 | kernel, command line, every ramdisk (bootstrap, then customer) |
//! | PCR1 | kernel, command line, the bootstrap ramdisk |
//! | PCR2 | the customer ramdisk(s) |
//!
//! The metadata section (build time, tool, kernel version) is not measured.
//! `tests/pcr.rs` checks the library's values against an independent
//! implementation of this formula.
//!
//! # Where our ramdisks match nitro-cli's, and where they may not
//!
//! What nitro-cli (`enclave_build`: `yaml_generator.rs`, `docker.rs`, `lib.rs`)
//! and linuxkit (`moby/build`, `initrd`) do, read from their sources:
//!
//! **Bootstrap ramdisk (PCR1; also part of PCR0).** nitro-cli's YAML lists
//! `dev` (directory 0755), `init` (0755) and `nsm.ko` (0755); linuxkit writes
//! them in that order through gocpio (inodes from 721, device 3:1, directory
//! link count 2, `TRAILER!!!`, padded to 512 bytes) and, in the versions
//! nitro-cli ships, without gzip (`kernel+initrd-nogz`). We write the same
//! entries with the same conventions and mtime 0. It can still differ:
//! - linuxkit stamps generated entries with its own fixed `defaultModTime`;
//!   we assume the Unix epoch (0) and did not confirm it against a real
//!   linuxkit build;
//! - older nitro-cli releases had linuxkit gzip the ramdisk (`kernel+initrd`);
//! - the newest nitro-cli sources add a `modules_load_order` file and can load
//!   several kernel modules; we write the single-`nsm.ko` layout.
//!
//! With the same blobs, PCR1 therefore equals nitro-cli's exactly when the
//! bytes of this ramdisk do; `sentinel-eif describe` next to
//! `nitro-cli describe-eif` on the Docker-built EIF shows whether they do.
//!
//! **Customer ramdisk (PCR2; also part of PCR0).** nitro-cli's YAML has
//! linuxkit unpack the whole Docker image under `rootfs/` and add `rootfs/dev`,
//! `rootfs/run`, `rootfs/sys`, `rootfs/var`, `rootfs/proc`, `rootfs/tmp`
//! (0755), then `cmd` and `env` (0644). `cmd` holds the image's CMD, or its
//! ENTRYPOINT when it has no CMD, one element per line; `env` its `Env`, one
//! per line. linuxkit also fixes up every image it unpacks: it drops
//! `.dockerenv`, `dev/console`, `etc/hostname`..., writes its own
//! `etc/hosts`, makes `etc/resolv.conf` a link to
//! `/run/resolvconf/resolv.conf`, and creates `dev/`, `dev/pts/`, `dev/shm/`,
//! `etc/`, `etc/mtab` → `/proc/mounts`, `proc/`, `sys/` when missing.
//!
//! Ours holds the same `cmd` (EIF.Dockerfile's ENTRYPOINT), the same mount
//! points, the same linuxkit fix-ups, and our binary at
//! `rootfs/sentinel-enclave` (0555). It differs, so PCR2 and PCR0 differ from
//! a Docker + nitro-cli EIF of the same binary:
//! - the Docker image is `gcr.io/distroless/static` plus the binary: its files
//!   (`/etc/passwd`, `/etc/group`, `/etc/os-release`, CA certificates,
//!   time zone data, `/home/nonroot`, dpkg status files, ...) are in
//!   nitro-cli's ramdisk and not in ours; the binary needs none of them;
//! - `env`: nitro-cli copies distroless's `Env`, which also sets
//!   `SSL_CERT_FILE`; ours sets only `PATH` ([`ramdisk::ENV`]);
//! - order: linuxkit writes the image's files in the order of the image's tar
//!   stream, then its fix-ups, then the YAML's entries (repeating `rootfs`);
//!   ours are sorted by path with no duplicates;
//! - mtimes: linuxkit keeps the image files' own times (the binary's is when
//!   the Docker build installed it); ours are 0 except the binary's, which is
//!   `SOURCE_DATE_EPOCH` (0 when unset).
//!
//! Both builds are deterministic, each on its own: the same binary, blobs and
//! `SOURCE_DATE_EPOCH` give the same EIF bytes and PCRs here. What clients pin
//! (`eif/pcrs.json`) stays the Docker + nitro-cli build's until the two are
//! shown to agree.
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use aws_nitro_enclaves_image_format::defs::{
    EifBuildInfo, EifHeader, EifIdentityInfo, EifSectionHeader, EifSectionType, EIF_MAGIC,
};
use aws_nitro_enclaves_image_format::utils::eif_reader::EifReader;
use aws_nitro_enclaves_image_format::utils::EifBuilder;
use sha2::{Digest, Sha256};

pub mod elf;
pub mod ramdisk;

pub use elf::Arch;

/// Where nitro-cli installs its blobs (nitro-cli reads `NITRO_CLI_BLOBS` first).
pub const DEFAULT_BLOBS_DIR: &str = "/usr/share/nitro_enclaves/blobs";

/// The blobs the EIF is built from: kernel, kernel command line, init, NSM driver.
pub const REQUIRED_BLOBS: [&str; 4] = ["bzImage", "cmdline", "init", "nsm.ko"];

/// What the build tool records in the EIF's (unmeasured) metadata section.
pub const BUILD_TOOL: &str = "sentinel-eif";

/// Length of one SHA-384 PCR.
pub const PCR_LEN: usize = 48;

/// Everything that can go wrong.
#[derive(Debug)]
pub enum Error {
    /// The blobs directory is missing, or lacks some of [`REQUIRED_BLOBS`].
    MissingBlobs {
        /// The directory looked in.
        dir: PathBuf,
        /// The required files not found there (all of them when the directory is missing).
        missing: Vec<&'static str>,
    },
    /// A file could not be read or written.
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An input cannot go into an EIF (not an executable, too large, ...).
    Input(String),
    /// The EIF library failed, or an EIF is malformed.
    Eif(String),
}

impl Error {
    fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingBlobs { dir, missing } => {
                write!(
                    f,
                    "the nitro-cli blobs are missing: {} not found in {}.\n\
                     sentinel-eif builds the EIF around AWS's enclave kernel (bzImage), its command line \
                     (cmdline), init and NSM driver (nsm.ko), which the aws-nitro-enclaves-cli package \
                     installs in {DEFAULT_BLOBS_DIR}/ (or pass --blobs DIR with copies of them).\n\
                     Without them, build the EIF with Docker and nitro-cli instead: scripts/build-eif.sh \
                     (docs/eif.md).",
                    missing.join(", "),
                    dir.display()
                )
            }
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Input(message) => f.write_str(message),
            Error::Eif(message) => write!(f, "EIF: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// AWS's boot components, read from a nitro-cli blobs directory.
#[derive(Clone, Debug)]
pub struct Blobs {
    /// The directory they were read from.
    pub dir: PathBuf,
    /// Path of the kernel image (`bzImage`); the EIF library reads it by path.
    pub kernel: PathBuf,
    /// The kernel command line, trimmed as nitro-cli trims it.
    pub cmdline: String,
    /// AWS's init (`init`).
    pub init: Vec<u8>,
    /// The NSM driver (`nsm.ko`).
    pub nsm_ko: Vec<u8>,
    /// The kernel's configuration (`bzImage.config`), if present: only its
    /// version line is used, for the unmeasured metadata.
    pub kernel_config: Option<String>,
}

/// The required blobs that are not regular files in `dir`.
pub fn missing_blobs(dir: &Path) -> Vec<&'static str> {
    REQUIRED_BLOBS.into_iter().filter(|name| !dir.join(name).is_file()).collect()
}

impl Blobs {
    /// Reads the blobs from `dir`; [`Error::MissingBlobs`] names every missing one.
    pub fn load(dir: &Path) -> Result<Blobs, Error> {
        let missing = missing_blobs(dir);
        if !missing.is_empty() {
            return Err(Error::MissingBlobs { dir: dir.to_path_buf(), missing });
        }
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
        };
        let cmdline_bytes = read("cmdline")?;
        let cmdline = String::from_utf8(cmdline_bytes)
            .map_err(|_| Error::Input(format!("{}/cmdline is not UTF-8", dir.display())))?
            .trim()
            .to_string();
        if cmdline.contains('\0') {
            return Err(Error::Input(format!("{}/cmdline contains a NUL byte", dir.display())));
        }
        let kernel_config = fs::read(dir.join("bzImage.config")).ok().map(|b| String::from_utf8_lossy(&b).into_owned());
        Ok(Blobs {
            dir: dir.to_path_buf(),
            kernel: dir.join("bzImage"),
            cmdline,
            init: read("init")?,
            nsm_ko: read("nsm.ko")?,
            kernel_config,
        })
    }
}

/// What goes into one EIF besides the blobs.
#[derive(Clone, Debug)]
pub struct BuildInput<'a> {
    /// The static enclave program's bytes (placed at `/sentinel-enclave`).
    pub binary: &'a [u8],
    /// The EIF's architecture (the binary's; [`elf::inspect`]).
    pub arch: Arch,
    /// mtime of the binary's ramdisk entry and the metadata's build time:
    /// `SOURCE_DATE_EPOCH`, or 0.
    pub source_date_epoch: u32,
}

/// PCR0/1/2 of an EIF (PCR8 too when the EIF is signed), hex-encoded as nitro-cli prints them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measurements {
    /// Kernel, command line and every ramdisk.
    pub pcr0: String,
    /// Kernel, command line and the bootstrap ramdisk.
    pub pcr1: String,
    /// The customer ramdisk(s).
    pub pcr2: String,
    /// The signing certificate, for a signed EIF (never for ours).
    pub pcr8: Option<String>,
}

impl Measurements {
    fn from_library(map: &BTreeMap<String, String>) -> Result<Self, Error> {
        let get = |key: &str| {
            let value = map.get(key).ok_or_else(|| Error::Eif(format!("the EIF library reported no {key}")))?;
            if value.len() != 2 * PCR_LEN {
                return Err(Error::Eif(format!("{key} from the EIF library is not 48 bytes")));
            }
            Ok(value.clone())
        };
        Ok(Measurements { pcr0: get("PCR0")?, pcr1: get("PCR1")?, pcr2: get("PCR2")?, pcr8: map.get("PCR8").cloned() })
    }

    /// `{"HashAlgorithm": "Sha384", "PCR0": ..., "PCR1": ..., "PCR2": ...}` (and `PCR8` if signed).
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("HashAlgorithm".into(), "Sha384".into());
        map.insert("PCR0".into(), self.pcr0.clone().into());
        map.insert("PCR1".into(), self.pcr1.clone().into());
        map.insert("PCR2".into(), self.pcr2.clone().into());
        if let Some(pcr8) = &self.pcr8 {
            map.insert("PCR8".into(), pcr8.clone().into());
        }
        serde_json::Value::Object(map)
    }
}

/// The two ramdisks of an EIF for `input` (bootstrap first, as the EIF holds them).
pub fn ramdisks(blobs: &Blobs, input: &BuildInput<'_>) -> [Vec<u8>; 2] {
    [
        ramdisk::bootstrap(&blobs.init, &blobs.nsm_ko),
        ramdisk::customer(input.binary, input.source_date_epoch, &ramdisk::ENTRYPOINT, &ramdisk::ENV),
    ]
}

/// Builds the EIF for `input` around `blobs`, writes it to `out` (atomically:
/// a temporary file in the same directory, renamed) and returns its
/// measurements as the EIF library computed them.
pub fn build(blobs: &Blobs, input: &BuildInput<'_>, out: &Path) -> Result<Measurements, Error> {
    const LIMIT: usize = u32::MAX as usize;
    if input.binary.len() >= LIMIT || blobs.init.len() >= LIMIT || blobs.nsm_ko.len() >= LIMIT {
        return Err(Error::Input("a ramdisk file is larger than 4 GiB (the cpio limit)".into()));
    }
    let out_dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let scratch = tempfile::Builder::new()
        .prefix(".sentinel-eif-")
        .tempdir_in(&out_dir)
        .map_err(|e| Error::io(format!("creating a temporary directory in {}", out_dir.display()), e))?;
    let mut ramdisk_paths = Vec::new();
    for (name, bytes) in ["bootstrap-initrd.img", "customer-initrd.img"].iter().zip(ramdisks(blobs, input)) {
        let path = scratch.path().join(name);
        fs::write(&path, bytes).map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        ramdisk_paths.push(path);
    }
    let identity = identity_info(blobs, input);
    let mut eif = tempfile::Builder::new()
        .prefix(".sentinel-eif-")
        .suffix(".eif")
        .tempfile_in(&out_dir)
        .map_err(|e| Error::io(format!("creating a temporary file in {}", out_dir.display()), e))?;

    // EifBuilder reports I/O failures by panicking; turn them into an error.
    let kernel = blobs.kernel.clone();
    let cmdline = blobs.cmdline.clone();
    let flags = input.arch.eif_flags();
    let file = eif.as_file_mut();
    let measured = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut builder = EifBuilder::new(&kernel, cmdline, None, sha2_09::Sha384::default(), flags, identity);
        for path in &ramdisk_paths {
            builder.add_ramdisk(path);
        }
        builder.write_to(file)
    }))
    .map_err(|panic| Error::Eif(format!("EifBuilder failed: {}", panic_message(&panic))))?;
    eif.as_file_mut().sync_all().map_err(|e| Error::io("syncing the EIF", e))?;
    // A temporary file is created 0600; the EIF is an ordinary, readable build output.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(eif.path(), fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(format!("setting the mode of {}", eif.path().display()), e))?;
    }
    eif.persist(out).map_err(|e| Error::io(format!("writing {}", out.display()), e.error))?;
    Measurements::from_library(&measured)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic".to_string()
    }
}

/// The EIF's metadata section (not measured): fixed values, so that the EIF's
/// bytes, not only its PCRs, are the same for the same inputs.
fn identity_info(blobs: &Blobs, input: &BuildInput<'_>) -> EifIdentityInfo {
    let (img_os, img_kernel) = blobs.kernel_config.as_deref().map(kernel_version).unwrap_or_else(unknown_kernel);
    EifIdentityInfo {
        img_name: "sentinel-enclave".to_string(),
        img_version: format!("sha256:{}", hex::encode(Sha256::digest(input.binary))),
        build_info: EifBuildInfo {
            build_time: rfc3339(input.source_date_epoch),
            build_tool: BUILD_TOOL.to_string(),
            build_tool_version: env!("CARGO_PKG_VERSION").to_string(),
            img_os,
            img_kernel,
        },
        docker_info: serde_json::Value::Null,
        custom_info: serde_json::json!({
            "Entrypoint": ramdisk::ENTRYPOINT,
            "Arch": input.arch.name(),
        }),
    }
}

fn unknown_kernel() -> (String, String) {
    ("Unknown".to_string(), "Unknown".to_string())
}

/// OS and kernel version from the third line of a kernel `.config`
/// (`# Linux/x86_64 4.14.177-104.253.amzn2.x86_64 Kernel Configuration`), split
/// as nitro-cli's `generate_build_info` splits it.
fn kernel_version(config: &str) -> (String, String) {
    let Some(line) = config.lines().nth(2) else { return unknown_kernel() };
    let words: Vec<&str> = line.split([' ', '/', '-']).collect();
    let word = |i: usize| words.get(i).filter(|w| !w.is_empty()).unwrap_or(&"Unknown").to_string();
    (word(1), word(3))
}

/// Seconds since the epoch as RFC 3339 in UTC, the way chrono's `to_rfc3339` prints it.
pub fn rfc3339(epoch: u32) -> String {
    let days = i64::from(epoch / 86_400);
    let secs = epoch % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00", secs / 3600, secs / 60 % 60, secs % 60)
}

/// One section of an EIF, as listed by [`describe`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// `Kernel`, `Cmdline`, `Ramdisk`, `Signature` or `Metadata`.
    pub kind: &'static str,
    /// Offset of the section's data in the file.
    pub offset: u64,
    /// Length of the section's data.
    pub size: u64,
}

/// What [`describe`] reports about an EIF.
#[derive(Clone, Debug)]
pub struct Description {
    /// PCRs recomputed from the sections by the EIF library's reader (what `nitro-cli describe-eif` uses).
    pub measurements: Measurements,
    /// Whether the header's CRC32 matches the file.
    pub crc_valid: bool,
    /// EIF format version from the header.
    pub version: u16,
    /// Architecture from the header flags.
    pub arch: Arch,
    /// The sections in file order.
    pub sections: Vec<Section>,
    /// The metadata section, if any.
    pub metadata: Option<serde_json::Value>,
}

impl Description {
    /// The JSON `sentinel-eif describe` prints.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "Measurements": self.measurements.to_json(),
            "EifVersion": self.version,
            "Arch": self.arch.name(),
            "CrcValid": self.crc_valid,
            "Sections": self.sections.iter().map(|s| serde_json::json!({
                "Type": s.kind, "Offset": s.offset, "Size": s.size,
            })).collect::<Vec<_>>(),
            "Metadata": self.metadata.clone().unwrap_or(serde_json::Value::Null),
        })
    }
}

/// Lists the sections of the EIF at `path` after checking that every section
/// header lies within the file and every size fits what is left of it (the
/// EIF library trusts the sizes and would try to allocate whatever a corrupt
/// header says).
pub fn sections(path: &Path) -> Result<(EifHeader, Vec<Section>), Error> {
    let context = || format!("reading {}", path.display());
    let mut file = File::open(path).map_err(|e| Error::io(context(), e))?;
    let len = file.metadata().map_err(|e| Error::io(context(), e))?.len();
    let mut header = vec![0u8; EifHeader::size()];
    file.read_exact(&mut header)
        .map_err(|_| Error::Eif(format!("{} is too short for an EIF header", path.display())))?;
    if header[..4] != EIF_MAGIC {
        return Err(Error::Eif(format!("{} is not an EIF (bad magic)", path.display())));
    }
    let header = EifHeader::from_be_bytes(&header).map_err(Error::Eif)?;
    let mut sections = Vec::new();
    let mut at = EifHeader::size() as u64;
    let mut buf = [0u8; EifSectionHeader::size()];
    while at < len {
        file.seek(SeekFrom::Start(at)).map_err(|e| Error::io(context(), e))?;
        file.read_exact(&mut buf).map_err(|_| Error::Eif(format!("truncated section header at offset {at}")))?;
        let section = EifSectionHeader::from_be_bytes(&buf).map_err(|e| Error::Eif(format!("offset {at}: {e}")))?;
        let data = at + EifSectionHeader::size() as u64;
        if section.section_size > len - data {
            return Err(Error::Eif(format!("section at offset {at} runs past the end of the file")));
        }
        let kind = match section.section_type {
            EifSectionType::EifSectionKernel => "Kernel",
            EifSectionType::EifSectionCmdline => "Cmdline",
            EifSectionType::EifSectionRamdisk => "Ramdisk",
            EifSectionType::EifSectionSignature => "Signature",
            EifSectionType::EifSectionMetadata => "Metadata",
            EifSectionType::EifSectionInvalid => {
                return Err(Error::Eif(format!("invalid section type at offset {at}")))
            }
        };
        sections.push(Section { kind, offset: data, size: section.section_size });
        at = data + section.section_size;
    }
    Ok((header, sections))
}

/// Recomputes the measurements of the EIF at `path` with the EIF library's
/// reader, checks its CRC and lists its sections.
pub fn describe(path: &Path) -> Result<Description, Error> {
    let (header, sections) = sections(path)?;
    let mut reader = EifReader::from_eif(path.to_string_lossy().into_owned()).map_err(Error::Eif)?;
    // The reader has hashed every section while reading; `get_pcrs` is the library's
    // one PCR formula, shared by its builder and `nitro-cli describe-eif`.
    let measured = aws_nitro_enclaves_image_format::utils::get_pcrs(
        &mut reader.image_hasher,
        &mut reader.bootstrap_hasher,
        &mut reader.app_hasher,
        &mut reader.cert_hasher,
        sha2_09::Sha384::default(),
        reader.signature_section.is_some(),
    )
    .map_err(Error::Eif)?;
    let arch = if header.flags & elf::Arch::Aarch64.eif_flags() != 0 { Arch::Aarch64 } else { Arch::X86_64 };
    let metadata = reader.get_metadata().map(|m| serde_json::to_value(m).unwrap_or(serde_json::Value::Null));
    Ok(Description {
        measurements: Measurements::from_library(&measured)?,
        crc_valid: reader.check_crc(),
        version: header.version,
        arch,
        sections,
        metadata,
    })
}

/// Reads `SOURCE_DATE_EPOCH` from the environment: unset or empty means 0.
pub fn source_date_epoch() -> Result<u32, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => value.trim().parse::<u32>().map_err(|_| {
            Error::Input(format!("SOURCE_DATE_EPOCH={value:?} is not a number of seconds (0..=4294967295)"))
        }),
        _ => Ok(0),
    }
}

/// Writes `value` as pretty JSON plus a newline to `path`.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), Error> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::Eif(e.to_string()))?;
    text.push('\n');
    let mut file = File::create(path).map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    file.write_all(text.as_bytes()).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
