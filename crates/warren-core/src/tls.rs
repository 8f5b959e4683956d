//! TLS for `amqps://` and `https://` endpoints: the settings a profile keeps
//! ([`TlsSettings`]) and what reqwest and lapin need from them.
//!
//! Files are read when a client is built, so a wrong path is reported as a TLS settings error
//! naming the file before any connection is attempted.

use std::time::Duration;

use lapin::tcp::{OwnedIdentity, OwnedTLSConfig};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// TLS settings for `amqps://` and `https://` endpoints. Peer verification is on unless turned
/// off explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TlsSettings {
    /// PEM file of the CA(s) that signed the servers' certificates; the system roots otherwise.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// PEM client certificate (chain) for mutual TLS.
    #[serde(default)]
    pub client_cert_file: Option<String>,
    /// PEM private key of the client certificate.
    #[serde(default)]
    pub client_key_file: Option<String>,
    #[serde(default = "yes")]
    pub verify_peer: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            verify_peer: true,
        }
    }
}

fn yes() -> bool {
    true
}

fn read(what: &str, path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Tls(format!("cannot read the {what} {path}: {e}")))
}

pub fn http_client(
    tls: &TlsSettings,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("warren/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &tls.ca_file {
        let pem = read("CA file", ca)?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| Error::Tls(format!("{ca} holds no usable PEM certificate: {e}")))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(cert), Some(key)) = (&tls.client_cert_file, &tls.client_key_file) {
        let mut pem = read("client certificate", cert)?;
        pem.push(b'\n');
        pem.extend(read("client key", key)?);
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| Error::Tls(format!("client certificate {cert} / key {key}: {e}")))?;
        builder = builder.identity(identity);
    }
    if !tls.verify_peer {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| Error::Tls(format!("cannot set up the HTTP client: {e}")))
}

/// lapin's TLS settings for `amqps://` nodes.
pub fn amqp_config(tls: &TlsSettings) -> Result<OwnedTLSConfig> {
    if !tls.verify_peer {
        return Err(Error::Tls(
            "AMQP connections always verify the server's certificate; add the CA that signed it \
             as the profile's CA file instead of turning verification off"
                .into(),
        ));
    }
    let cert_chain = match &tls.ca_file {
        Some(ca) => Some(
            String::from_utf8(read("CA file", ca)?)
                .map_err(|_| Error::Tls(format!("{ca} is not a PEM file")))?,
        ),
        None => None,
    };
    let identity = match (&tls.client_cert_file, &tls.client_key_file) {
        (Some(cert), Some(key)) => Some(OwnedIdentity::PKCS8 {
            pem: read("client certificate", cert)?,
            key: read("client key", key)?,
        }),
        _ => None,
    };
    Ok(OwnedTLSConfig {
        identity,
        cert_chain,
    })
}
