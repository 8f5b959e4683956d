//! The window's security policy, held to its strict form.
//!
//! The UI shows message bodies, header values and queue names that anyone who can publish to
//! a cluster controls, while the shell behind it holds the credentials of production
//! clusters. What keeps a hostile message from becoming code with access to those is the
//! content security policy (no remote or inline script, nothing fetched from elsewhere) and
//! the capabilities (the window may call Warren's own commands and the file dialogs, nothing
//! like a shell or a file system plugin). Both live in `tauri.conf.json`, where a one-word
//! edit loosens them without any other test noticing: these tests fail on such an edit, so
//! loosening is always a deliberate change to this file too.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

const CONFIG: &str = include_str!("../tauri.conf.json");
const MANIFEST: &str = include_str!("../Cargo.toml");

/// Every permission the window may hold. A new plugin's permission is added here on purpose.
/// Desktop notifications need none: the shell sends them from Rust (`watch.rs`), so page
/// script cannot raise a notification of its own (a message body could otherwise make the
/// desktop say anything, in Warren's name).
const ALLOWED_PERMISSIONS: &[&str] = &["core:default", "dialog:allow-open", "dialog:allow-save"];

/// Plugins that would give page script a way out of the page, whatever their scope.
const FORBIDDEN_PLUGINS: &[&str] = &[
    "tauri-plugin-shell",
    "tauri-plugin-fs",
    "tauri-plugin-http",
    "tauri-plugin-process",
    "tauri-plugin-opener",
    "tauri-plugin-updater",
];

fn config() -> Value {
    serde_json::from_str(CONFIG).expect("tauri.conf.json is JSON")
}

fn security() -> Value {
    config()["app"]["security"].clone()
}

/// The policy's directives: name -> sources.
fn directives(csp: &str) -> BTreeMap<String, Vec<String>> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

/// The sources a directive ends up with: its own, else `default-src`'s, as browsers apply it.
fn effective<'a>(d: &'a BTreeMap<String, Vec<String>>, name: &str) -> &'a [String] {
    d.get(name)
        .or_else(|| d.get("default-src"))
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn csp() -> BTreeMap<String, Vec<String>> {
    let csp = security()["csp"]
        .as_str()
        .expect("tauri.conf.json sets app.security.csp as one string")
        .to_owned();
    directives(&csp)
}

fn only(sources: &[String], allowed: &[&str]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| !allowed.contains(&s.as_str()))
        .cloned()
        .collect()
}

#[test]
fn script_runs_only_from_the_app_itself() {
    let d = csp();
    assert!(
        d.contains_key("default-src"),
        "the policy needs a default-src"
    );
    for name in [
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "worker-src",
    ] {
        let extra = only(effective(&d, name), &["'self'"]);
        assert!(
            extra.is_empty(),
            "{name} may only allow 'self' (no inline, eval or remote script), found {extra:?}"
        );
    }
}

#[test]
fn nothing_is_fetched_framed_or_embedded_from_elsewhere() {
    let d = csp();
    // Tauri itself adds its IPC origins to connect-src when it serves the page.
    let extra = only(effective(&d, "connect-src"), &["'self'"]);
    assert!(
        extra.is_empty(),
        "connect-src: only 'self', found {extra:?}"
    );
    for name in ["frame-src", "child-src", "object-src"] {
        let extra = only(effective(&d, name), &["'self'", "'none'"]);
        assert!(extra.is_empty(), "{name}: only 'self', found {extra:?}");
    }
    // These two do not fall back to default-src: unset, they allow anything.
    for name in ["base-uri", "form-action"] {
        let sources = d.get(name).map(Vec::as_slice).unwrap_or_default();
        assert!(
            !sources.is_empty() && only(sources, &["'self'", "'none'"]).is_empty(),
            "{name} must be set to 'none' or 'self', found {sources:?}"
        );
    }
    // Images: the app's own, and data/blob URLs it makes itself (never a remote host, which
    // would tell a third party that a message was looked at).
    let extra = only(effective(&d, "img-src"), &["'self'", "data:", "blob:"]);
    assert!(
        extra.is_empty(),
        "img-src: no remote sources, found {extra:?}"
    );
    for (name, sources) in &d {
        for s in sources {
            assert!(
                !(s == "*"
                    || s.starts_with("http:")
                    || s.starts_with("https:")
                    || s.contains("://")),
                "{name} allows the remote source {s}"
            );
        }
    }
}

#[test]
fn the_policy_is_not_switched_off_or_widened_elsewhere() {
    let sec = security();
    for key in [
        "dangerousDisableAssetCspModification",
        "devCsp",
        "dangerousRemoteDomainIpcAccess",
    ] {
        assert!(sec.get(key).is_none(), "app.security.{key} must not be set");
    }
    assert_ne!(
        config()["app"]["withGlobalTauri"],
        Value::Bool(true),
        "withGlobalTauri would expose the IPC to every script on the page"
    );
    // Capabilities kept as files beside the config would add to the inline ones unseen.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities");
    assert!(
        !dir.exists(),
        "capabilities belong inline in tauri.conf.json, not in {dir:?}"
    );
}

#[test]
fn the_window_holds_only_the_permissions_it_needs() {
    let caps = security()["capabilities"].clone();
    let caps = caps.as_array().expect("capabilities are listed inline");
    assert!(!caps.is_empty());
    let allowed: BTreeSet<&str> = ALLOWED_PERMISSIONS.iter().copied().collect();
    for cap in caps {
        let id = cap["identifier"].as_str().unwrap_or("?");
        assert!(
            cap.get("remote").is_none(),
            "capability {id} lets remote pages call the IPC"
        );
        assert_eq!(
            cap["windows"],
            serde_json::json!(["main"]),
            "capability {id}"
        );
        for p in cap["permissions"].as_array().expect("permissions") {
            let name = p
                .as_str()
                .expect("a permission with a scope object widens what it allows: name it plainly");
            assert!(
                allowed.contains(name),
                "capability {id} grants {name}, which is not in ALLOWED_PERMISSIONS"
            );
        }
    }
}

#[test]
fn no_plugin_opens_a_way_out_of_the_page() {
    for plugin in FORBIDDEN_PLUGINS {
        assert!(
            !MANIFEST.lines().any(|l| l.trim_start().starts_with(plugin)),
            "Cargo.toml depends on {plugin}"
        );
    }
}

#[test]
fn the_checks_catch_a_loosened_policy() {
    // The parser the tests rely on reads what a loosening edit would write.
    let d = directives("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.example");
    assert_eq!(
        only(effective(&d, "script-src"), &["'self'"]),
        ["'unsafe-inline'", "https://cdn.example"]
    );
    let d = directives("default-src *");
    assert_eq!(only(effective(&d, "connect-src"), &["'self'"]), ["*"]);
}
