//! Remote terminal sessions under load (docs/performance.md, "Remote terminal sessions"): a real
//! server in a process of its own (this program, re-executed as `serve HOME`, which runs
//! `ringlet_server::run` as `ringlet serve` does), real PTYs and `sh` agents, clients speaking
//! the WebSocket protocol over loopback with tungstenite (as a browser would).
//!
//! 1. RSS per idle session: the server's RSS before and after 100 idle sessions (target ≤ 2 MB
//!    each beyond the scrollback).
//! 2. Keystroke round trip: one byte to an agent that echoes it (`stty raw -echo; cat`), back to
//!    the client, 2,000 times: p50 / p99 (target p99 ≤ 5 ms).
//! 3. Throughput: one session printing N MB (default 200) to one client, beside the same agent's
//!    PTY read directly in-process (the ceiling without any server) (target ≥ 100 MB/s).
//!    Then again with a second client attached that never reads.
//! 4. 100 sessions each printing N/10 MB to their own client at once: aggregate MB/s and the
//!    server's CPU time.
//!
//! Usage: cargo bench -p ringlet-server --bench terminal_sessions -- [MB=200]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ringlet::{MemoryCredentialStore, NewProfile, ProfileUpdate, Ringlet, RunOptions, Secret};
use ringlet_server::client::{Client, NewRemoteSession};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

const MARKER: &[u8] = b"BENCH-DONE";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("serve") {
        serve(&args[1]);
        return;
    }
    let mb: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("ringlet");
    setup(&home, dir.path());

    let mut server = Server::start(&home);
    let client = Client::new(&server.url, Secret::new(server.token.clone())).expect("client");

    idle_rss(&server, &client);
    keystrokes(&server, &client);
    throughput(&server, &client, &home, mb);
    concurrent(&server, &client, mb / 10);
    server.stop();
}

/// The server process: `ringlet serve` on a free loopback port, its address on stdout.
fn serve(home: &str) {
    let ringlet = Ringlet::builder().home(home).build().expect("ringlet");
    let config = ringlet_server::ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        log_requests: false,
        ..ringlet_server::ServerConfig::default()
    };
    ringlet_server::run(ringlet, config, |addr, _| {
        println!("LISTEN {addr}");
    })
    .expect("serve");
}

/// The agents, each a `sh` script as a codex profile's binary (ollama: no key), unsandboxed
/// (bwrap adds to the start, not to the stream).
fn setup(home: &std::path::Path, dir: &std::path::Path) {
    let ringlet = Ringlet::builder()
        .home(home)
        .credential_store(Arc::new(MemoryCredentialStore::default()))
        .build()
        .expect("ringlet");
    let agents = [
        // Prints $1 bytes of 79-character lines once a key is typed, then a marker; with
        // `-opost` the terminal does not turn each \n into \r\n, which costs the kernel more
        // than the whole server (the PTY is then what is measured, not n_tty's output pass).
        (
            "flood",
            "stty -opost\nread -r _go\nyes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -c \"$1\"\nprintf '\\nBENCH-DONE\\n'\nexec sleep 3600\n",
        ),
        // Echoes every byte itself, at once.
        ("echo", "stty raw -echo\necho ready\nexec cat\n"),
        // Says it is there, then waits.
        ("idle", "echo ready\nexec sleep 3600\n"),
    ];
    for (alias, body) in agents {
        let path = dir.join(format!("{alias}.sh"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("agent");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        ringlet
            .create_profile(
                &NewProfile::new("codex", alias, "ollama").binary(&path),
                None,
            )
            .expect("profile");
        ringlet
            .update_profile(
                alias,
                &ProfileUpdate::default()
                    .sandbox_named("off")
                    .expect("sandbox off"),
            )
            .expect("update");
    }
}

struct Server {
    child: Child,
    url: String,
    token: String,
    pid: u32,
}

impl Server {
    fn start(home: &std::path::Path) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .arg("serve")
            .arg(home)
            .stdout(Stdio::piped())
            .spawn()
            .expect("server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("address");
        let addr = line
            .trim()
            .strip_prefix("LISTEN ")
            .expect("LISTEN")
            .to_string();
        let token = std::fs::read_to_string(home.join("config/http_token"))
            .expect("token")
            .trim()
            .to_string();
        let pid = child.id();
        Self {
            child,
            url: format!("http://{addr}"),
            token,
            pid,
        }
    }

    fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// Resident memory, bytes.
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmRSS")
            * 1024
    }

    /// User + system CPU time, seconds.
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).expect("stat");
        let rest = stat.rsplit_once(')').expect("stat").1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        ticks as f64 / 100.0
    }

    fn attach(&self, id: &str) -> WebSocket<TcpStream> {
        let stream = TcpStream::connect(self.addr()).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut req = format!("ws://{}/ws/terminal/{id}", self.addr())
            .into_client_request()
            .expect("request");
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            format!("ringlet, bearer.{}", self.token)
                .parse()
                .expect("header"),
        );
        let (mut ws, _) = tungstenite::client::client(req, stream).expect("upgrade");
        // The `state` message.
        loop {
            if let Message::Text(_) = ws.read().expect("state") {
                break;
            }
        }
        ws
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn session(client: &Client, alias: &str, args: &[String]) -> String {
    client
        .create_session(&NewRemoteSession::new(alias, 24, 80).args(args.to_vec()))
        .expect("session")
        .id
}

