//! A hostile proxy for tests: a raw TCP server on 127.0.0.1 in front of the
//! embedded platform. Requests with no script queued are piped to the
//! platform byte for byte; a scripted request gets exactly the bytes, pauses
//! and closes of its script — what no well-behaved HTTP server library will
//! send (a wrong `content-length`, a connection closed mid-body, an endless
//! or trickling body, garbage where the status line should be).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One step of a scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Pause.
    Sleep(Duration),
    /// Write `chunk` every `every`, `times` times (`None`: until the client
    /// goes away).
    Repeat {
        /// Bytes written each time.
        chunk: Vec<u8>,
        /// Pause between writes.
        every: Duration,
        /// How many writes; `None` for no end.
        times: Option<u64>,
    },
    /// Keep the connection open, writing nothing, until the client goes away.
    Hold,
}

/// A scripted answer for the next request whose path contains `path_contains`.
#[derive(Clone, Debug)]
pub struct Script {
    /// Which requests it answers (a substring of the request target).
    pub path_contains: String,
    /// What is sent back; the connection closes after the last step.
    pub steps: Vec<Step>,
}

impl Script {
    /// A script for requests whose path contains `path_contains`.
    pub fn new(path_contains: &str, steps: Vec<Step>) -> Self {
        Self { path_contains: path_contains.into(), steps }
    }

    /// A status line and headers (`\r\n`-joined, ending the head).
    pub fn head(status: u16, headers: &[(&str, &str)]) -> Step {
        let mut head = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        Step::Write(head.into_bytes())
    }

    /// A complete answer with a correct `content-length`.
    pub fn answer(path_contains: &str, status: u16, body: &[u8]) -> Self {
        let len = body.len().to_string();
        let head = Self::head(status, &[("content-type", "application/json"), ("content-length", &len)]);
        Self::new(path_contains, vec![head, Step::Write(body.to_vec())])
    }
}

/// The proxy: its address, script queue and the count of requests it saw.
pub struct HostileProxy {
    addr: SocketAddr,
    scripts: Arc<Mutex<VecDeque<Script>>>,
    seen: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl HostileProxy {
    /// Listens on a free loopback port and forwards to `upstream` (host:port).
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let scripts: Arc<Mutex<VecDeque<Script>>> = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (queue, log) = (scripts.clone(), seen.clone());
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (queue, log) = (queue.clone(), log.clone());
                tokio::spawn(async move {
                    let _ = serve(conn, upstream, queue, log).await;
                });
            }
        });
        Ok(Self { addr, scripts, seen, task })
    }

    /// The base URL to configure the client with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a script; it answers the next matching request only.
    pub fn push(&self, script: Script) {
        self.scripts.lock().unwrap().push_back(script);
    }

    /// Scripts not used yet.
    pub fn pending(&self) -> usize {
        self.scripts.lock().unwrap().len()
    }

    /// Every request line received, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for HostileProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Largest request head accepted (the client's are far smaller).
const MAX_HEAD: usize = 64 * 1024;

async fn serve(
    mut conn: TcpStream,
    upstream: SocketAddr,
    queue: Arc<Mutex<VecDeque<Script>>>,
    log: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    // Read the request head (and whatever body bytes came with it).
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > MAX_HEAD {
            return Ok(());
        }
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    log.lock().unwrap().push(request_line.clone());
    let target = request_line.split(' ').nth(1).unwrap_or_default();
    let script = {
        let mut queue = queue.lock().unwrap();
        let at = queue.iter().position(|s| target.contains(&s.path_contains));
        at.and_then(|at| queue.remove(at))
    };
    let Some(script) = script else {
        // Unscripted: pipe the request to the platform and its answer back.
        let mut up = TcpStream::connect(upstream).await?;
        up.write_all(&buf).await?;
        tokio::io::copy_bidirectional(&mut conn, &mut up).await?;
        return Ok(());
    };
    // Read the rest of the request body, so the client is not cut off mid-send.
    let content_length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < content_length {
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        have += n;
    }
    for step in script.steps {
        match step {
            Step::Write(bytes) => conn.write_all(&bytes).await?,
            Step::Sleep(d) => tokio::time::sleep(d).await,
            Step::Repeat { chunk, every, times } => {
                let mut n = 0;
                while times.is_none_or(|t| n < t) {
                    conn.write_all(&chunk).await?;
                    n += 1;
                    if !every.is_zero() {
                        tokio::time::sleep(every).await;
                    }
                }
            }
            Step::Hold => {
                // Returns when the client closes (read gives 0 or fails).
                let mut sink = [0u8; 1024];
                while conn.read(&mut sink).await.unwrap_or(0) > 0 {}
            }
        }
    }
    conn.shutdown().await
}
