//! A minimal local HTTP receiver for webhook tests: records each request's path and body and
//! answers with a fixed status and body, optionally after a delay.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub content_type: Option<String>,
    pub body: String,
}

/// A running receiver; it stops accepting when dropped (the listener thread ends with the test).
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Answers `status` with `body` after `delay`.
    pub fn start(status: u16, body: &'static str, delay: Duration) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let url = format!(
            "http://{}/hook/secret-token",
            listener.local_addr().expect("addr")
        );
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&got);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || serve(stream, &sink, status, body, delay));
            }
        });
        Receiver { url, got }
    }

    /// Waits for `n` requests (or the timeout) and returns what arrived.
    pub fn wait(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.got.lock().expect("lock").clone();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(stream: TcpStream, sink: &Mutex<Vec<Received>>, status: u16, body: &str, delay: Duration) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut length = 0usize;
    let mut content_type = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if let Some(v) = lower.strip_prefix("content-type:") {
            content_type = Some(v.trim().to_string());
        }
    }
    let mut buf = vec![0; length];
    if reader.read_exact(&mut buf).is_err() {
        return;
    }
    sink.lock().expect("lock").push(Received {
        path,
        content_type,
        body: String::from_utf8_lossy(&buf).into_owned(),
    });
    std::thread::sleep(delay);
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A receiver that answers `200` in broken ways, by path: `/slow` (headers and 10 of 100 body
/// bytes, then a stall), `/cut` (the same, then the connection closes), `/big` (a deny padded
/// to 70 KB) and `/bom` (a deny after a UTF-8 byte order mark). Returns its base URL.
pub fn start_misbehaving() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || misbehave(stream));
        }
    });
    url
}

fn misbehave(stream: TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut buf = vec![0; length];
    if reader.read_exact(&mut buf).is_err() {
        return;
    }
    let mut out = reader.into_inner();
    let head = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
        )
    };
    let body = match path.as_str() {
        "/slow" | "/cut" => {
            let _ = out.write_all(head(100).as_bytes());
            let _ = out.write_all(br#"{"decisio"#);
            let _ = out.flush();
            if path == "/slow" {
                std::thread::sleep(Duration::from_secs(60));
            }
            return;
        }
        "/big" => format!(
            r#"{{"decision":"deny","reason":"padded","pad":"{}"}}"#,
            "x".repeat(70 * 1000)
        ),
        "/bom" => "\u{feff}{\"decision\":\"deny\",\"reason\":\"BOM deny\"}".to_string(),
        _ => String::new(),
    };
    let _ = out.write_all(head(body.len()).as_bytes());
    let _ = out.write_all(body.as_bytes());
}
