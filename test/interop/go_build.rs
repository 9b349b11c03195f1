//! Builds one of the Go programs under `test/interop/` for a Rust interop test
//! (`crates/evidence/tests/interop_go.rs`, `crates/audit/tests/interop_go.rs`),
//! shared by both with `#[path]`. Needs Go (on PATH or /usr/local/go/bin/go); it
//! is never skipped: without Go the test fails. Modules come from the Go module
//! proxy the first time, into `${XDG_CACHE_HOME:-~/.cache}/sentinel/go`
//! (GOMODCACHE and GOCACHE, which CI keeps), with `-mod=readonly` so go.mod and
//! go.sum are used as committed, the local toolchain only and no cgo.

use std::path::{Path, PathBuf};
use std::process::Command;

fn go() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("go"))
        .find(|p| p.is_file());
    on_path.or_else(|| Some(PathBuf::from("/usr/local/go/bin/go")).filter(|p| p.is_file())).expect(
        "this test needs the Go toolchain (`go` on PATH or /usr/local/go/bin/go) to build its test/interop \
         program; it is not skipped",
    )
}

/// Builds `test/interop/<program>` (relative to `manifest_dir`, a crate under `crates/`) into
/// `out_dir/<program>` and returns the binary's path.
pub fn build_go_program(manifest_dir: &str, out_dir: &str, program: &str) -> PathBuf {
    let source = Path::new(manifest_dir).join("../../test/interop").join(program);
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME")
        .join("sentinel/go");
    let binary = Path::new(out_dir).join(program);
    let output = Command::new(go())
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&source)
        .env("GOFLAGS", "-mod=readonly")
        .env("GOMODCACHE", cache.join("mod"))
        .env("GOCACHE", cache.join("build"))
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .output()
        .expect("run go build");
    assert!(output.status.success(), "go build of {program} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    binary
}
