//! The proxy over real sockets: bytes forwarded unchanged both ways (Unix and
//! loopback TCP listeners, a Unix upstream standing in for vsock), half-close,
//! an unreachable enclave, address validation, and the binary itself (ready
//! line, refusal of a non-loopback address, SIGTERM).
use std::path::{Path, PathBuf};
use std::time::Duration;

use sentinel_proxy::{run_proxy, ListenAddr, ProxyListener, Upstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;

/// An upstream that echoes every byte back and closes after the client's EOF.
fn echo_upstream(path: &Path) {
    let listener = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
}

async fn start_proxy(listen: ListenAddr, upstream: Upstream) -> (String, oneshot::Sender<()>) {
    let listener = ProxyListener::bind(&listen).await.unwrap();
    let described = listener.describe();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(run_proxy(listener, upstream, async {
        let _ = stopped.await;
    }));
    (described, stop)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

async fn echo_through<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static>(s: S, data: Vec<u8>) {
    let (mut r, mut w) = tokio::io::split(s);
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap(); // half-close: the echo server sees EOF and closes its side
    });
    let mut back = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), r.read_to_end(&mut back)).await.unwrap().unwrap();
    writer.await.unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "bytes changed in transit");
}

#[tokio::test]
async fn forwards_bytes_unchanged_both_ways_over_unix() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = dir.path().join("enclave.sock");
    echo_upstream(&enclave);
    let proxy: PathBuf = dir.path().join("proxy.sock");
    let (described, _stop) = start_proxy(ListenAddr::Unix(proxy.clone()), Upstream::Unix(enclave)).await;
    assert_eq!(described, format!("unix:{}", proxy.display()));
    // Several connections at once, each with its own upstream connection; 1 MiB each way.
    let mut clients = Vec::new();
    for seed in 0..4u8 {
        let s = UnixStream::connect(&proxy).await.unwrap();
        clients.push(tokio::spawn(echo_through(s, pattern(1 << 20, seed))));
    }
    for c in clients {
        c.await.unwrap();
    }
}

#[tokio::test]
async fn listens_on_loopback_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = dir.path().join("enclave.sock");
    echo_upstream(&enclave);
    let (described, _stop) = start_proxy("tcp:127.0.0.1:0".parse().unwrap(), Upstream::Unix(enclave)).await;
    let addr = described.strip_prefix("tcp:").unwrap();
    assert!(!addr.ends_with(":0"), "the bound port is reported: {described}");
    let s = tokio::net::TcpStream::connect(addr).await.unwrap();
    echo_through(s, pattern(100_000, 9)).await;
}

#[tokio::test]
async fn an_unreachable_enclave_closes_the_host_connection() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = dir.path().join("proxy.sock");
    let (_, _stop) =
        start_proxy(ListenAddr::Unix(proxy.clone()), Upstream::Unix(dir.path().join("no-enclave.sock"))).await;
    let mut s = UnixStream::connect(&proxy).await.unwrap();
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.unwrap().unwrap_or(0);
    assert_eq!(n, 0, "closed, so the sidecar reports ENCLAVE_UNAVAILABLE and reconnects");
}

#[test]
fn addresses_are_validated() {
    assert_eq!("vsock:16:5000".parse::<Upstream>(), Ok(Upstream::Vsock { cid: 16, port: 5000 }));
    assert_eq!("unix:/tmp/e.sock".parse::<Upstream>(), Ok(Upstream::Unix("/tmp/e.sock".into())));
    assert_eq!(Upstream::Vsock { cid: 16, port: 5000 }.to_string(), "vsock:16:5000");
    for bad in ["tcp:1.2.3.4:5", "vsock:16", "vsock:x:1", "vsock:1:y", "unix:", "16:5000"] {
        assert!(bad.parse::<Upstream>().is_err(), "{bad}");
    }
    assert!(matches!("tcp:127.0.0.1:5000".parse::<ListenAddr>(), Ok(ListenAddr::Tcp(_))));
    assert!(matches!("tcp:[::1]:5000".parse::<ListenAddr>(), Ok(ListenAddr::Tcp(_))));
    assert!(matches!("unix:/run/s.sock".parse::<ListenAddr>(), Ok(ListenAddr::Unix(_))));
    for bad in ["tcp:0.0.0.0:5000", "tcp:10.0.0.1:5000", "tcp:[::]:5000", "tcp:localhost:5000", "vsock:3:5000", "unix:"]
    {
        let err = bad.parse::<ListenAddr>().unwrap_err();
        assert!(!err.is_empty(), "{bad}");
    }
    assert!("tcp:0.0.0.0:5000".parse::<ListenAddr>().unwrap_err().contains("loopback"));
}

fn kill(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill").args([signal, &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn the_binary_prints_a_ready_line_forwards_and_stops_on_sigterm() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let enclave = dir.path().join("enclave.sock");
    echo_upstream(&enclave);
    let proxy = dir.path().join("proxy.sock");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sentinel-proxy"))
        .arg("--listen")
        .arg(format!("unix:{}", proxy.display()))
        .arg("--upstream")
        .arg(format!("unix:{}", enclave.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready["event"], "proxy-ready");
    assert_eq!(ready["listen"], format!("unix:{}", proxy.display()));
    assert_eq!(ready["upstream"], format!("unix:{}", enclave.display()));
    echo_through(UnixStream::connect(&proxy).await.unwrap(), pattern(10_000, 3)).await;
    kill(child.id().unwrap(), "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!proxy.exists(), "the socket file is removed on exit");
}

#[test]
fn the_binary_refuses_a_non_loopback_tcp_address() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sentinel-proxy"))
        .args(["--listen", "tcp:0.0.0.0:5000", "--upstream", "vsock:16:5000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
