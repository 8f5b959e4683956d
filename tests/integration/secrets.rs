//! No log level prints a password or a message body: the real `warren` binary, at
//! `WARREN_LOG=trace`, runs status, a peek and a returned publish as a throwaway user with a
//! random password, and neither the password (plain, as bytes or as a basic-auth token) nor the
//! body of the returned message (plain or as bytes) appears in anything it printed.
//!
//! A second test follows a user's journey with a saved profile (keychain, status, publish,
//! peek, consume, save, replay) and searches every file Warren wrote and everything it printed.
//!
//! The user and its queue are created through the management API (guest/guest, with curl as
//! `tests/cluster` does) and deleted at the end, also when an assertion fails.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::process::{Command, Output, Stdio};

use base64::Engine;

use crate::common::{api, cluster, unique};

/// A random token: two OS-seeded hashes, hex.
fn random_token(prefix: &str) -> String {
    let mut token = prefix.to_owned();
    for _ in 0..2 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        token.push_str(&format!("{:016x}", hasher.finish()));
    }
    token
}

/// The throwaway user and its queue; deleted when dropped (best effort: a drop while a failed
/// assertion unwinds must not panic again).
struct Fixture {
    user: String,
    queue: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = api("DELETE", &format!("/api/queues/%2F/{}", self.queue), None);
        let _ = api("DELETE", &format!("/api/users/{}", self.user), None);
    }
}

/// `warren ARGS` at `WARREN_LOG=trace` on every node, as `user:password`.
fn warren_traced(user: &str, password: &str, args: &[&str]) -> Output {
    let mut all = Vec::new();
    for node in &cluster().nodes {
        all.push("--node".to_owned());
        all.push(format!(
            "amqp://{user}:{password}@127.0.0.1:{}/%2f",
            node.amqp_port
        ));
        all.push("--api".to_owned());
        all.push(format!(
            "http://{user}:{password}@127.0.0.1:{}",
            node.api_port
        ));
    }
    all.extend(args.iter().map(|s| s.to_string()));
    Command::new(env!("CARGO_BIN_EXE_warren"))
        .args(&all)
        .env(
            "WARREN_CONFIG_DIR",
            std::env::temp_dir().join("warren-it-no-profiles"),
        )
        .env("WARREN_LOG", "trace")
        .env_remove("WARREN_LOG_WIRE")
        .output()
        .expect("run warren")
}

