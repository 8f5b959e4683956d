//! Holds the UI's calls and the backend's commands together. `ui/src/lib/backend.ts` names
//! commands and their arguments as strings, which neither compiler checks: a renamed command
//! or argument would only fail when clicked. This test reads both sides' sources, the
//! command list of [`crate::commands::handler`] with each `#[tauri::command]`'s parameters,
//! and backend.ts's `call<..>('command', { args })`, and fails when the UI calls a command or
//! passes an argument the backend does not have, or never passes an argument the backend
//! requires (one that is not an `Option`).

use std::collections::BTreeMap;
use std::path::Path;

/// One command parameter as the UI must name it, and whether it may be left out.
#[derive(Debug, PartialEq)]
struct Param {
    name: String,
    optional: bool,
}

/// Parameters Tauri fills in itself; the UI never passes them.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "Webview", "WebviewWindow"];

/// The commands listed in `generate_handler![...]` of `commands_rs`, as (module, function):
/// module `None` for the commands of commands.rs itself.
fn handler_list(commands_rs: &str) -> Vec<(Option<String>, String)> {
    let start = commands_rs
        .find("generate_handler![")
        .expect("commands.rs has a generate_handler! list")
        + "generate_handler![".len();
    let end = start + commands_rs[start..].find(']').expect("the list ends");
    commands_rs[start..end]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|path| {
            let parts: Vec<&str> = path.split("::").collect();
            match parts.as_slice() {
                [name] => (None, (*name).to_owned()),
                ["crate", module, name] => (Some((*module).to_owned()), (*name).to_owned()),
                _ => panic!("unexpected command path {path}"),
            }
        })
        .collect()
}

/// Splits `s` at commas outside of `<...>`, `(...)`, `[...]` and `{...}`.
fn split_top(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0i32, String::new());
    for c in s.chars() {
        match c {
            '<' | '(' | '[' | '{' => depth += 1,
            '>' | ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The parameters of `#[tauri::command] fn name(...)` in `source`, in the UI's camelCase.
fn command_params(source: &str, name: &str) -> Option<Vec<Param>> {
    let at = [format!("fn {name}("), format!("fn {name}<")]
        .iter()
        .find_map(|sig| source.find(sig.as_str()))?;
    // The attribute must be on this function: among the attribute and comment lines right
    // above its signature.
    let before = &source[..at];
    let above = &before[..before.rfind('\n').unwrap_or(0)];
    let is_command = above
        .lines()
        .rev()
        .map(str::trim)
        .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
        .any(|l| l == "#[tauri::command]");
    if !is_command {
        return None;
    }
    let open = at + source[at..].find('(')?;
    let mut depth = 0;
    let mut close = open;
    for (i, c) in source[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = open + i;
                    break;
                }
            }
            _ => {}
        }
    }
    let params = split_top(&source[open + 1..close])
        .into_iter()
        .filter_map(|p| {
            let (pname, ty) = p.split_once(':')?;
            let ty = ty.trim();
            let base = ty.trim_start_matches("tauri::").trim_start_matches("ipc::");
            if INJECTED.iter().any(|t| base.starts_with(t)) {
                return None;
            }
            Some(Param {
                name: camel_case(pname.trim().trim_start_matches("mut ")),
                optional: base.starts_with("Option<"),
            })
        })
        .collect();
    Some(params)
}

