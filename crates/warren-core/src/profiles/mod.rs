//! Connection profiles: the profiles file ([`store`]), passwords in the OS keychain
//! ([`keychain`]), and the two kept in step when a profile is saved with its password
//! ([`saved`]). The app and the CLI share all three.

pub mod keychain;
pub mod saved;
pub mod store;

pub use keychain::Keychain;
pub use store::{NodeEndpoints, Profile, ProfileStore};
