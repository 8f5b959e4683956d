// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // WebKitGTK's accelerated compositing keeps a backing store for each composited layer and,
    // on a machine without a GPU, composites them with emulated GL: scrolling a long message
    // list then misses most frames and the web process holds the layers' memory. Warren's
    // pages are text and tables, which WebKit paints at full rate without it (see
    // docs/benchmarks.md), so it is off unless the person set WebKit's own switch or asked
    // for compositing with WARREN_WEBKIT_COMPOSITING=1. Set here, before any thread starts.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none()
        && std::env::var_os("WARREN_WEBKIT_COMPOSITING").is_none_or(|v| v != "1")
    {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    warren_app::run();
}