/// `stored_as` -> `storedAs`, as Tauri maps command arguments by default.
fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `call<T>('command', { args })` of `backend_ts`: the command and the argument names.
fn ui_calls(backend_ts: &str) -> Vec<(String, Vec<String>)> {
    let mut calls = Vec::new();
    let mut rest = backend_ts;
    while let Some(i) = rest.find("call<") {
        rest = &rest[i + "call<".len()..];
        // Skip the result type, whose angle brackets may nest.
        let mut depth = 1;
        let mut after_type = None;
        for (j, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        after_type = Some(j + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(after_type) = after_type else { break };
        let call = rest[after_type..].trim_start();
        // A declaration such as `async function call<T>(command: string, ...)` is not a call.
        let Some(call) = call.strip_prefix('(') else {
            continue;
        };
        let call = call.trim_start();
        let Some(quoted) = call.strip_prefix('\'') else {
            continue;
        };
        let Some(end) = quoted.find('\'') else {
            continue;
        };
        let command = quoted[..end].to_owned();
        let tail = quoted[end + 1..].trim_start();
        let args = match tail.strip_prefix(',') {
            Some(t) => {
                let t = t.trim_start();
                let inner = t
                    .strip_prefix('{')
                    .and_then(|t| t.find('}').map(|k| &t[..k]))
                    .unwrap_or_else(|| {
                        panic!("call of {command}: arguments are not an object literal")
                    });
                split_top(inner)
                    .into_iter()
                    .map(|a| a.split(':').next().unwrap_or_default().trim().to_owned())
                    .collect()
            }
            None => Vec::new(),
        };
        calls.push((command, args));
    }
    calls
}

/// What is wrong between the two sides; empty when they agree.
fn mismatches(
    commands: &BTreeMap<String, Vec<Param>>,
    calls: &[(String, Vec<String>)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (command, args) in calls {
        let Some(params) = commands.get(command) else {
            problems.push(format!(
                "backend.ts calls '{command}', which is not a command"
            ));
            continue;
        };
        for a in args {
            if !params.iter().any(|p| &p.name == a) {
                problems.push(format!(
                    "backend.ts passes '{a}' to '{command}', which takes no such argument"
                ));
            }
        }
        for p in params.iter().filter(|p| !p.optional) {
            if !args.contains(&p.name) {
                problems.push(format!(
                    "backend.ts calls '{command}' without its argument '{}'",
                    p.name
                ));
            }
        }
    }
    problems
}

/// The backend's commands with their parameters, read from the shell's sources in `dir`.
fn backend_commands(dir: &Path) -> BTreeMap<String, Vec<Param>> {
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    };
    let commands_rs = read("commands.rs");
    handler_list(&commands_rs)
        .into_iter()
        .map(|(module, name)| {
            let source = match &module {
                None => commands_rs.clone(),
                Some(m) => read(&format!("{m}.rs")),
            };
            let params = command_params(&source, &name)
                .unwrap_or_else(|| panic!("no #[tauri::command] fn {name} in {module:?}"));
            (name, params)
        })
        .collect()
}

#[test]
fn the_ui_calls_only_commands_and_arguments_the_backend_has() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commands = backend_commands(&root.join("src-tauri"));
    assert!(commands.contains_key("start_peek") && commands.len() > 20);
    let backend_ts = std::fs::read_to_string(root.join("ui/src/lib/backend.ts")).unwrap();
    let calls = ui_calls(&backend_ts);
    assert!(calls.len() > 20, "backend.ts's calls were not found");
    let problems = mismatches(&commands, &calls);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reading_of_both_sides_catches_what_it_must() {
    let rust = r#"
        pub fn handler() { tauri::generate_handler![one, crate::other::two,] }

        #[tauri::command]
        async fn one(state: State<'_, AppState>, stored_as: Option<String>, name: String) -> R<Vec<(u8, u8)>> {
            Ok(Vec::new())
        }

        fn two(x: u32) {}
    "#;
    assert_eq!(
        handler_list(rust),
        [
            (None, "one".to_owned()),
            (Some("other".to_owned()), "two".to_owned())
        ]
    );
    let params = command_params(rust, "one").unwrap();
    assert_eq!(
        params,
        [
            Param {
                name: "storedAs".into(),
                optional: true
            },
            Param {
                name: "name".into(),
                optional: false
            }
        ]
    );
    // Without the attribute, a function is no command.
    assert_eq!(command_params(rust, "two"), None);

    let ts = r#"
        async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {}
        export const a = () => call<Map<string, number[]>>('one', { name, storedAs: x });
        export const b = () => call<void>('one', { name, extra });
        export const c = () => call<void>('one', {});
        export const d = () => call<void>('gone');
    "#;
    let calls = ui_calls(ts);
    assert_eq!(calls.len(), 4);
    assert_eq!(
        calls[0],
        ("one".into(), vec!["name".into(), "storedAs".into()])
    );
    let commands = BTreeMap::from([("one".to_owned(), params)]);
    assert_eq!(
        mismatches(&commands, &calls),
        [
            "backend.ts passes 'extra' to 'one', which takes no such argument",
            "backend.ts calls 'one' without its argument 'name'",
            "backend.ts calls 'gone', which is not a command",
        ]
    );
}
