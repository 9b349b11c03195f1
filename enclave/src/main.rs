//! `sentinel-enclave`: the program inside the EIF (and, in local mode, a
//! plain process with the simulated NSM).
//!
//! On start it prints one JSON line on stdout (`{"event":"ready", ...}`) with
//! the listen address, PCR0..2 and the identity key, which the host launcher
//! (`zcp up`) reads; logs go to stderr. SIGINT/SIGTERM stop it cleanly.
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use sentinel_enclave::{serve, Enclave, EnclaveConfig, Listener};
use sentinel_nsm::NsmProvider;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum NsmKind {
    /// The real Nitro Security Module at /dev/nsm.
    Hardware,
    /// The local simulator (development root CA; never in production).
    Simulator,
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
    /// epoll (costs a core per connection; Unix socket only). See src/busy_poll.rs.
    #[arg(long, requires = "unix_socket")]
    busy_poll: bool,
    /// Proxy mode (run on the parent instance): forward connections accepted
    /// on --unix-socket to this enclave address, `vsock:CID:PORT` (or `unix:PATH`).
    #[arg(long, requires = "unix_socket")]
    proxy_to: Option<sentinel_enclave::Upstream>,
}

fn default_nsm() -> NsmKind {
    if cfg!(feature = "simulator") {
        NsmKind::Simulator
    } else {
        NsmKind::Hardware
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The NSM, the module id it reports, and (simulator only) where its dev root lives.
struct OpenedNsm {
    nsm: Arc<dyn NsmProvider>,
    module_id: String,
    dev_root: Option<PathBuf>,
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
            Ok(OpenedNsm { nsm: Arc::new(nsm), module_id, dev_root: Some(root) })
        }
        #[cfg(not(feature = "simulator"))]
        NsmKind::Simulator => Err("this build has no NSM simulator (built without feature `simulator`)".into()),
        #[cfg(all(feature = "hardware", target_os = "linux"))]
        NsmKind::Hardware => {
            let nsm = sentinel_nsm::hardware::NitroNsm::open().map_err(|e| e.to_string())?;
            Ok(OpenedNsm { nsm: Arc::new(nsm), module_id: "nitro".to_string(), dev_root: None })
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
    if let Some(upstream) = args.proxy_to.clone() {
        return run_proxy_mode(&args, upstream).await;
    }
    let OpenedNsm { nsm, module_id, dev_root } = match open_nsm(&args) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let enclave = match Enclave::new(nsm, module_id, &EnclaveConfig::default()) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            tracing::error!("enclave start failed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
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
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    match serve(listener, enclave, shutdown).await {
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

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn run_proxy_mode(args: &Args, upstream: sentinel_enclave::Upstream) -> std::process::ExitCode {
    let Some(path) = &args.unix_socket else { unreachable!("clap requires --unix-socket with --proxy-to") };
    let listener = match Listener::bind_unix(path) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("bind failed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    println!(
        "{}",
        serde_json::json!({ "event": "proxy-ready", "listen": listener.describe(), "upstream": format!("{upstream:?}") })
    );
    match sentinel_enclave::run_proxy(listener, upstream, shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("proxy failed: {e}");
            std::process::ExitCode::FAILURE
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
        "pcr0": hex::encode(enclave.pcrs()[0]),
        "pcr1": hex::encode(enclave.pcrs()[1]),
        "pcr2": hex::encode(enclave.pcrs()[2]),
        "identity_public_key": hex::encode(enclave.identity_public_key()),
        "user_data": hex::encode(enclave.user_data()),
        "dev_root_der": dev_root.map(|p| p.display().to_string()),
    });
    println!("{ready}");
}

async fn run_busy_poll_mode(args: &Args, enclave: Arc<Enclave>, dev_root: Option<PathBuf>) -> std::process::ExitCode {
    let Some(path) = &args.unix_socket else { unreachable!("clap requires --unix-socket with --busy-poll") };
    let _ = std::fs::remove_file(path);
    let listener = match std::os::unix::net::UnixListener::bind(path) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("bind failed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    print_ready(args, &enclave, &format!("unix:{}", path.display()), dev_root);
    std::thread::spawn(move || {
        if let Err(e) =
            sentinel_enclave::busy_poll::serve_busy_poll(listener, enclave, std::time::Duration::from_millis(200))
        {
            tracing::error!("busy-poll server failed: {e}");
        }
    });
    shutdown_signal().await;
    let _ = std::fs::remove_file(path);
    tracing::info!("stopped");
    std::process::ExitCode::SUCCESS
}
