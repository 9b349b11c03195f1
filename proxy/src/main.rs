//! `sentinel-proxy`: run on the parent instance (outside the enclave).
//!
//! ```text
//! sentinel-proxy --listen unix:/run/sentinel/enclave.sock --upstream vsock:16:5000
//! sentinel-proxy --listen tcp:127.0.0.1:5005 --upstream vsock:16:5000
//! ```
//!
//! Prints one JSON line on stdout once it listens
//! (`{"event":"proxy-ready","listen":…,"upstream":…}`), logs to stderr, and
//! stops on SIGINT/SIGTERM.
use clap::Parser;
use sentinel_proxy::{run_proxy, ListenAddr, ProxyListener, Upstream};

#[derive(Parser, Debug)]
#[command(name = "sentinel-proxy", version, about = "Parent-instance forwarder: host Unix/TCP socket -> enclave vsock")]
struct Args {
    /// Where the host sidecar connects: `unix:PATH` or `tcp:IP:PORT` (loopback addresses only).
    #[arg(long)]
    listen: ListenAddr,
    /// The enclave: `vsock:CID:PORT` (production) or `unix:PATH` (local tests).
    #[arg(long)]
    upstream: Upstream,
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    let args = Args::parse();
    // Forwarding is I/O only: one thread serves every connection.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match ProxyListener::bind(&args.listen).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("bind {:?} failed: {e}", args.listen);
                return std::process::ExitCode::from(2);
            }
        };
        println!(
            "{}",
            serde_json::json!({ "event": "proxy-ready", "listen": listener.describe(), "upstream": args.upstream.to_string() })
        );
        run_proxy(listener, args.upstream, shutdown_signal()).await;
        tracing::info!("stopped");
        std::process::ExitCode::SUCCESS
    })
}
