//! A plain HTTP/1.1 client for one request per connection, over any `Read + Write` stream: a TCP
//! socket in tests, the vsock relay wrapped in the `tls` feature's connector in the enclave. Decides the bytes
//! written (request line, the signed headers, `content-length`, `connection: close`) and how a
//! response is read: the head through `httparse`, then a `content-length`, chunked or
//! read-to-close body, each capped. Trusts the stream for nothing: a peer that lies about lengths
//! or never finishes gets an error, not a hang beyond the stream's own timeouts.
use std::io::{self, Read, Write};

use crate::error::{err, KmsError, KmsErrorCode};
use crate::request::HttpRequest;
use crate::response::{HttpResponse, KmsTransport};

/// Largest response body read (KMS answers are a few KiB).
pub const MAX_RESPONSE_BODY: usize = 1 << 20;
/// Largest response head (status line and headers).
const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// Opens a fresh connection to KMS (through the parent's relay, in the enclave).
pub trait Connect {
    /// The connected stream.
    type Stream: Read + Write;
    /// Connects.
    fn connect(&mut self) -> io::Result<Self::Stream>;
}

impl<S: Read + Write, F: FnMut() -> io::Result<S>> Connect for F {
    type Stream = S;
    fn connect(&mut self) -> io::Result<S> {
        self()
    }
}

/// [`KmsTransport`] over HTTP/1.1: one new connection per request.
pub struct HttpTransport<C> {
    connector: C,
}

impl<C: Connect> HttpTransport<C> {
    /// A transport that connects with `connector` for each request.
    pub fn new(connector: C) -> Self {
        HttpTransport { connector }
    }
}

impl<C: Connect> KmsTransport for HttpTransport<C> {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, KmsError> {
        let mut stream = self.connector.connect().map_err(|e| io_failed("connect", &e))?;
        send_http1(&mut stream, request)
    }
}

fn io_failed(what: &str, e: &io::Error) -> KmsError {
    err(KmsErrorCode::TransportFailed, format!("{what}: {e}"))
}

fn malformed(what: &str) -> KmsError {
    err(KmsErrorCode::ResponseMalformed, format!("HTTP response: {what}"))
}

/// Writes `request` to `stream` and reads one response.
pub fn send_http1<S: Read + Write + ?Sized>(stream: &mut S, request: &HttpRequest) -> Result<HttpResponse, KmsError> {
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (name, value) in &request.headers {
        // A CR or LF would let a value start a header of its own.
        let crlf = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n');
        if name.is_empty() || crlf(name) || crlf(value) {
            return Err(err(KmsErrorCode::ArgumentInvalid, format!("header {name:?}: empty name or CR/LF")));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", request.body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(&request.body);
    stream.write_all(&out).map_err(|e| io_failed("write", &e))?;
    stream.flush().map_err(|e| io_failed("flush", &e))?;
    read_response(stream)
}

/// Reads more bytes into `buf`; `Ok(false)` at a clean end of stream.
fn fill<S: Read + ?Sized>(stream: &mut S, buf: &mut Vec<u8>) -> Result<bool, KmsError> {
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failed("read", &e)),
        }
    }
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

fn read_response<S: Read + ?Sized>(stream: &mut S) -> Result<HttpResponse, KmsError> {
    let mut buf = Vec::new();
    loop {
        let (status, framing, head_len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = parsed.code.ok_or_else(|| malformed("no status"))?;
                    break (status, framing(parsed.headers)?, len);
                }
                Ok(httparse::Status::Partial) => {
                    if buf.len() > MAX_HEAD {
                        return Err(malformed("head over 16 KiB"));
                    }
                    if !fill(stream, &mut buf)? {
                        return Err(io_failed("read", &io::Error::from(io::ErrorKind::UnexpectedEof)));
                    }
                }
                Err(e) => return Err(malformed(&format!("head does not parse ({e})"))),
            }
        };
        buf.drain(..head_len);
        // An interim 1xx answer (100 Continue) precedes the real one.
        if (100..200).contains(&status) {
            continue;
        }
        let body = match framing {
            Framing::Length(n) => {
                if n > MAX_RESPONSE_BODY {
                    return Err(malformed("body over the size cap"));
                }
                while buf.len() < n {
                    if !fill(stream, &mut buf)? {
                        return Err(malformed("body shorter than content-length"));
                    }
                }
                buf.truncate(n);
                buf
            }
            Framing::Chunked => dechunk(stream, buf)?,
            Framing::UntilClose => {
                while fill(stream, &mut buf)? {
                    if buf.len() > MAX_RESPONSE_BODY {
                        return Err(malformed("body over the size cap"));
                    }
                }
                buf
            }
        };
        return Ok(HttpResponse { status, body });
    }
}

fn framing(headers: &[httparse::Header<'_>]) -> Result<Framing, KmsError> {
    let mut length = None;
    for h in headers {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let value = std::str::from_utf8(h.value).map_err(|_| malformed("transfer-encoding"))?;
            // Only `chunked` (last, per RFC 9112) is understood; anything else is refused.
            if value.trim().eq_ignore_ascii_case("chunked") {
                return Ok(Framing::Chunked);
            }
            return Err(malformed("unsupported transfer-encoding"));
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| malformed("content-length"))?;
            if length.is_some_and(|m| m != n) {
                return Err(malformed("conflicting content-length"));
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

/// Decodes a chunked body that starts in `buf` (trailers are ignored: the connection closes).
fn dechunk<S: Read + ?Sized>(stream: &mut S, mut buf: Vec<u8>) -> Result<Vec<u8>, KmsError> {
    let mut body = Vec::new();
    loop {
        let (size_len, size) = loop {
            match httparse::parse_chunk_size(&buf) {
                Ok(httparse::Status::Complete((len, size))) => break (len, size),
                Ok(httparse::Status::Partial) => {
                    if buf.len() > MAX_HEAD || !fill(stream, &mut buf)? {
                        return Err(malformed("chunk size line"));
                    }
                }
                Err(_) => return Err(malformed("chunk size does not parse")),
            }
        };
        if size == 0 {
            return Ok(body);
        }
        let size = usize::try_from(size).ok().filter(|s| body.len() + s <= MAX_RESPONSE_BODY);
        let size = size.ok_or_else(|| malformed("body over the size cap"))?;
        buf.drain(..size_len);
        while buf.len() < size + 2 {
            if !fill(stream, &mut buf)? {
                return Err(malformed("chunk shorter than its size"));
            }
        }
        if &buf[size..size + 2] != b"\r\n" {
            return Err(malformed("chunk not followed by CRLF"));
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}
