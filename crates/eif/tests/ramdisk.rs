//! The ramdisks' bytes: linuxkit's cpio conventions, nitro-cli's layout, determinism.
use std::io::Read;

use sentinel_eif::ramdisk::{self, Entry, Kind};

/// One entry as read back with the `cpio` crate's reader.
#[derive(Debug)]
struct ReadEntry {
    name: String,
    ino: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    mtime: u32,
    dev: (u32, u32),
    data: Vec<u8>,
}

fn read_all(archive: &[u8]) -> Vec<ReadEntry> {
    let mut entries = Vec::new();
    let mut rest = archive;
    loop {
        let mut reader = cpio::NewcReader::new(rest).unwrap();
        let e = reader.entry();
        let mut entry = ReadEntry {
            name: e.name().to_string(),
            ino: e.ino(),
            mode: e.mode(),
            uid: e.uid(),
            gid: e.gid(),
            nlink: e.nlink(),
            mtime: e.mtime(),
            dev: (e.dev_major(), e.dev_minor()),
            data: Vec::new(),
        };
        let trailer = e.is_trailer();
        reader.read_to_end(&mut entry.data).unwrap();
        entries.push(entry);
        rest = reader.finish().unwrap();
        if trailer {
            assert!(rest.iter().all(|&b| b == 0), "only zero padding after the trailer");
            return entries;
        }
    }
}

#[test]
fn bootstrap_is_linuxkits_archive_of_nitro_clis_bootstrap_yaml() {
    let archive = ramdisk::bootstrap(b"INIT", b"NSMKO");
    assert_eq!(archive.len() % 512, 0, "padded to 512 bytes like gocpio's Close");
    let entries = read_all(&archive);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["dev", "init", "nsm.ko", "TRAILER!!!"]);
    // gocpio: inodes from 721, device 3:1, root-owned, directories with two links.
    assert_eq!(entries.iter().map(|e| e.ino).collect::<Vec<_>>(), [721, 722, 723, 724]);
    assert!(entries.iter().all(|e| e.dev == (3, 1) && e.uid == 0 && e.gid == 0 && e.mtime == 0));
    assert_eq!(entries.iter().map(|e| e.mode).collect::<Vec<_>>(), [0o040755, 0o100755, 0o100755, 0]);
    assert_eq!(entries.iter().map(|e| e.nlink).collect::<Vec<_>>(), [2, 1, 1, 1]);
    assert_eq!(entries[1].data, b"INIT");
    assert_eq!(entries[2].data, b"NSMKO");
}

#[test]
fn header_bytes_are_gocpios() {
    // The first entry spelled out field by field: magic, ino, mode, uid, gid,
    // nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
    // namesize, check; then "dev\0" and padding of the 114 bytes to 116.
    let archive = ramdisk::bootstrap(b"", b"");
    let expected = [
        "070701", "000002d1", "000041ed", "00000000", "00000000", "00000002", "00000000", "00000000", "00000003",
        "00000001", "00000000", "00000000", "00000004", "00000000", "dev\0", "\0\0",
    ]
    .concat();
    assert_eq!(&archive[..expected.len()], expected.as_bytes());
    // Then "init" with its data padded to four bytes.
    let with_data = ramdisk::write_newc(&[Entry::file("a", b"xyz".to_vec(), 0o644, 7)]);
    let first = [
        "070701", "000002d1", "000081a4", "00000000", "00000000", "00000001", "00000007", "00000003", "00000003",
        "00000001", "00000000", "00000000", "00000002", "00000000", "a\0", "xyz\0",
    ]
    .concat();
    assert_eq!(&with_data[..first.len()], first.as_bytes());
    let trailer = [
        "070701",
        "000002d2",
        "00000000",
        "00000000",
        "00000000",
        "00000001",
        "00000000",
        "00000000",
        "00000003",
        "00000001",
        "00000000",
        "00000000",
        "0000000b",
        "00000000",
        "TRAILER!!!\0",
    ]
    .concat();
    assert_eq!(&with_data[first.len()..first.len() + trailer.len()], trailer.as_bytes());
    assert_eq!(with_data.len(), 512);
}

