//! What every integration test binary needs to reach the local 3-node test cluster
//! (`tests/cluster/up`): its endpoints as ad-hoc `--node/--api` arguments or a
//! [`ClusterTarget`], and the real `warren` binary.
#![allow(dead_code)] // each test binary uses its own subset

use std::process::{Command, Output};

use warren_core::endpoint::ClusterTarget;

pub const AMQP_PORTS: [u16; 3] = [5781, 5782, 5783];
pub const API_PORTS: [u16; 3] = [15781, 15782, 15783];

/// `--node URI --api URL` for each of the three nodes (guest/guest, vhost "/").
pub fn node_args() -> Vec<String> {
    let mut args = Vec::new();
    for (amqp, api) in AMQP_PORTS.iter().zip(API_PORTS) {
        args.push("--node".into());
        args.push(format!("amqp://guest:guest@127.0.0.1:{amqp}/%2f"));
        args.push("--api".into());
        args.push(format!("http://guest:guest@127.0.0.1:{api}"));
    }
    args
}

/// Runs the real `warren` binary with no saved profiles in reach.
pub fn warren(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warren"))
        .args(args)
        .env(
            "WARREN_CONFIG_DIR",
            std::env::temp_dir().join("warren-it-no-profiles"),
        )
        .output()
        .expect("run warren")
}

/// `warren --node .. --api .. <args>` against all three nodes.
pub fn warren_on_cluster(args: &[&str]) -> Output {
    let mut all = node_args();
    all.extend(args.iter().map(|s| s.to_string()));
    warren(&all)
}

/// The three nodes as one ad-hoc cluster target.
pub fn target() -> ClusterTarget {
    let nodes: Vec<String> = AMQP_PORTS
        .iter()
        .map(|p| format!("amqp://guest:guest@127.0.0.1:{p}/%2f"))
        .collect();
    let apis: Vec<String> = API_PORTS
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    ClusterTarget::ad_hoc(&nodes, &apis).unwrap()
}

/// A queue name no other run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}.it-{}-{nanos}", std::process::id())
}