#[test]
fn trace_logging_prints_no_password_and_no_returned_body() {
    let fixture = Fixture {
        user: unique("secrets.user"),
        queue: unique("secrets.peek"),
    };
    let password = random_token("pw");
    let returned_body = random_token("body");
    let peeked_body = "a message to peek";
    api(
        "PUT",
        &format!("/api/users/{}", fixture.user),
        Some(&format!(
            r#"{{"password":"{password}","tags":"monitoring"}}"#
        )),
    )
    .unwrap();
    api(
        "PUT",
        &format!("/api/permissions/%2F/{}", fixture.user),
        Some(r#"{"configure":".*","write":".*","read":".*"}"#),
    )
    .unwrap();
    api(
        "PUT",
        &format!("/api/queues/%2F/{}", fixture.queue),
        Some(r#"{"durable":false,"auto_delete":false}"#),
    )
    .unwrap();
    api(
        "POST",
        "/api/exchanges/%2F/amq.default/publish",
        Some(&format!(
            r#"{{"properties":{{}},"routing_key":"{}","payload":"{peeked_body}","payload_encoding":"string"}}"#,
            fixture.queue
        )),
    )
    .unwrap();

    let user = fixture.user.as_str();
    let status = warren_traced(user, &password, &["status", "--json"]);
    let peek = warren_traced(user, &password, &["peek", &fixture.queue, "--json"]);
    let nowhere = unique("secrets.nowhere");
    let publish = warren_traced(
        user,
        &password,
        &[
            "publish",
            "--json",
            "--routing-key",
            &nowhere,
            "--body",
            &returned_body,
        ],
    );

    // Each run did its work, with logging on (so there was a log to leak into).
    let text = |o: &Output| {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(
        String::from_utf8_lossy(&status.stdout).contains(&cluster().name),
        "{}",
        text(&status)
    );
    assert!(
        String::from_utf8_lossy(&peek.stdout).contains(peeked_body),
        "{}",
        text(&peek)
    );
    assert_eq!(
        publish.status.code(),
        Some(4),
        "returned: {}",
        text(&publish)
    );
    assert!(
        String::from_utf8_lossy(&publish.stdout).contains("NO_ROUTE"),
        "{}",
        text(&publish)
    );

    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let secrets = [
        ("the password", password.clone()),
        ("the password's bytes", bytes_form(&password)),
        ("the basic-auth token", token),
        ("the returned body", returned_body.clone()),
        ("the returned body's bytes", bytes_form(&returned_body)),
    ];
    for (what, out) in [("status", &status), ("peek", &peek), ("publish", &publish)] {
        assert!(
            !out.stderr.is_empty(),
            "{what}: WARREN_LOG=trace logged nothing"
        );
        let all = text(out);
        for (secret, form) in &secrets {
            assert!(
                !all.contains(form.as_str()),
                "{what} printed {secret}:\n{all}"
            );
        }
    }
}

/// How a byte buffer holding `s` prints in a debug log: `112, 119, ...` (the AMQP client logs
/// frames, the login response and bodies among them, as lists of bytes).
fn bytes_form(s: &str) -> String {
    format!("{:?}", s.as_bytes())
        .trim_matches(['[', ']'])
        .to_owned()
}

/// `warren --node amqp://guest@... --api http://guest@... status --json`: the user in the URIs,
/// the password given as `how` says (never in the arguments).
fn status_with_password_apart(how: &str, password: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warren"));
    cmd.env(
        "WARREN_CONFIG_DIR",
        std::env::temp_dir().join("warren-it-no-profiles"),
    )
    .env_remove("WARREN_PASSWORD");
    for n in &cluster().nodes {
        cmd.args([
            "--node",
            &format!("amqp://guest@127.0.0.1:{}/%2f", n.amqp_port),
        ]);
        cmd.args(["--api", &format!("http://guest@127.0.0.1:{}", n.api_port)]);
    }
    cmd.args(["status", "--json"]);
    match how {
        "stdin" => {
            cmd.arg("--password-stdin").stdin(Stdio::piped());
        }
        _ => {
            cmd.env("WARREN_PASSWORD", password).stdin(Stdio::null());
        }
    }
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // (The user here is guest, whose password is guest too: look for it as a password.)
    assert!(
        !args
            .iter()
            .any(|a| a == password || a.contains(&format!(":{password}@"))),
        "{args:?}"
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run warren");
    if how == "stdin" {
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn an_ad_hoc_password_comes_from_stdin_or_the_environment() {
    for how in ["stdin", "env"] {
        let ok = status_with_password_apart(how, "guest");
        assert!(
            ok.status.success(),
            "{how}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let status: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
        assert!(
            status["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["ok"] == true),
            "{how}: {}",
            status["endpoints"]
        );
        // The password given apart is the one used: a wrong one is refused.
        let refused = status_with_password_apart(how, "not-guest-at-all");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{how}");
        assert!(stderr.contains("authentication failed"), "{how}: {stderr}");
        assert!(!stderr.contains("not-guest-at-all"), "{how}: {stderr}");
    }
}

/// What a user does with a saved profile, from the command line: save it (the password into the
/// real keychain), test it, read the status, publish, peek, consume, save messages into a
/// collection and replay it. Then the password is looked for in every file Warren wrote (the
/// profile file, the collection, the replay reports) and everything it printed: it is in none.
///
/// The flow runs with logging off (the default), at `WARREN_LOG=trace` (every level: a lower
/// level prints a subset of trace's lines) and with the AMQP client's own targets asked for
/// at trace (which Warren caps). Needs a Secret Service (tests/keyring-session).
#[test]
fn a_saved_password_appears_in_no_file_and_no_output_of_a_user_journey() {
    let fixture = Fixture {
        user: unique("secrets.journey"),
        queue: unique("secrets.journey"),
    };
    let password = random_token("pw");
    api(
        "PUT",
        &format!("/api/users/{}", fixture.user),
        Some(&format!(
            r#"{{"password":"{password}","tags":"monitoring"}}"#
        )),
    )
    .unwrap();
    api(
        "PUT",
        &format!("/api/permissions/%2F/{}", fixture.user),
        Some(r#"{"configure":".*","write":".*","read":".*"}"#),
    )
    .unwrap();
    api(
        "PUT",
        &format!("/api/queues/%2F/{}", fixture.queue),
        Some(r#"{"durable":true,"auto_delete":false}"#),
    )
    .unwrap();

    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let data = home.path().join("data");
    let service = format!("warren-it-secrets-{}", std::process::id());
    let run = |log: Option<&str>, args: &[&str], stdin: &str| -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_warren"));
        cmd.args(args)
            .env("WARREN_CONFIG_DIR", &config)
            .env("WARREN_DATA_DIR", &data)
            .env("WARREN_KEYCHAIN_SERVICE", &service)
            .env_remove("WARREN_PASSWORD")
            .env_remove("WARREN_LOG_WIRE")
            .env_remove("WARREN_LOG")
            .current_dir(home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(level) = log {
            cmd.env("WARREN_LOG", level);
        }
        let mut child = cmd.spawn().expect("run warren");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let text = |o: &Output| {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let user = fixture.user.as_str();
    let mut add = vec![
        "profile",
        "add",
        "journey",
        "--username",
        user,
        "--password-stdin",
    ];
    let endpoints: Vec<(String, String)> = cluster()
        .nodes
        .iter()
        .map(|n| (format!("amqp://127.0.0.1:{}", n.amqp_port), n.api()))
        .collect();
    for (amqp, api) in &endpoints {
        add.extend(["--node", amqp, "--api", api]);
    }
    let mut outputs = vec![(
        "profile add".to_owned(),
        run(Some("trace"), &add, &format!("{password}\n")),
    )];
    assert!(outputs[0].1.status.success(), "{}", text(&outputs[0].1));

    let queue = fixture.queue.as_str();
    for (round, log) in [
        None,
        Some("trace"),
        Some("lapin=trace,amq_protocol=trace,reqwest=trace"),
    ]
    .into_iter()
    .enumerate()
    {
        let collection = format!("journey-{round}.jsonl");
        let body = format!("journey body {round}");
        let steps: Vec<(&str, Vec<&str>)> = vec![
            ("profile test", vec!["profile", "test", "journey"]),
            ("status", vec!["-p", "journey", "status", "--json"]),
            (
                "publish",
                vec![
                    "-p",
                    "journey",
                    "publish",
                    "--json",
                    "--routing-key",
                    queue,
                    "--body",
                    &body,
                    "--count",
                    "3",
                ],
            ),
            ("peek", vec!["-p", "journey", "peek", queue, "--json"]),
            (
                "save",
                vec![
                    "-p",
                    "journey",
                    "save",
                    queue,
                    "--count",
                    "3",
                    "--to",
                    &collection,
                ],
            ),
            (
                "consume",
                vec![
                    "-p", "journey", "consume", queue, "--count", "3", "--ack", "--json",
                ],
            ),
            (
                "replay",
                vec![
                    "-p",
                    "journey",
                    "replay",
                    &collection,
                    "--to-exchange",
                    "",
                    "--routing-key",
                    queue,
                    "--json",
                ],
            ),
        ];
        for (what, args) in steps {
            let out = run(log, &args, "");
            assert!(out.status.success(), "{what} (log {log:?}): {}", text(&out));
            if log.is_some() && what != "profile test" {
                assert!(
                    !out.stderr.is_empty(),
                    "{what}: WARREN_LOG={log:?} logged nothing"
                );
            }
            outputs.push((format!("{what} (log {log:?})"), out));
        }
        // The replay put the three messages back: the journey really went through the broker.
        let consumed = run(
            None,
            &[
                "-p", "journey", "consume", queue, "--count", "3", "--ack", "--json",
            ],
            "",
        );
        assert!(consumed.status.success(), "{}", text(&consumed));
        assert_eq!(
            String::from_utf8_lossy(&consumed.stdout)
                .matches(&body)
                .count(),
            3,
            "{}",
            text(&consumed)
        );
    }

    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let forms = [
        ("the password", password.clone()),
        ("the password's bytes", bytes_form(&password)),
        ("the basic-auth token", token),
    ];
    for (what, out) in &outputs {
        let all = text(out);
        for (secret, form) in &forms {
            assert!(
                !all.contains(form.as_str()),
                "{what} printed {secret}:\n{all}"
            );
        }
    }
    let mut files = Vec::new();
    let mut dirs = vec![home.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    // What was written: the profile, the three collections and their replay reports.
    assert!(
        names.iter().any(|n| n.ends_with("profiles.json")),
        "{names:?}"
    );
    assert!(
        names.iter().filter(|n| n.ends_with(".jsonl")).count() >= 3,
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains(".warren-reports")),
        "{names:?}"
    );
    for file in &files {
        let content = std::fs::read(file).unwrap();
        let content = String::from_utf8_lossy(&content);
        for (secret, form) in &forms {
            assert!(
                !content.contains(form.as_str()),
                "{} holds {secret}",
                file.display()
            );
        }
    }
    let _ = run(None, &["profile", "remove", "journey"], "");
}
