//! The `sentinel-eif` command: exit code 2 and a clear message without blobs;
//! build + describe with stand-in blobs.
mod common;

use std::fs;
use std::process::{Command, Output};

fn sentinel_eif(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sentinel-eif"))
        .args(args)
        .env_remove("NITRO_CLI_BLOBS")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

#[test]
fn missing_blobs_exit_2_and_point_to_the_docker_path() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("sentinel-enclave");
    fs::write(&binary, common::fake_elf(b"x")).unwrap();
    let out = dir.path().join("out.eif");

    // No directory at all: every file is named.
    let missing = dir.path().join("no-such-dir");
    let result = sentinel_eif(&[
        "build",
        "--binary",
        binary.to_str().unwrap(),
        "--blobs",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("bzImage, cmdline, init, nsm.ko not found in"), "{stderr}");
    assert!(stderr.contains("scripts/build-eif.sh"), "{stderr}");
    assert!(result.stdout.is_empty());
    assert!(!out.exists());

    // An incomplete directory: only what is missing.
    let partial = dir.path().join("partial");
    common::write_blobs(&partial);
    fs::remove_file(partial.join("nsm.ko")).unwrap();
    fs::remove_file(partial.join("cmdline")).unwrap();
    let result = sentinel_eif(&[
        "build",
        "--binary",
        binary.to_str().unwrap(),
        "--blobs",
        partial.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("cmdline, nsm.ko not found in"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn build_writes_the_eif_and_pcrs_and_describe_recomputes_them() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    common::write_blobs(&blobs);
    let binary = dir.path().join("sentinel-enclave");
    fs::write(&binary, common::fake_elf(b"stand-in enclave program")).unwrap();
    let out = dir.path().join("sentinel.eif");
    let pcrs = dir.path().join("pcrs.json");

    let result = sentinel_eif(&[
        "build",
        "--binary",
        binary.to_str().unwrap(),
        "--blobs",
        blobs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--pcrs-out",
        pcrs.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o644);
    }
    // No temporary files left next to the output.
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(names.iter().all(|n| !n.to_string_lossy().starts_with(".sentinel-eif-")), "{names:?}");
    let written = json(&fs::read(&pcrs).unwrap());
    assert_eq!(written["HashAlgorithm"], "Sha384");
    for key in ["PCR0", "PCR1", "PCR2"] {
        assert_eq!(written[key].as_str().unwrap().len(), 96, "{key}");
    }
    assert_eq!(written.as_object().unwrap().len(), 4);
    // stdout has nitro-cli's shape, which scripts/build-eif.sh reads.
    assert_eq!(json(&result.stdout)["Measurements"], written);

    let described = sentinel_eif(&["describe", out.to_str().unwrap()]);
    assert!(described.status.success(), "{}", String::from_utf8_lossy(&described.stderr));
    let described = json(&described.stdout);
    assert_eq!(described["Measurements"], written);
    assert_eq!(described["CrcValid"], true);
    assert_eq!(described["Arch"], "x86_64");
    assert_eq!(described["Metadata"]["BuildMetadata"]["BuildTime"], "2023-11-14T22:13:20+00:00");
    assert_eq!(described["Metadata"]["BuildMetadata"]["KernelVersion"], "4.14.256");

    // NITRO_CLI_BLOBS stands in for --blobs, as it does for nitro-cli.
    let again = dir.path().join("again.eif");
    let result = Command::new(env!("CARGO_BIN_EXE_sentinel-eif"))
        .args(["build", "--binary", binary.to_str().unwrap(), "--out", again.to_str().unwrap()])
        .env("NITRO_CLI_BLOBS", &blobs)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!(fs::read(&again).unwrap(), fs::read(&out).unwrap());
}

#[test]
fn describe_rejects_what_is_not_an_eif() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not.eif");
    fs::write(&file, b"hello").unwrap();
    let result = sentinel_eif(&["describe", file.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&result.stderr).contains("too short"));

    // A valid header whose first section claims more bytes than the file has.
    let blobs = dir.path().join("blobs");
    common::write_blobs(&blobs);
    let binary = dir.path().join("bin");
    fs::write(&binary, common::fake_elf(b"x")).unwrap();
    let eif = dir.path().join("a.eif");
    let built = sentinel_eif(&[
        "build",
        "--binary",
        binary.to_str().unwrap(),
        "--blobs",
        blobs.to_str().unwrap(),
        "--out",
        eif.to_str().unwrap(),
    ]);
    assert!(built.status.success());
    let mut bytes = fs::read(&eif).unwrap();
    bytes[548 + 4..548 + 12].copy_from_slice(&u64::MAX.to_be_bytes());
    fs::write(&eif, &bytes).unwrap();
    let result = sentinel_eif(&["describe", eif.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&result.stderr).contains("past the end"),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn build_refuses_a_binary_that_is_not_an_executable() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    common::write_blobs(&blobs);
    let binary = dir.path().join("script.sh");
    fs::write(&binary, b"#!/bin/sh\necho hi\n").unwrap();
    let out = dir.path().join("x.eif");
    let result = sentinel_eif(&[
        "build",
        "--binary",
        binary.to_str().unwrap(),
        "--blobs",
        blobs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&result.stderr).contains("not an ELF file"));
    assert!(!out.exists());
}
