//! The two ramdisks of the EIF, as deterministic newc ("070701") cpio archives.
//!
//! nitro-cli does not write cpio itself: it hands two YAML files to its bundled
//! `linuxkit`, which builds a tar stream and converts it entry by entry to cpio
//! with the `gocpio` writer. [`write_newc`] reproduces that writer's conventions
//! (they are part of the measured bytes, so they matter for PCR1):
//!
//! - inode numbers count up from 721, one per entry, the trailer included;
//! - `c_devmajor`/`c_devminor` are always 3/1, `c_rdevmajor`/`c_rdevminor` 0/0;
//! - `c_nlink` is 2 for a directory, 1 for anything else;
//! - `c_mode` is the permission bits plus the file type; uid and gid come from
//!   the entry (always 0 here); `c_check` is 0;
//! - the header and name are padded to 4 bytes, the data to 4 bytes, and the
//!   archive ends with a `TRAILER!!!` entry and zeros up to a multiple of 512.
//!
//! Headers are formatted by the `cpio` crate ([`cpio::newc::Builder`] lets us set
//! every field, including the inode and device numbers linuxkit uses); the
//! trailer is written with the same builder, because the crate's own
//! `newc::trailer` uses inode 0 and no 512-byte padding.
//!
//! Determinism: the caller gives every entry its mode, owner (0:0) and mtime;
//! nothing is read from the file system here. [`bootstrap`] keeps linuxkit's
//! entry order for nitro-cli's bootstrap YAML (which is also sorted);
//! [`customer`] sorts its entries by path, parents first.
use std::io::Write;

/// File type bits of `c_mode`.
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

/// gocpio's first inode number.
const FIRST_INODE: u32 = 721;
/// gocpio's fixed device numbers (`c_devmajor`, `c_devminor`).
const DEV_MAJOR: u32 = 3;
const DEV_MINOR: u32 = 1;

/// Where the enclave program lives in the root file system (EIF.Dockerfile: `COPY ... /sentinel-enclave`).
pub const BINARY_PATH: &str = "/sentinel-enclave";

/// The image's ENTRYPOINT in EIF.Dockerfile, one argument per element.
pub const ENTRYPOINT: [&str; 5] = ["/sentinel-enclave", "--vsock-port", "5000", "--nsm", "hardware"];

/// The environment written to `/env`: the `PATH` every Debian-based image
/// (distroless included) declares. nitro-cli copies the image's `Env` here;
/// distroless/static also declares `SSL_CERT_FILE`, which points at a file our
/// root file system does not have (the enclave makes no TLS connections).
pub const ENV: [&str; 1] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

/// `/etc/hosts` as linuxkit writes it into every image it unpacks.
pub const ETC_HOSTS: &str = "127.0.0.1       localhost\n::1     localhost ip6-localhost ip6-loopback\nfe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n";

/// What one archive entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file with these contents.
    File(Vec<u8>),
    /// A symbolic link to this target.
    Symlink(String),
}

/// One archive entry: a relative path (no leading `/`), what it is, its
/// permission bits and its modification time. Owner and group are always 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Relative path, `/`-separated, no leading or trailing `/`.
    pub path: String,
    /// Directory, file or symlink.
    pub kind: Kind,
    /// Permission bits (`0o755`, ...), without the file type.
    pub mode: u32,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: u32,
}

impl Entry {
    /// A directory entry.
    pub fn dir(path: &str, mode: u32, mtime: u32) -> Self {
        Entry { path: path.to_string(), kind: Kind::Dir, mode, mtime }
    }

    /// A regular file entry.
    pub fn file(path: &str, contents: Vec<u8>, mode: u32, mtime: u32) -> Self {
        Entry { path: path.to_string(), kind: Kind::File(contents), mode, mtime }
    }

    /// A symbolic link entry.
    pub fn symlink(path: &str, target: &str, mode: u32, mtime: u32) -> Self {
        Entry { path: path.to_string(), kind: Kind::Symlink(target.to_string()), mode, mtime }
    }

    fn type_bits(&self) -> u32 {
        match self.kind {
            Kind::Dir => S_IFDIR,
            Kind::File(_) => S_IFREG,
            Kind::Symlink(_) => S_IFLNK,
        }
    }

    fn data(&self) -> &[u8] {
        match &self.kind {
            Kind::Dir => &[],
            Kind::File(contents) => contents,
            Kind::Symlink(target) => target.as_bytes(),
        }
    }
}

