//! `sentinel-eif`: build the enclave image (EIF) from the static enclave binary
//! and nitro-cli's blobs, without Docker; or recompute an EIF's measurements.
//!
//! Exit codes: 0 success, 1 failure, 2 the blobs are missing (or a usage error).
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sentinel_eif::{elf, Arch, Blobs, BuildInput, Error, DEFAULT_BLOBS_DIR};

#[derive(Parser)]
#[command(
    name = "sentinel-eif",
    version,
    about = "Build the Sentinel enclave image (EIF) without Docker, or describe an EIF"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an EIF from the static enclave binary and nitro-cli's kernel, init and NSM driver.
    ///
    /// Prints {"Measurements": {"HashAlgorithm", "PCR0", "PCR1", "PCR2"}} on stdout.
    /// The binary's ramdisk entry and the metadata's build time use SOURCE_DATE_EPOCH (unset: 0).
    Build {
        /// The static enclave program (scripts/build-enclave-release.sh builds it).
        #[arg(long)]
        binary: PathBuf,
        /// Directory with bzImage, cmdline, init and nsm.ko [default: $NITRO_CLI_BLOBS, else /usr/share/nitro_enclaves/blobs].
        #[arg(long)]
        blobs: Option<PathBuf>,
        /// Where to write the EIF.
        #[arg(long)]
        out: PathBuf,
        /// Also write the measurements as JSON here.
        #[arg(long)]
        pcrs_out: Option<PathBuf>,
    },
    /// Recompute and print the measurements, sections and metadata of an existing EIF.
    Describe {
        /// The EIF file.
        eif: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { binary, blobs, out, pcrs_out } => build(&binary, blobs, &out, pcrs_out.as_deref()),
        Command::Describe { eif } => describe(&eif),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sentinel-eif: {error}");
            match error {
                Error::MissingBlobs { .. } => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn blobs_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("NITRO_CLI_BLOBS").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BLOBS_DIR))
}

fn build(binary: &Path, blobs: Option<PathBuf>, out: &Path, pcrs_out: Option<&Path>) -> Result<(), Error> {
    // The blobs first: on a machine without nitro-cli that is the message that matters.
    let blobs = Blobs::load(&blobs_dir(blobs))?;
    let bytes =
        std::fs::read(binary).map_err(|e| Error::Io { context: format!("reading {}", binary.display()), source: e })?;
    let info = elf::inspect(&bytes).map_err(|why| Error::Input(format!("{}: {why}", binary.display())))?;
    if info.dynamic {
        eprintln!(
            "sentinel-eif: warning: {} is dynamically linked; the enclave's root file system has no libc \
             or loader, so it will not start (build it static: scripts/build-enclave-release.sh)",
            binary.display()
        );
    }
    let arch: Arch = info.arch;
    let input = BuildInput { binary: &bytes, arch, source_date_epoch: sentinel_eif::source_date_epoch()? };
    let measurements = sentinel_eif::build(&blobs, &input, out)?;
    let json = measurements.to_json();
    if let Some(path) = pcrs_out {
        sentinel_eif::write_json(path, &json)?;
    }
    print_json(&serde_json::json!({ "Measurements": json }))?;
    eprintln!("sentinel-eif: wrote {} ({})", out.display(), arch.name());
    Ok(())
}

fn describe(eif: &Path) -> Result<(), Error> {
    let description = sentinel_eif::describe(eif)?;
    print_json(&description.to_json())?;
    if !description.crc_valid {
        return Err(Error::Eif(format!("{}: the header's CRC32 does not match the file", eif.display())));
    }
    Ok(())
}

/// Pretty JSON and a newline on stdout; a closed pipe (`| head`) is not an error.
fn print_json(value: &serde_json::Value) -> Result<(), Error> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Io { context: "writing to stdout".to_string(), source: e })
        }
        _ => Ok(()),
    }
}
