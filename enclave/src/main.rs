//! `sentinel-enclave`: the program inside the EIF (and, in local mode, a
//! plain process with the simulated NSM).
//!
//! On start it prints one JSON line on stdout (`{"event":"ready", ...}`) with
//! the listen address, PCR0..2, the attested key bundle and the configuration
//! hash, which the host launcher (`zcp up`) reads; logs go to stderr.
//! SIGINT/SIGTERM stop it cleanly.
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use sentinel_enclave::busy_poll::BusyPollListener;
use sentinel_enclave::{serve_with_limits, Enclave, EnclaveConfig, Limits, Listener};
use sentinel_nsm::NsmProvider;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum NsmKind {
    /// The real Nitro Security Module at /dev/nsm.
    Hardware,
    /// The local simulator (development root CA; never in production).
    Simulator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SealingArg {
    /// A master-key file in the data directory (mode 0600; local stack only: DEVELOPMENT).
    Development,
    /// No sealing: keys live in memory only and a restart loses them (every key is `ephemeral`).
    None,
    /// AWS KMS with an attestation `Recipient` (production): the key arrives with `sealing_unlock`.
    AwsKms,
}

#[derive(Parser, Debug)]
#[command(name = "sentinel-enclave", version, about = "Sentinel enclave program")]
struct Args {
    /// Serve on this Unix socket (local mode).
    #[arg(long, conflicts_with = "vsock_port", required_unless_present = "vsock_port")]
    unix_socket: Option<PathBuf>,
    /// Serve on this vsock port (production).
    #[arg(long)]
    vsock_port: Option<u32>,
    /// Which NSM to use.
    #[arg(long, value_enum, default_value_t = default_nsm())]
    nsm: NsmKind,
    /// Where the simulator keeps its development CA.
    #[arg(long, default_value = ".sentinel")]
    data_dir: PathBuf,
    /// Latency mode: one spinning thread per connection instead of sleeping in
    /// epoll (costs a core per connection; Unix socket or vsock). See src/busy_poll.rs.
    #[arg(long)]
    busy_poll: bool,
    /// Host connections served at once; one more gets a `TOO_MANY_CONNECTIONS`
    /// error frame and is closed.
    #[arg(long, default_value_t = Limits::DEFAULT_MAX_CONNECTIONS, value_parser = at_least_one)]
    max_connections: usize,
    /// `attest` requests computed at once over all connections; one more is
    /// answered with an `ENCLAVE_BUSY` error frame (its connection stays open).
    #[arg(long, default_value_t = Limits::DEFAULT_MAX_ATTESTATIONS_IN_FLIGHT, value_parser = at_least_one)]
    max_attestations_in_flight: usize,
    /// Signed configuration to install at boot (local mode; trusted on first use,
    /// it must carry its own admin quorum). Without it the enclave waits for an
    /// `update_config` frame and answers only `ping` and `describe` until then.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Signed policy to install at boot, right after `--config` (the envelope JSON
    /// of docs/policy.md, signed by that configuration's admin quorum). Without a
    /// policy nothing is signed (`POLICY_NOT_INSTALLED`) until `update_policy`.
    #[arg(long, requires = "config")]
    policy: Option<PathBuf>,
    /// An ONNX model that the `--policy`'s `risk_score` rules pin by SHA-256 (repeat for each).
    #[arg(long = "policy-model", requires = "policy")]
    policy_models: Vec<PathBuf>,
    /// Seconds between refreshes of the boot attestation document (its leaf
    /// certificate is valid ~3 hours; receipts must stay verifiable now).
    #[arg(long, default_value_t = 3600, value_parser = at_least_one)]
    evidence_refresh_secs: usize,
    /// Keys this enclave holds at once; one more `generate_key` is refused with `KEY_LIMIT_REACHED`.
    #[arg(long, default_value_t = sentinel_protocol::limits::DEFAULT_MAX_KEYS, value_parser = at_least_one)]
    max_keys: usize,
    /// The audit log signs a checkpoint at least every this many records.
    #[arg(long, default_value_t = 1024, value_parser = at_least_one)]
    audit_checkpoint_every: usize,
    /// ... and at least every this many milliseconds while it grows.
    #[arg(long, default_value_t = 1000, value_parser = at_least_one)]
    audit_checkpoint_ms: usize,
    /// Audit records the host may leave unacknowledged (`audit_ack`) before signing stops
    /// with `AUDIT_BACKLOG_FULL`.
    #[arg(long, default_value_t = 16_384, value_parser = at_least_one)]
    audit_backlog: usize,
    /// Local mode: stop, as on SIGTERM, once the process that started this one
    /// is gone, so a launcher killed outright (`zcp up` on SIGKILL) leaves no
    /// enclave serving an orphaned socket.
    #[arg(long)]
    exit_with_parent: bool,
    /// Keep the audit log closed until the host resumes the previous enclave's log
    /// (`audit_resume_*`, which also rebuilds the kill switch and policy counters from it) or
    /// starts a new one (`audit_start`); nothing is signed meanwhile (docs/audit.md, "Restart").
    #[arg(long)]
    audit_resume: bool,
    /// Write no session answer before the host has acknowledged its audit record as durable
    /// (`audit_ack`): the strict audit mode on the session path (the host follows the log with
    /// `audit_wait`). Without it session answers leave at once and their records follow.
    #[arg(long)]
    audit_strict_sessions: bool,
    /// Where keys survive a restart (docs/sealed-state.md): the master key's provider.
    #[arg(long, value_enum, default_value_t = SealingArg::None)]
    sealing: SealingArg,
    /// The development sealing key file (default: DATA_DIR/sealing/master.key; made on first use).
    #[arg(long)]
    sealing_key_file: Option<PathBuf>,
    /// Take the master key from a running enclave instead of the provider (attested forwarding,
    /// `forward_send` / `forward_accept`): a replica, or a new image after an approved upgrade.
    /// Until it arrives no key is created or loaded (`SEALING_KEY_ABSENT`).
    #[arg(long)]
    sealing_from_peer: bool,
    /// Where the parent's relay to the AWS KMS endpoint listens (`--sealing aws-kms`): `vsock:PORT`
    /// (production; CID 3) or `tcp:HOST:PORT`. TLS to the endpoint ends inside this process.
    #[arg(long)]
    kms_relay: Option<String>,
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}`: expected a whole number >= 1")),
    }
}

impl Args {
    fn audit_policy(&self) -> sentinel_enclave::audit::AuditPolicy {
        sentinel_enclave::audit::AuditPolicy {
            checkpoint_every: self.audit_checkpoint_every as u64,
            checkpoint_interval_us: (self.audit_checkpoint_ms as u64).saturating_mul(1000),
            max_backlog: self.audit_backlog as u64,
            strict_sessions: self.audit_strict_sessions,
        }
    }

    fn limits(&self) -> Limits {
        Limits { max_connections: self.max_connections, max_attestations_in_flight: self.max_attestations_in_flight }
    }
}

fn default_nsm() -> NsmKind {
    if cfg!(feature = "simulator") {
        NsmKind::Simulator
    } else {
        NsmKind::Hardware
    }
}

#[cfg(feature = "simulator")]
fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The NSM, the module id it reports, and (simulator only) where its dev root lives.
struct OpenedNsm {
    nsm: Arc<dyn NsmProvider>,
    module_id: String,
    dev_root: Option<PathBuf>,
    /// The root a previous enclave's document must chain to (a resumed audit log): the
    /// simulator's development root, or the pinned AWS Nitro root on hardware.
    root_der: Vec<u8>,
}

fn open_nsm(args: &Args) -> Result<OpenedNsm, String> {
    match args.nsm {
        #[cfg(feature = "simulator")]
        NsmKind::Simulator => {
            let exe = std::env::current_exe().map_err(|e| format!("cannot locate own binary: {e}"))?;
            let artifact = std::fs::read(&exe).map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
            let pcrs = sentinel_nsm::pcr::pcrs_from_artifact(&artifact);
            std::fs::create_dir_all(&args.data_dir).map_err(|e| format!("data dir: {e}"))?;
            let nsm = sentinel_nsm::simulator::SimulatedNsm::open(&args.data_dir, pcrs, Arc::new(now_ms))
                .map_err(|e| e.to_string())?;
            let root = nsm.ca_dir().join("root.der");
            let module_id = nsm.module_id().to_string();
            let root_der = nsm.root_der().to_vec();
            Ok(OpenedNsm { nsm: Arc::new(nsm), module_id, dev_root: Some(root), root_der })
        }
        #[cfg(not(feature = "simulator"))]
        NsmKind::Simulator => Err("this build has no NSM simulator (the default `hardware` feature set); local mode needs `cargo build --release -p sentinel-enclave --no-default-features --features simulator` (scripts/build.sh)".into()),
        #[cfg(all(feature = "hardware", target_os = "linux"))]
        NsmKind::Hardware => {
            let nsm = sentinel_nsm::hardware::NitroNsm::open().map_err(|e| e.to_string())?;
            Ok(OpenedNsm {
                nsm: Arc::new(nsm),
                module_id: "nitro".to_string(),
                dev_root: None,
                root_der: sentinel_attestation::AWS_NITRO_ROOT_G1_DER.to_vec(),
            })
        }
        #[cfg(not(all(feature = "hardware", target_os = "linux")))]
        NsmKind::Hardware => Err("this build has no /dev/nsm provider (built without feature `hardware`)".into()),
    }
}

fn main() -> std::process::ExitCode {
    match sentinel_enclave::runtime() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    let args = Args::parse();
    let OpenedNsm { nsm, module_id, dev_root, root_der } = match open_nsm(&args) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let sealing = match open_sealing(&args) {
        Ok(sealing) => sealing,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let enclave = match Enclave::with_sealing(
        nsm,
        module_id,
        &EnclaveConfig {
            max_keys: args.max_keys,
            audit: args.audit_policy(),
            audit_resume: args.audit_resume,
            attestation_root: Some(root_der),
            ..EnclaveConfig::default()
        },
        sealing,
    ) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            tracing::error!("enclave start failed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Some(relay) = &args.kms_relay {
        match sentinel_enclave::kms_unlock::Relay::parse(relay) {
            Ok(relay) => enclave.set_kms_connector(Box::new(sentinel_enclave::kms_unlock::RelayConnector::new(relay))),
            Err(e) => {
                tracing::error!("{e}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    if let Some(path) = &args.config {
        if let Err(e) = install_config(&enclave, path) {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    }
    if let Some(path) = &args.policy {
        if let Err(e) = install_policy(&enclave, path, &args.policy_models) {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    }
    spawn_evidence_refresh(enclave.clone(), std::time::Duration::from_secs(args.evidence_refresh_secs as u64));
    spawn_oversight_timer(enclave.clone());
    if args.busy_poll {
        return run_busy_poll_mode(&args, enclave, dev_root).await;
    }
    let listener = match (&args.unix_socket, args.vsock_port) {
        (Some(path), _) => Listener::bind_unix(path),
        #[cfg(feature = "hardware")]
        (None, Some(port)) => Listener::bind_vsock(port),
        #[cfg(not(feature = "hardware"))]
        (None, Some(_)) => Err(std::io::Error::other("this build has no vsock transport (feature `hardware`)")),
        (None, None) => unreachable!("clap requires one of --unix-socket / --vsock-port"),
    };
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("bind failed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    print_ready(&args, &enclave, &listener.describe(), dev_root);
    match serve_with_limits(listener, enclave, args.limits(), shutdown_signal(args.exit_with_parent)).await {
        Ok(()) => {
            tracing::info!("stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("serve failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the kill switch's timers (the heartbeat deadline, held requests' expiry) and the audit
/// log's checkpoint timer every 5 ms. Requests check the heartbeat deadline themselves, so this
/// only decides how soon a missed heartbeat shows in `status` and drops held requests when
/// nothing else arrives.
fn spawn_oversight_timer(enclave: Arc<Enclave>) {
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(5));
        enclave.oversight_tick();
        enclave.audit_tick();
    });
}

/// Refreshes the boot attestation document on a timer, on its own thread (attestation is
/// milliseconds of P-384 work; the serving threads never wait for it).
fn spawn_evidence_refresh(enclave: Arc<Enclave>, every: std::time::Duration) {
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        match enclave.refresh_evidence() {
            Ok(Some(hash)) => tracing::info!(attestation_hash = %hex::encode(hash), "boot attestation refreshed"),
            Ok(None) => {}
            Err(e) => tracing::error!("boot attestation refresh failed: {e}"),
        }
    });
}

/// The master key from the provider `--sealing` names, asked once, before anything is served.
fn open_sealing(args: &Args) -> Result<sentinel_enclave::sealing::Sealing, String> {
    use sentinel_enclave::master_key::{DevelopmentKeyFile, NoSealing};
    use sentinel_enclave::sealing::Sealing;
    if args.sealing_from_peer {
        let kind = match args.sealing {
            SealingArg::Development => sentinel_seal::SealingKind::Development,
            SealingArg::AwsKms => sentinel_seal::SealingKind::AwsKms,
            SealingArg::None => return Err("--sealing-from-peer needs a sealing provider other than none".into()),
        };
        tracing::warn!("sealing: waiting for the master key from a running enclave (forward_accept)");
        return Ok(Sealing::awaiting_key(kind));
    }
    let opened = match args.sealing {
        SealingArg::Development => {
            let path = args.sealing_key_file.clone().unwrap_or_else(|| args.data_dir.join("sealing/master.key"));
            Sealing::from_provider(&DevelopmentKeyFile { path })
        }
        SealingArg::None => {
            tracing::warn!("sealing: none: keys live in memory only; a restart loses every key (each is `ephemeral`)");
            Sealing::from_provider(&NoSealing)
        }
        SealingArg::AwsKms => {
            if args.kms_relay.is_none() {
                return Err("--sealing aws-kms needs --kms-relay (vsock:PORT or tcp:HOST:PORT)".into());
            }
            tracing::info!("sealing: aws-kms: waiting for sealing_unlock (the parent's credentials and stored blob)");
            return Ok(Sealing::awaiting_key(sentinel_seal::SealingKind::AwsKms));
        }
    };
    opened.map_err(|e| format!("{}: {}", e.code(), e.message()))
}

fn install_config(enclave: &Enclave, path: &std::path::Path) -> Result<(), String> {
    let signed = std::fs::read(path).map_err(|e| format!("config {}: {e}", path.display()))?;
    let request =
        sentinel_protocol::Request::UpdateConfig(sentinel_protocol::UpdateConfigArgs { signed_config: signed });
    match enclave.handle(request) {
        sentinel_protocol::Response::ConfigUpdated(_) => Ok(()),
        sentinel_protocol::Response::Error(e) => Err(format!("config {}: {}: {}", path.display(), e.code, e.message)),
        other => Err(format!("config {}: unexpected answer {}", path.display(), other.wire_name())),
    }
}

fn install_policy(enclave: &Enclave, path: &std::path::Path, models: &[PathBuf]) -> Result<(), String> {
    let signed = std::fs::read(path).map_err(|e| format!("policy {}: {e}", path.display()))?;
    let mut onnx = Vec::with_capacity(models.len());
    for model in models {
        let bytes = std::fs::read(model).map_err(|e| format!("policy model {}: {e}", model.display()))?;
        onnx.push(sentinel_protocol::PolicyModel { onnx: bytes });
    }
    let request = sentinel_protocol::Request::UpdatePolicy(sentinel_protocol::UpdatePolicyArgs {
        signed_policy: signed,
        models: onnx,
    });
    match enclave.handle(request) {
        sentinel_protocol::Response::PolicyUpdated(_) => Ok(()),
        sentinel_protocol::Response::Error(e) => Err(format!("policy {}: {}: {}", path.display(), e.code, e.message)),
        other => Err(format!("policy {}: unexpected answer {}", path.display(), other.wire_name())),
    }
}

async fn shutdown_signal(exit_with_parent: bool) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = parent_gone(exit_with_parent) => {}
    }
}

/// Resolves once this process has been re-parented (its launcher died); never when not asked to watch.
async fn parent_gone(watch: bool) {
    if !watch {
        return std::future::pending().await;
    }
    let parent = std::os::unix::process::parent_id();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tick.tick().await;
        if std::os::unix::process::parent_id() != parent {
            tracing::warn!("the launching process {parent} is gone: stopping");
            return;
        }
    }
}

/// The one stdout line the launcher (`zcp up`) waits for.
fn print_ready(args: &Args, enclave: &Enclave, listen: &str, dev_root: Option<PathBuf>) {
    let ready = serde_json::json!({
        "event": "ready",
        "listen": listen,
        "nsm": format!("{:?}", args.nsm).to_lowercase(),
        "busy_poll": args.busy_poll,
        "max_connections": args.max_connections,
        "max_attestations_in_flight": args.max_attestations_in_flight,
        "max_keys": args.max_keys,
        "pcr0": hex::encode(enclave.pcrs()[0]),
        "pcr1": hex::encode(enclave.pcrs()[1]),
        "pcr2": hex::encode(enclave.pcrs()[2]),
        "attested_keys": hex::encode(enclave.attested_keys()),
        "audit_origin": enclave.audit_log().origin(),
        "audit_verifier_key": enclave.audit_log().verifier_key(),
        "config_hash": enclave.config_hash().map(hex::encode),
        "policy_hash": enclave.policy().map(|(hash, _)| hex::encode(hash)),
        "policy_version": enclave.policy().map(|(_, version)| version),
        "dev_root_der": dev_root.map(|p| p.display().to_string()),
        "sealing": enclave.sealing_kind().as_str(),
    });
    println!("{ready}");
}

async fn run_busy_poll_mode(args: &Args, enclave: Arc<Enclave>, dev_root: Option<PathBuf>) -> std::process::ExitCode {
    let listener = match (&args.unix_socket, args.vsock_port) {
        (Some(path), _) => BusyPollListener::bind_unix(path),
        #[cfg(feature = "hardware")]
        (None, Some(port)) => BusyPollListener::bind_vsock(port),
        #[cfg(not(feature = "hardware"))]
        (None, Some(_)) => Err(std::io::Error::other("this build has no vsock transport (feature `hardware`)")),
        (None, None) => unreachable!("clap requires one of --unix-socket / --vsock-port"),
    };
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("bind failed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    print_ready(args, &enclave, &listener.describe(), dev_root);
    let limits = args.limits();
    // The accept thread runs until the process exits; on a Unix socket the
    // file is removed below (the listener itself is never dropped).
    let socket_file = args.unix_socket.clone();
    std::thread::spawn(move || {
        sentinel_enclave::busy_poll::serve_busy_poll(listener, enclave, std::time::Duration::from_millis(200), limits)
    });
    shutdown_signal(args.exit_with_parent).await;
    if let Some(path) = socket_file {
        let _ = std::fs::remove_file(path);
    }
    tracing::info!("stopped");
    std::process::ExitCode::SUCCESS
}