/// Writes `entries`, in the order given, as a newc archive with gocpio's
/// conventions (module documentation) and returns its bytes.
///
/// Panics if an entry is larger than 4 GiB (newc's size field is 32 bits); the
/// callers here check sizes first.
pub fn write_newc(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut inode = FIRST_INODE;
    for entry in entries {
        let data = entry.data();
        let size = u32::try_from(data.len()).expect("cpio entry larger than 4 GiB");
        let nlink = if entry.kind == Kind::Dir { 2 } else { 1 };
        let mut writer = header(&entry.path, inode)
            .mode(entry.type_bits() | (entry.mode & 0o7777))
            .nlink(nlink)
            .mtime(entry.mtime)
            .write(&mut out, size);
        writer.write_all(data).expect("writing to a Vec cannot fail");
        writer.finish().expect("writing to a Vec cannot fail");
        inode += 1;
    }
    header("TRAILER!!!", inode).nlink(1).write(&mut out, 0).finish().expect("writing to a Vec cannot fail");
    let padded = out.len().div_ceil(512) * 512;
    out.resize(padded, 0);
    out
}

fn header(name: &str, inode: u32) -> cpio::newc::Builder {
    cpio::newc::Builder::new(name).ino(inode).uid(0).gid(0).dev_major(DEV_MAJOR).dev_minor(DEV_MINOR)
}

/// The entries of the bootstrap ramdisk, in the order linuxkit writes them for
/// nitro-cli's bootstrap YAML (`dev/` 0755, `init` 0755, `nsm.ko` 0755). The
/// entries carry mtime 0: linuxkit stamps the files it generates with one fixed
/// time, and this ramdisk depends only on AWS's blobs, so its bytes (and PCR1)
/// must not change with the commit being built.
pub fn bootstrap_entries(init: &[u8], nsm_ko: &[u8]) -> Vec<Entry> {
    vec![
        Entry::dir("dev", 0o755, 0),
        Entry::file("init", init.to_vec(), 0o755, 0),
        Entry::file("nsm.ko", nsm_ko.to_vec(), 0o755, 0),
    ]
}

/// The bootstrap ramdisk: AWS's `init` and NSM driver (PCR1 measures it).
pub fn bootstrap(init: &[u8], nsm_ko: &[u8]) -> Vec<u8> {
    write_newc(&bootstrap_entries(init, nsm_ko))
}

/// The lines of nitro-cli's `cmd` / `env` files: each element followed by `\n`.
pub fn config_file(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

/// The entries of the customer ramdisk, sorted by path (parents first):
///
/// - `cmd` and `env` (0644) at the archive root, read by AWS's init before it
///   chroots into `rootfs/`;
/// - `rootfs/` with our static binary at `rootfs/sentinel-enclave` (0555, as
///   scripts/build-enclave-release.sh installs it, with `binary_mtime`);
/// - what linuxkit adds to every image it unpacks (its `touch` and `replace`
///   lists): `dev/`, `dev/pts/`, `dev/shm/`, `etc/`, `etc/hosts` (its fixed
///   contents), `etc/mtab` → `/proc/mounts`, `etc/resolv.conf` →
///   `/run/resolvconf/resolv.conf`, `proc/`, `sys/`;
/// - the mount points nitro-cli's customer YAML lists: `dev/`, `run/`, `sys/`,
///   `var/`, `proc/`, `tmp/` (0755).
///
/// Every entry but the binary has mtime 0. See the crate documentation for how
/// this differs from what nitro-cli produces from the Docker image.
pub fn customer_entries(binary: &[u8], binary_mtime: u32, cmd: &[&str], env: &[&str]) -> Vec<Entry> {
    let binary_path = BINARY_PATH.trim_start_matches('/');
    let mut entries = vec![
        Entry::file("cmd", config_file(cmd), 0o644, 0),
        Entry::file("env", config_file(env), 0o644, 0),
        Entry::dir("rootfs", 0o755, 0),
        Entry::file(&format!("rootfs/{binary_path}"), binary.to_vec(), 0o555, binary_mtime),
        Entry::dir("rootfs/dev", 0o755, 0),
        Entry::dir("rootfs/dev/pts", 0o755, 0),
        Entry::dir("rootfs/dev/shm", 0o755, 0),
        Entry::dir("rootfs/etc", 0o755, 0),
        Entry::file("rootfs/etc/hosts", ETC_HOSTS.as_bytes().to_vec(), 0o644, 0),
        Entry::symlink("rootfs/etc/mtab", "/proc/mounts", 0o755, 0),
        Entry::symlink("rootfs/etc/resolv.conf", "/run/resolvconf/resolv.conf", 0o644, 0),
        Entry::dir("rootfs/proc", 0o755, 0),
        Entry::dir("rootfs/run", 0o755, 0),
        Entry::dir("rootfs/sys", 0o755, 0),
        Entry::dir("rootfs/tmp", 0o755, 0),
        Entry::dir("rootfs/var", 0o755, 0),
    ];
    sort_entries(&mut entries);
    entries
}

/// The customer ramdisk: the root file system with the enclave program (PCR2 measures it).
pub fn customer(binary: &[u8], binary_mtime: u32, cmd: &[&str], env: &[&str]) -> Vec<u8> {
    write_newc(&customer_entries(binary, binary_mtime, cmd, env))
}

/// Sorts entries by path component by component, so that a directory always
/// precedes what it contains (`a` < `a/b` < `a-b`).
pub fn sort_entries(entries: &mut [Entry]) {
    entries.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
}