#[test]
fn customer_holds_the_binary_cmd_env_and_the_mount_points() {
    let binary = b"\x7fELF the enclave";
    let archive = ramdisk::customer(binary, 1_700_000_000, &ramdisk::ENTRYPOINT, &ramdisk::ENV);
    let entries = read_all(&archive);
    let find = |name: &str| entries.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{name} missing"));

    // nitro-cli writes the ENTRYPOINT (the image has no CMD) and Env one element per line.
    assert_eq!(find("cmd").data, b"/sentinel-enclave\n--vsock-port\n5000\n--nsm\nhardware\n");
    assert_eq!(find("cmd").mode, 0o100644);
    assert!(find("env").data.starts_with(b"PATH="));
    assert!(find("env").data.ends_with(b"\n"));

    let bin = find("rootfs/sentinel-enclave");
    assert_eq!(bin.data, binary);
    assert_eq!(bin.mode, 0o100555, "as scripts/build-enclave-release.sh installs it");
    assert_eq!(bin.mtime, 1_700_000_000);

    // What AWS's init mounts on (nitro-cli's customer YAML) and what linuxkit adds.
    for dir in ["rootfs", "rootfs/dev", "rootfs/run", "rootfs/sys", "rootfs/var", "rootfs/proc", "rootfs/tmp"] {
        assert_eq!(find(dir).mode, 0o040755, "{dir}");
    }
    for dir in ["rootfs/dev/pts", "rootfs/dev/shm", "rootfs/etc"] {
        assert_eq!(find(dir).mode, 0o040755, "{dir}");
    }
    assert_eq!(find("rootfs/etc/mtab").data, b"/proc/mounts");
    assert_eq!(find("rootfs/etc/mtab").mode & 0o170000, 0o120000);
    assert_eq!(find("rootfs/etc/resolv.conf").data, b"/run/resolvconf/resolv.conf");
    assert!(find("rootfs/etc/hosts").data.starts_with(b"127.0.0.1       localhost\n"));

    // Sorted, parents first, no duplicates; everything but the binary at mtime 0.
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).filter(|n| *n != "TRAILER!!!").collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| a.split('/').cmp(b.split('/')));
    sorted.dedup();
    assert_eq!(names, sorted);
    for (i, name) in names.iter().enumerate() {
        if let Some((parent, _)) = name.rsplit_once('/') {
            assert!(names[..i].contains(&parent), "{parent} before {name}");
        }
    }
    assert!(entries.iter().filter(|e| e.name != "rootfs/sentinel-enclave").all(|e| e.mtime == 0));
    assert!(entries.iter().all(|e| e.uid == 0 && e.gid == 0));
}

#[test]
fn ramdisks_are_deterministic_and_depend_only_on_their_inputs() {
    let a = ramdisk::customer(b"bin", 5, &ramdisk::ENTRYPOINT, &ramdisk::ENV);
    let b = ramdisk::customer(b"bin", 5, &ramdisk::ENTRYPOINT, &ramdisk::ENV);
    assert_eq!(a, b);
    assert_ne!(a, ramdisk::customer(b"bim", 5, &ramdisk::ENTRYPOINT, &ramdisk::ENV));
    assert_ne!(a, ramdisk::customer(b"bin", 6, &ramdisk::ENTRYPOINT, &ramdisk::ENV));
    assert_eq!(ramdisk::bootstrap(b"i", b"n"), ramdisk::bootstrap(b"i", b"n"));
}

#[test]
fn sorting_puts_directories_before_their_contents() {
    let mut entries = vec![
        Entry::dir("a-b", 0o755, 0),
        Entry::file("a/z", vec![], 0o644, 0),
        Entry::dir("a", 0o755, 0),
        Entry::symlink("a/b", "/x", 0o777, 0),
    ];
    ramdisk::sort_entries(&mut entries);
    let names: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(names, ["a", "a/b", "a/z", "a-b"]);
    assert_eq!(entries[1].kind, Kind::Symlink("/x".into()));
}
