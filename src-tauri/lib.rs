//! The Tauri shell: window setup, app state and the IPC commands. Each command adapts one
//! warren-core call to IPC and holds no broker logic; see docs/ARCHITECTURE.md.

mod browse;
mod collections;
mod commands;
mod compose;
mod connections;
mod consume;
#[cfg(test)]
mod ipc_contract;
mod operations;
mod ops;
#[cfg(test)]
mod security_policy;
mod state;
mod watch;

pub use commands::ProfileEntry;

pub fn run() {
    warren_core::logging::init("warn", std::io::stdout);
    let state = match state::AppState::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("warren: {e}");
            std::process::exit(1);
        }
    };
    tauri::Builder::default()
        .manage(state)
        // The system's own open/save dialogs; they only return paths, which commands read.
        .plugin(tauri_plugin_dialog::init())
        // Desktop notifications for watch alerts, sent from Rust only (see watch.rs).
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            tauri::async_runtime::spawn(watch::run(app.handle().clone()));
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .expect("error while running the Warren window");
}