/// Reads output frames until `needle` has been seen; returns the bytes read.
fn read_until(ws: &mut WebSocket<TcpStream>, needle: &[u8]) -> u64 {
    let mut total = 0u64;
    let mut tail: Vec<u8> = Vec::new();
    loop {
        match ws.read().expect("read") {
            Message::Binary(b) => {
                total += b.len() as u64;
                tail.extend_from_slice(&b[b.len().saturating_sub(64)..]);
                if tail.windows(needle.len()).any(|w| w == needle) {
                    return total;
                }
                let keep = tail.len().saturating_sub(64);
                tail.drain(..keep);
            }
            Message::Close(_) => panic!("closed before {:?}", String::from_utf8_lossy(needle)),
            _ => {}
        }
    }
}

fn idle_rss(server: &Server, client: &Client) {
    std::thread::sleep(Duration::from_millis(500));
    let before = server.rss();
    let ids: Vec<String> = (0..100).map(|_| session(client, "idle", &[])).collect();
    std::thread::sleep(Duration::from_secs(2));
    let after = server.rss();
    let scrollback: usize = client
        .sessions()
        .expect("list")
        .iter()
        .map(|s| s.scrollback_bytes)
        .sum();
    let per = (after.saturating_sub(before)) as f64 / 100.0;
    println!(
        "idle sessions: server RSS {:.1} MiB -> {:.1} MiB with 100 idle sessions: {:.0} KiB per session (scrollback in them: {} bytes in all)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per / 1024.0,
        scrollback
    );
    for id in ids {
        client.terminate(&id).expect("terminate");
    }
}

