//! The management API answering badly, as it does behind proxies and on sick nodes: an HTML
//! error page, a truncated JSON reply, 401, 500, or nothing for a long time. Each must give a
//! clear error that says which it was, never a panic or a hang, and change nothing.
//!
//! A small proxy stands in front of node 1's real API and spoils its replies in one way per
//! test: the truncated reply is the broker's own, cut in half; the 401 is the broker's own
//! answer to a wrong password. AMQP goes to the real nodes throughout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::{cluster, warren};

#[derive(Clone, Copy, Debug)]
enum Spoil {
    /// A reverse proxy's HTML error page (502).
    HtmlErrorPage,
    /// The real reply with its body cut in half (a consistent Content-Length: the JSON breaks).
    TruncatedJson,
    /// The real broker's reply to a wrong password.
    Unauthorized,
    /// 500 with the broker's JSON error shape.
    ServerError,
    /// The real reply, after longer than any request timeout.
    Slow,
}

/// Starts the proxy; it serves until the test process ends.
fn spoiling_proxy(spoil: Spoil) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = cluster().node(1).api_port;
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = serve(conn, upstream, spoil);
            });
        }
    });
    port
}

/// One request, then the connection closes.
fn serve(conn: TcpStream, upstream: u16, spoil: Spoil) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "authorization" if matches!(spoil, Spoil::Unauthorized) => {
                headers.push("authorization: Basic Z3Vlc3Q6d3Jvbmc=".to_owned()); // guest:wrong
                continue;
            }
            "host" | "connection" => continue,
            _ => {}
        }
        headers.push(line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));

    let mut out = conn;
    match spoil {
        Spoil::HtmlErrorPage => {
            let page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
            return write!(
                out,
                "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
        }
        Spoil::ServerError => {
            let json = r#"{"error":"Internal Server Error","reason":"{badmatch,{error,timeout}}"}"#;
            return write!(
                out,
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
                json.len()
            );
        }
        Spoil::Slow => std::thread::sleep(Duration::from_secs(60)),
        Spoil::TruncatedJson | Spoil::Unauthorized => {}
    }
    // HTTP/1.0 upstream: no chunked encoding, the reply ends when the connection does.
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    write!(
        up,
        "{method} {path} HTTP/1.0\r\nhost: 127.0.0.1:{upstream}\r\n"
    )?;
    for h in &headers {
        write!(up, "{h}\r\n")?;
    }
    write!(up, "\r\n")?;
    up.write_all(&body)?;
    let mut reply = Vec::new();
    up.read_to_end(&mut reply)?;
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(reply.len(), |i| i + 4);
    let (head, body) = reply.split_at(split);
    let head = String::from_utf8_lossy(head);
    let status_line = head.lines().next().unwrap_or("HTTP/1.1 502 Bad Gateway");
    let body = match spoil {
        Spoil::TruncatedJson => &body[..body.len() / 2],
        _ => body,
    };
    write!(
        out,
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)
}

/// `warren ARGS` with every node's AMQP and only the proxy as management API.
fn warren_via(proxy: u16, args: &[&str]) -> (Output, Duration) {
    let mut all = Vec::new();
    for n in &cluster().nodes {
        all.extend(["--node".to_owned(), n.amqp()]);
    }
    all.extend([
        "--api".to_owned(),
        format!("http://guest:guest@127.0.0.1:{proxy}"),
    ]);
    all.extend(args.iter().map(|s| s.to_string()));
    let started = Instant::now();
    let out = warren(&all);
    (out, started.elapsed())
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Messages in demo.classic as the broker counts them (through the real API).
fn classic_depth() -> u64 {
    let out = warren(&[
        "--node".to_owned(),
        cluster().node(1).amqp(),
        "--api".to_owned(),
        format!(
            "http://guest:guest@127.0.0.1:{}",
            cluster().node(1).api_port
        ),
        "queues".to_owned(),
        "--json".to_owned(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|v| match v {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        })
        .find(|q| q["name"] == "demo.classic")
        .and_then(|q| q["messages"].as_u64())
        .unwrap_or_else(|| panic!("demo.classic not listed: {text}"))
}

/// Status and the queue list through the spoiled API fail with an error naming what came
/// back; a peek of a classic queue either works over AMQP or fails as clearly; nothing panics
/// or waits past its timeout, and the queue keeps its messages.
fn check(spoil: Spoil, expect: &[&str]) {
    let proxy = spoiling_proxy(spoil);
    let depth = classic_depth();
    for args in [
        &["status", "--json"][..],
        &["queues"][..],
        &["peek", "demo.classic", "--count", "3", "--json"][..],
    ] {
        let (out, took) = warren_via(proxy, args);
        let all = text(&out);
        assert!(!all.contains("panicked"), "{spoil:?} {args:?}: {all}");
        assert!(
            took < Duration::from_secs(45),
            "{spoil:?} {args:?} took {took:?}: {all}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        let stdout = String::from_utf8_lossy(&out.stdout).to_lowercase();
        match args[0] {
            // Status reports the API's failure in its answer (the AMQP side still answers).
            "status" => assert!(
                expect
                    .iter()
                    .any(|e| stdout.contains(e) || stderr.contains(e)),
                "{spoil:?} status: expected one of {expect:?}: {all}"
            ),
            "queues" => {
                assert!(!out.status.success(), "{spoil:?} queues: {all}");
                assert!(
                    expect.iter().any(|e| stderr.contains(e)),
                    "{spoil:?} queues: expected one of {expect:?}: {all}"
                );
            }
            _ => assert!(
                out.status.success() && stdout.contains("\"position\"")
                    || expect.iter().any(|e| stderr.contains(e)),
                "{spoil:?} peek: neither messages nor a clear error: {all}"
            ),
        }
    }
    assert_eq!(classic_depth(), depth, "{spoil:?}: demo.classic changed");
}

#[test]
fn an_html_error_page_is_reported_as_such() {
    check(
        Spoil::HtmlErrorPage,
        &["http 502", "an html page titled \"502 bad gateway\""],
    );
}

#[test]
fn a_truncated_json_reply_is_reported_as_such() {
    check(Spoil::TruncatedJson, &["the json reply ends early"]);
}

#[test]
fn a_refused_api_login_is_reported_as_such() {
    check(
        Spoil::Unauthorized,
        &["authentication failed for user \"guest\""],
    );
}

#[test]
fn a_server_error_is_reported_as_such() {
    check(Spoil::ServerError, &["answered http 500"]);
}

#[test]
fn an_api_that_does_not_answer_is_reported_within_the_timeout() {
    check(Spoil::Slow, &["did not answer within"]);
}
