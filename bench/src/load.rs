//! A small HTTP/1.1 load generator: keep-alive connections driven by one thread (pinned to a
//! core of its own when the machine has one to spare), either as fast as the server answers
//! (saturation) or at a fixed rate, open loop: each request has an intended send time and its
//! latency is measured from that time, so a server that falls behind is charged for the wait
//! (no coordinated omission).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to send and how.
#[derive(Clone)]
pub struct Load {
    pub port: u16,
    /// Raw requests, sent in turn.
    pub requests: Arc<Vec<Vec<u8>>>,
    pub connections: usize,
    pub duration: Duration,
    /// Requests per second over all connections; `None` is saturation.
    pub rate: Option<f64>,
    /// Keep the `id` of every 201 answer (for the crash benchmark).
    pub keep_ids: bool,
    /// The core to run on, if any.
    pub core: Option<usize>,
}

/// What came back.
#[derive(Default)]
pub struct Outcome {
    /// Microseconds per answered request.
    pub latencies: Vec<u32>,
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// Connections that failed (refused, reset, closed mid-answer).
    pub errors: u64,
    pub elapsed: Duration,
    pub ids: Vec<String>,
}

impl Outcome {
    pub fn answered(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// requests/s, p50/p99/max latency and the status counts.
    pub fn summary(&self) -> Value {
        let mut l = self.latencies.clone();
        l.sort_unstable();
        let pct = |p: f64| {
            l.get(((l.len().max(1) - 1) as f64 * p) as usize)
                .copied()
                .unwrap_or(0)
        };
        let statuses: serde_json::Map<String, Value> = self
            .statuses
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({
            "requests_per_s": (self.answered() as f64 / self.elapsed.as_secs_f64()).round(),
            "p50_us": pct(0.5), "p99_us": pct(0.99), "max_us": pct(1.0),
            "answered": self.answered(), "errors": self.errors, "statuses": statuses,
        })
    }
}

/// Pins the calling thread to `core`.
pub fn pin(core: usize) {
    // SAFETY: `set` is a plain bit set on the stack; the call only reads it.
    #[expect(unsafe_code, reason = "sched_setaffinity has no safe wrapper in libc")]
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Runs `load` to completion on a thread of its own.
pub fn run(load: Load) -> Outcome {
    std::thread::spawn(move || {
        if let Some(core) = load.core {
            pin(core);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(drive(load))
    })
    .join()
    .unwrap_or_default()
}

async fn drive(load: Load) -> Outcome {
    let start = Instant::now();
    let end = start + load.duration;
    let tasks: Vec<_> = (0..load.connections)
        .map(|k| tokio::spawn(connection(load.clone(), k, start, end)))
        .collect();
    let mut total = Outcome::default();
    for t in tasks {
        if let Ok(o) = t.await {
            total.latencies.extend(o.latencies);
            for (s, n) in o.statuses {
                *total.statuses.entry(s).or_default() += n;
            }
            total.errors += o.errors;
            total.ids.extend(o.ids);
        }
    }
    total.elapsed = start
        .elapsed()
        .min(load.duration.max(Duration::from_millis(1)));
    total
}

async fn connection(load: Load, k: usize, start: Instant, end: Instant) -> Outcome {
    let mut out = Outcome::default();
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", load.port)).await else {
        out.errors += 1;
        return out;
    };
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let intended = match load.rate {
            Some(rate) => {
                let at = start
                    + Duration::from_secs_f64(
                        (n as f64 * load.connections as f64 + k as f64) / rate,
                    );
                if at >= end {
                    break;
                }
                if Instant::now() < at {
                    // Idle until the intended time: the timer's slack (about 1 ms) is the
                    // client's, so the clock starts when the request actually goes out.
                    tokio::time::sleep_until(at.into()).await;
                    Instant::now()
                } else {
                    // Behind schedule because the server was slow to answer: that wait is
                    // charged to the server.
                    at
                }
            }
            None => Instant::now(),
        };
        if intended >= end {
            break;
        }
        let request = &load.requests[(n as usize * load.connections + k) % load.requests.len()];
        n += 1;
        if stream.write_all(request).await.is_err() {
            out.errors += 1;
            break;
        }
        match read_response(&mut stream, &mut buf).await {
            Some((status, body)) => {
                out.latencies
                    .push(intended.elapsed().as_micros().min(u32::MAX as u128) as u32);
                *out.statuses.entry(status).or_default() += 1;
                if load.keep_ids
                    && status == 201
                    && let Some(id) = id_of(&buf[body])
                {
                    out.ids.push(id);
                }
            }
            None => {
                out.errors += 1;
                break;
            }
        }
    }
    out
}

/// The top-level `"id"` of a decision body (it is the first field).
fn id_of(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = text.split_once("\"id\":\"")?.1;
    Some(rest.split_once('"')?.0.to_owned())
}

/// Reads one response into `buf`: its status and the range of its body.
async fn read_response(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Option<(u16, std::ops::Range<usize>)> {
    let mut len = 0usize;
    let head_end = loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let got = stream.read(&mut buf[len..]).await.ok()?;
        if got == 0 {
            return None;
        }
        len += got;
        if let Some(i) = buf[..len].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let total = head_end + length;
    if buf.len() < total {
        buf.resize(total, 0);
    }
    while len < total {
        let got = stream.read(&mut buf[len..total]).await.ok()?;
        if got == 0 {
            return None;
        }
        len += got;
    }
    Some((status, head_end..total))
}

/// An HTTP/1.1 request with a JSON body.
pub fn post(path: &str, token: &str, body: &Value) -> Vec<u8> {
    let payload = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .into_bytes()
}