fn keystrokes(server: &Server, client: &Client) {
    let id = session(client, "echo", &[]);
    let mut ws = server.attach(&id);
    read_until(&mut ws, b"ready");
    let mut times = Vec::with_capacity(2000);
    for i in 0..2100 {
        let start = Instant::now();
        ws.send(Message::Binary(vec![b'a' + (i % 26) as u8].into()))
            .expect("send");
        loop {
            if let Message::Binary(b) = ws.read().expect("read")
                && !b.is_empty()
            {
                break;
            }
        }
        if i >= 100 {
            times.push(start.elapsed());
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "keystroke round trip (2,000 after 100 warm-up): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    client.terminate(&id).expect("terminate");
}

fn throughput(server: &Server, client: &Client, home: &std::path::Path, mb: u64) {
    let bytes = mb * 1_000_000;
    // The ceiling: the same agent in a PTY, read in-process, no server.
    let ringlet = Ringlet::builder()
        .home(home)
        .credential_store(Arc::new(MemoryCredentialStore::default()))
        .build()
        .expect("ringlet");
    let handle = ringlet
        .start(
            "flood",
            &[bytes.to_string()],
            RunOptions::embedded().pty(24, 80),
        )
        .expect("start");
    let pty = handle.pty().expect("pty");
    let mut reader = pty.reader().expect("reader");
    let mut writer = pty.writer();
    let start = Instant::now();
    std::io::Write::write_all(&mut writer, b"\r").expect("go");
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = reader.read(&mut buf).expect("read");
        total += n as u64;
        tail.extend_from_slice(&buf[..n][n.saturating_sub(64)..]);
        if tail.windows(MARKER.len()).any(|w| w == MARKER) {
            break;
        }
        let keep = tail.len().saturating_sub(64);
        tail.drain(..keep);
    }
    let direct = start.elapsed();
    let _ = handle.signaller().map(|s| s.signal(9));
    let _ = handle.wait();
    println!(
        "throughput, PTY read directly: {} bytes in {:.2} s = {:.0} MB/s",
        total,
        direct.as_secs_f64(),
        total as f64 / 1e6 / direct.as_secs_f64()
    );

    let id = session(client, "flood", &[bytes.to_string()]);
    let mut ws = server.attach(&id);
    let cpu = server.cpu();
    let start = Instant::now();
    ws.send(Message::Binary(b"\r".to_vec().into())).expect("go");
    let total = read_until(&mut ws, MARKER);
    let took = start.elapsed();
    let cpu = server.cpu() - cpu;
    println!(
        "throughput, PTY -> WebSocket -> client: {} bytes in {:.2} s = {:.0} MB/s (server CPU {:.2} s: {:.0} MB per CPU second)",
        total,
        took.as_secs_f64(),
        total as f64 / 1e6 / took.as_secs_f64(),
        cpu,
        total as f64 / 1e6 / cpu.max(0.01)
    );
    client.terminate(&id).expect("terminate");

    // The same with a second client attached that never reads: the reader's rate must not
    // drop (the stalled one is resynced, then dropped, by the server).
    let id = session(client, "flood", &[bytes.to_string()]);
    let mut ws = server.attach(&id);
    let stalled = server.attach(&id);
    let start = Instant::now();
    ws.send(Message::Binary(b"\r".to_vec().into())).expect("go");
    let total = read_until(&mut ws, MARKER);
    let took = start.elapsed();
    println!(
        "throughput with a second client that never reads: {} bytes in {:.2} s = {:.0} MB/s",
        total,
        took.as_secs_f64(),
        total as f64 / 1e6 / took.as_secs_f64()
    );
    drop(stalled);
    client.terminate(&id).expect("terminate");
}

fn concurrent(server: &Server, client: &Client, mb_each: u64) {
    let n = 100;
    let bytes = mb_each * 1_000_000;
    let ids: Vec<String> = (0..n)
        .map(|_| session(client, "flood", &[bytes.to_string()]))
        .collect();
    let sockets: Vec<WebSocket<TcpStream>> = ids.iter().map(|id| server.attach(id)).collect();
    let barrier = Arc::new(Barrier::new(n + 1));
    let threads: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                ws.send(Message::Binary(b"\r".to_vec().into())).expect("go");
                read_until(&mut ws, MARKER)
            })
        })
        .collect();
    let cpu = server.cpu();
    let start = Instant::now();
    barrier.wait();
    let total: u64 = threads.into_iter().map(|t| t.join().expect("join")).sum();
    let took = start.elapsed();
    let cpu = server.cpu() - cpu;
    println!(
        "{n} sessions at once, {mb_each} MB each: {} bytes in {:.2} s = {:.0} MB/s aggregate; server CPU {:.2} s ({:.0}% of one core; {:.0} MB per CPU second)",
        total,
        took.as_secs_f64(),
        total as f64 / 1e6 / took.as_secs_f64(),
        cpu,
        cpu / took.as_secs_f64() * 100.0,
        total as f64 / 1e6 / cpu.max(0.01)
    );
    for id in ids {
        client.terminate(&id).expect("terminate");
    }
}
