//! A loopback HTTP server for the webhook tests that misbehaves on purpose, by path:
//!
//! - `/slow`: headers and 10 bytes of a 100-byte body, then nothing for a minute;
//! - `/trickle`: a 10000-byte body, one byte every 50 ms (each read is quick, the whole is not);
//! - `/cut`: headers and 10 bytes of a 100-byte body, then the connection closes;
//! - `/chunk-cut`: a chunked body that closes before its last chunk;
//! - `/big`: a deny padded to 70 KB;
//! - `/bom`: a deny after a UTF-8 byte order mark;
//! - `/text`: `OK`, not JSON;
//! - `/weird`: `{"decision":"block"}`, neither allow nor deny;
//! - `/deny`, `/allow`, `/empty` (204), `/object` (`{}`): well-formed answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Starts the server; returns its base URL (`http://127.0.0.1:PORT`). It lives as long as the
/// test process.
pub(crate) fn start() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    url
}

/// A URL on which nothing listens (connections are refused).
pub(crate) fn refused() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    drop(listener);
    url
}

fn serve(stream: TcpStream) {
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
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut out = reader.into_inner();
    let head = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
        )
    };
    let whole = |out: &mut TcpStream, body: &[u8]| {
        let _ = out.write_all(head(body.len()).as_bytes());
        let _ = out.write_all(body);
    };
    match path.as_str() {
        "/slow" => {
            let _ = out.write_all(head(100).as_bytes());
            let _ = out.write_all(br#"{"decisio"#);
            let _ = out.flush();
            std::thread::sleep(Duration::from_secs(60));
        }
        "/trickle" => {
            let _ = out.write_all(head(10_000).as_bytes());
            for _ in 0..10_000 {
                if out.write_all(b" ").and_then(|()| out.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        "/cut" => {
            let _ = out.write_all(head(100).as_bytes());
            let _ = out.write_all(br#"{"decisio"#);
            // Dropping the stream closes the connection mid-body.
        }
        "/chunk-cut" => {
            let _ = out.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n9\r\n{\"decisio\r\n",
            );
        }
        "/big" => {
            let pad = "x".repeat(70 * 1024);
            whole(
                &mut out,
                format!(r#"{{"decision":"deny","reason":"too big to read","pad":"{pad}"}}"#)
                    .as_bytes(),
            );
        }
        "/bom" => whole(
            &mut out,
            "\u{feff}{\"decision\":\"deny\",\"reason\":\"no, with a BOM\"}".as_bytes(),
        ),
        "/text" => whole(&mut out, b"OK"),
        "/weird" => whole(&mut out, br#"{"decision":"block"}"#),
        "/deny" => whole(&mut out, br#"{"decision":"deny","reason":"change freeze"}"#),
        "/allow" => whole(&mut out, br#"{"decision":"allow"}"#),
        "/object" => whole(&mut out, b"{}"),
        "/empty" => {
            let _ = out.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
        _ => {
            let _ = out.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    }
}
