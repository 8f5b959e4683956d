//! What a broker's "not found" means for a peek.
//!
//! RabbitMQ answers 404 (`NOT_FOUND`) both when a queue does not exist and when it exists but
//! cannot be reached: the home node of a classic queue is down or cut off from the node asked,
//! or the queue's process stopped, crashed, timed out or is moving. Only the reply text tells
//! them apart, and "no such queue" would send a user looking for a typo while the queue and its
//! messages are there. So the reply text, the broker's own protocol data, is read here, once,
//! by fixed prefixes and suffixes (the same in 3.10 and 4.x), and becomes a typed error.

use crate::error::{Error, QueueAbsence};

/// Why the broker's 404 `reply_text` says the queue cannot be reached; `None` when it says
/// the queue does not exist (or says something not known here: that is the plain meaning of
/// 404). Pure.
pub fn absence(reply_text: &str) -> Option<QueueAbsence> {
    let text = reply_text
        .strip_prefix("NOT_FOUND - ")
        .unwrap_or(reply_text);
    if let Some(rest) = text.strip_prefix("home node '") {
        if text.ends_with(" is down or inaccessible") {
            let node = rest.split_once("' of ").map_or("", |(node, _)| node);
            return Some(QueueAbsence::HomeNodeDown {
                node: node.to_owned(),
            });
        }
    }
    if text.starts_with("queue '") && text.ends_with(" process is stopped by supervisor") {
        return Some(QueueAbsence::Stopped);
    }
    if text.starts_with("queue '") && text.ends_with(" has crashed and failed to restart") {
        return Some(QueueAbsence::Crashed);
    }
    if text.starts_with("failed to perform operation on queue '") {
        if text.ends_with(" due to timeout") {
            return Some(QueueAbsence::NotResponding);
        }
        if text.ends_with(" may be stopping or being demoted") {
            return Some(QueueAbsence::LeaderMoving);
        }
    }
    None
}

/// The error for a 404 the broker gave about `name` in `vhost`, whose reply text is
/// `reply_text`.
pub fn not_found(reply_text: &str, vhost: &str, name: &str) -> Error {
    match absence(reply_text) {
        Some(why) => Error::QueueUnavailable {
            vhost: vhost.to_owned(),
            name: name.to_owned(),
            why,
        },
        None => Error::QueueNotFound {
            vhost: vhost.to_owned(),
            name: name.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    // Reply texts as RabbitMQ 3.10.8 and 4.3.6 send them (the format strings are the same in
    // both; 4.x says "leader" where 3.x says "master replica").
    const HOME_NODE_DOWN: &str = "NOT_FOUND - home node 'warren-2@localhost' of durable queue 'demo.classic' in vhost '/' is down or inaccessible";
    const NO_QUEUE: &str = "NOT_FOUND - no queue 'demo.classic' in vhost '/'";
    const STOPPED: &str =
        "NOT_FOUND - queue 'demo.classic' in vhost '/' process is stopped by supervisor";
    const CRASHED: &str =
        "NOT_FOUND - queue 'demo.classic' in vhost 'prod' has crashed and failed to restart";
    const TIMEOUT: &str =
        "NOT_FOUND - failed to perform operation on queue 'demo.classic' in vhost '/' due to timeout";
    const DEMOTED_3: &str = "NOT_FOUND - failed to perform operation on queue 'q' in vhost '/': its master replica <12043.1021.0> may be stopping or being demoted";
    const DEMOTED_4: &str = "NOT_FOUND - failed to perform operation on queue 'q' in vhost '/': its leader <12043.1021.0> may be stopping or being demoted";

    #[test]
    fn a_home_node_down_is_unavailable_and_names_the_node() {
        assert_eq!(
            absence(HOME_NODE_DOWN),
            Some(QueueAbsence::HomeNodeDown {
                node: "warren-2@localhost".into()
            })
        );
        let e = not_found(HOME_NODE_DOWN, "/", "demo.classic");
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        let text = e.to_string();
        assert!(text.contains("\"demo.classic\""), "{text}");
        assert!(text.contains("warren-2@localhost"), "{text}");
        assert!(text.contains("wait for"), "{text}");
        assert!(!text.contains("no queue"), "{text}");
    }

    #[test]
    fn the_other_absences_are_unavailable_too() {
        assert_eq!(absence(STOPPED), Some(QueueAbsence::Stopped));
        assert_eq!(absence(CRASHED), Some(QueueAbsence::Crashed));
        assert_eq!(absence(TIMEOUT), Some(QueueAbsence::NotResponding));
        assert_eq!(absence(DEMOTED_3), Some(QueueAbsence::LeaderMoving));
        assert_eq!(absence(DEMOTED_4), Some(QueueAbsence::LeaderMoving));
        for text in [STOPPED, CRASHED, TIMEOUT, DEMOTED_4] {
            assert_eq!(
                not_found(text, "/", "q").kind(),
                ErrorKind::Unavailable,
                "{text}"
            );
        }
    }

    #[test]
    fn a_missing_queue_is_not_found_whatever_its_name() {
        assert_eq!(absence(NO_QUEUE), None);
        let e = not_found(NO_QUEUE, "/", "demo.classic");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.to_string(), "no queue \"demo.classic\" in vhost \"/\"");
        // A queue whose name reads like an absence is still just missing.
        for name in [
            "x' has crashed and failed to restart",
            "x' process is stopped by supervisor",
            "home node 'n' of durable queue 'x' is down or inaccessible",
        ] {
            let text = format!("NOT_FOUND - no queue '{name}' in vhost '/'");
            assert_eq!(absence(&text), None, "{text}");
        }
        assert_eq!(absence("NOT_FOUND - no exchange 'x' in vhost '/'"), None);
        assert_eq!(absence(""), None);
    }
}
