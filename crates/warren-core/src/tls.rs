//! TLS for `amqps://` and `https://` endpoints: the settings a profile keeps
//! ([`TlsSettings`]), the one rustls client configuration both transports use, and why a
//! handshake failed ([`TlsFailure`]).
//!
//! One configuration for AMQP (lapin) and the management API (reqwest), so a profile's CA,
//! client certificate and verification choice mean the same on both: the servers are trusted
//! when the system's trust store or the profile's CA file vouches for them, and their
//! certificate must carry the host name (or IP address) Warren connects to. Turning
//! verification off is a profile's explicit choice, which every view of it shows as a warning
//! ([`TlsSettings::warning`]).
//!
//! Files are read when a client is built, so a wrong path is reported as a TLS settings error
//! naming the file before any connection is attempted. A refused handshake is read out of the
//! transport's error chain into a [`TlsFailure`] that says why (unknown CA, wrong name,
//! expired, client certificate missing or refused) rather than "connection failed".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use crate::error::TlsFailure;
use crate::error::{Error, Result};

/// TLS settings for `amqps://` and `https://` endpoints. Peer verification is on unless turned
/// off explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TlsSettings {
    /// PEM file of the CA(s) that signed the servers' certificates, trusted besides the
    /// system's trust store.
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

/// What every view of a profile with verification off shows (CLI, home card, cluster header).
pub const UNVERIFIED_WARNING: &str = "TLS verification is off for this profile: Warren accepts \
     any certificate from its servers, so it cannot tell them from an impostor";

impl TlsSettings {
    /// The warning a profile with these settings carries, if any.
    pub fn warning(&self) -> Option<&'static str> {
        (!self.verify_peer).then_some(UNVERIFIED_WARNING)
    }
}

fn yes() -> bool {
    true
}

fn read(what: &str, path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Tls(format!("cannot read the {what} {path}: {e}")))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trust store plus the profile's CA file. A CA file that holds no certificate is
/// an error; a system store that cannot be read only leaves the CA file to trust.
fn roots(tls: &TlsSettings) -> Result<RootCertStore> {
    // Read once per process: reading the system's store can take a noticeable time.
    static SYSTEM: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    let system = SYSTEM.get_or_init(|| {
        let native = rustls_native_certs::load_native_certs();
        tracing::debug!(
            certificates = native.certs.len(),
            errors = native.errors.len(),
            "system trust store"
        );
        native.certs
    });
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(system.iter().cloned());
    if let Some(ca) = &tls.ca_file {
        let pem = read("CA file", ca)?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Tls(format!("{ca} is not a PEM file of certificates: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Tls(format!("{ca} holds no PEM certificate")));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| Error::Tls(format!("{ca} holds an unusable certificate: {e}")))?;
        }
    }
    Ok(roots)
}

fn identity(
    tls: &TlsSettings,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
    let (Some(cert), Some(key)) = (&tls.client_cert_file, &tls.client_key_file) else {
        return Ok(None);
    };
    let pem = read("client certificate", cert)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("client certificate {cert}: {e}")))?;
    if chain.is_empty() {
        return Err(Error::Tls(format!(
            "client certificate {cert} holds no PEM certificate"
        )));
    }
    let key_pem = read("client key", key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| Error::Tls(format!("client key {key} holds no usable private key: {e}")))?;
    Ok(Some((chain, key_der)))
}

/// The rustls configuration of a profile's connections, AMQP and HTTP alike.
pub fn client_config(tls: &TlsSettings) -> Result<Arc<ClientConfig>> {
    Ok(Arc::new(config(tls, Arc::default())?))
}

fn config(tls: &TlsSettings, asked_for_cert: Arc<AtomicBool>) -> Result<ClientConfig> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(format!("cannot set up TLS: {e}")))?;
    let builder = if tls.verify_peer {
        builder.with_root_certificates(roots(tls)?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider.clone())))
    };
    let key = match identity(tls)? {
        Some((chain, key)) => Some(Arc::new(
            CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
                Error::Tls(format!(
                    "client certificate {} and key {} do not make a usable pair: {e}",
                    tls.client_cert_file.as_deref().unwrap_or_default(),
                    tls.client_key_file.as_deref().unwrap_or_default()
                ))
            })?,
        )),
        None => None,
    };
    Ok(
        builder.with_client_cert_resolver(Arc::new(ClientCertificate {
            key,
            asked: asked_for_cert,
        })),
    )
}

/// The client certificate, if the profile has one, given when the server asks; and whether it
/// asked. Over TLS 1.3 a server that requires a certificate refuses a client without one only
/// after the handshake, and its alert can be lost when the connection is reset: knowing that
/// it asked tells that case from any other reset.
#[derive(Debug)]
struct ClientCertificate {
    key: Option<Arc<CertifiedKey>>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for ClientCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

pub fn http_client(
    tls: &TlsSettings,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("warren/", env!("CARGO_PKG_VERSION")))
        .use_preconfigured_tls(Arc::unwrap_or_clone(client_config(tls)?))
        .build()
        .map_err(|e| Error::Tls(format!("cannot set up the HTTP client: {e}")))
}

/// lapin's TLS connector for one connection attempt to an `amqps://` node.
pub struct AmqpTls {
    pub connector: lapin::tcp::RustlsConnector,
    asked_for_cert: Arc<AtomicBool>,
    with_cert: bool,
}

impl AmqpTls {
    pub fn new(tls: &TlsSettings) -> Result<AmqpTls> {
        let asked_for_cert = Arc::new(AtomicBool::new(false));
        let config = config(tls, asked_for_cert.clone())?;
        Ok(AmqpTls {
            connector: lapin::tcp::RustlsConnector::from(Arc::new(config)),
            asked_for_cert,
            with_cert: tls.client_cert_file.is_some(),
        })
    }

    /// Why this attempt's connection failed as far as TLS can tell: a refused handshake, or a
    /// server that asked for a client certificate, got none and dropped the connection.
    pub fn failure(&self, e: &std::io::Error) -> Option<TlsFailure> {
        use std::io::ErrorKind as K;
        if let Some(found) = TlsFailure::find(e, self.with_cert) {
            return Some(found);
        }
        let dropped = matches!(
            e.kind(),
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
        );
        (dropped && !self.with_cert && self.asked_for_cert.load(Ordering::Relaxed))
            .then_some(TlsFailure::ClientCertificateRequired)
    }
}

/// Verification turned off: any certificate is accepted, its signatures on the handshake are
/// still checked (so the connection is encrypted to whoever holds the key it shows).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl TlsFailure {
    /// The failure a rustls error means. `with_client_cert`: whether Warren offered one.
    fn from_rustls(e: &rustls::Error, with_client_cert: bool) -> TlsFailure {
        use rustls::Error as E;
        match e {
            E::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => TlsFailure::UnknownCa,
                CertificateError::NotValidForName => TlsFailure::NameMismatch {
                    host: String::new(),
                    presented: Vec::new(),
                },
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => TlsFailure::NameMismatch {
                    host: server_name(expected),
                    presented: presented.iter().map(|p| presented_name(p)).collect(),
                },
                CertificateError::Expired => TlsFailure::Expired { not_after: None },
                CertificateError::ExpiredContext { not_after, .. } => TlsFailure::Expired {
                    not_after: Some(not_after.as_secs()),
                },
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsFailure::NotYetValid
                }
                other => TlsFailure::BadServerCertificate(format!("{other:?}")),
            },
            E::AlertReceived(alert) => match alert {
                AlertDescription::CertificateRequired => TlsFailure::ClientCertificateRequired,
                AlertDescription::HandshakeFailure if !with_client_cert => {
                    TlsFailure::ClientCertificateRequired
                }
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateUnknown
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateRevoked
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::AccessDenied
                | AlertDescription::HandshakeFailure => {
                    TlsFailure::ClientCertificateRefused(format!("{alert:?}"))
                }
                other => TlsFailure::Other(format!("the server sent the alert {other:?}")),
            },
            E::InvalidMessage(_) | E::InappropriateMessage { .. } => TlsFailure::NotTls,
            other => TlsFailure::Other(other.to_string()),
        }
    }

    /// The TLS failure somewhere in an error's chain of causes, if there is one.
    pub fn find(
        e: &(dyn std::error::Error + 'static),
        with_client_cert: bool,
    ) -> Option<TlsFailure> {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(e) = next {
            if let Some(r) = e.downcast_ref::<rustls::Error>() {
                return Some(TlsFailure::from_rustls(r, with_client_cert));
            }
            // io::Error's own source() skips the error it wraps: look inside it.
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if let Some(inner) = io.get_ref() {
                    if let Some(found) = TlsFailure::find(inner, with_client_cert) {
                        return Some(found);
                    }
                }
            }
            next = e.source();
        }
        None
    }
}

/// A name as rustls lists a certificate's names (`DnsName("localhost")`), as people write it.
fn presented_name(raw: &str) -> String {
    match raw.split_once('(') {
        Some((_, rest)) => rest.trim_end_matches(')').trim_matches('"').to_owned(),
        None => raw.to_owned(),
    }
}

fn server_name(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_is_on_by_default_and_off_carries_a_warning() {
        let on: TlsSettings = serde_json::from_str("{}").unwrap();
        assert!(on.verify_peer);
        assert_eq!(on.warning(), None);
        let off = TlsSettings {
            verify_peer: false,
            ..Default::default()
        };
        assert_eq!(off.warning(), Some(UNVERIFIED_WARNING));
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_a_settings_error_naming_it() {
        let missing = TlsSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let e = client_config(&missing).unwrap_err();
        assert!(matches!(e, Error::Tls(_)), "{e:?}");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = client_config(&TlsSettings {
            ca_file: Some(empty.display().to_string()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
    }

    #[test]
    fn failures_are_read_through_io_errors() {
        let rustls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls);
        let outer = std::io::Error::other(io);
        assert_eq!(TlsFailure::find(&outer, false), Some(TlsFailure::UnknownCa));

        let alert = std::io::Error::other(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        assert_eq!(
            TlsFailure::find(&alert, false),
            Some(TlsFailure::ClientCertificateRequired)
        );
        let plain = std::io::Error::other("connection refused");
        assert_eq!(TlsFailure::find(&plain, false), None);
    }

    #[test]
    fn a_reset_after_the_server_asked_for_a_certificate_means_it_requires_one() {
        let tls = AmqpTls::new(&TlsSettings::default()).unwrap();
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(tls.failure(&reset), None, "the server never asked");
        tls.asked_for_cert.store(true, Ordering::Relaxed);
        assert_eq!(
            tls.failure(&reset),
            Some(TlsFailure::ClientCertificateRequired)
        );
        assert_eq!(tls.failure(&refused), None, "not a dropped connection");
    }

    #[test]
    fn an_expiry_date_is_shown_as_a_calendar_date() {
        assert_eq!(crate::error::civil_date(0), "1970-01-01");
        assert_eq!(crate::error::civil_date(1_577_923_200), "2020-01-02");
        assert_eq!(crate::error::civil_date(951_782_400), "2000-02-29");
    }

    #[test]
    fn a_name_mismatch_says_which_names_the_certificate_has() {
        let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("127.0.0.1").unwrap(),
            presented: vec!["DnsName(\"localhost\")".into()],
        });
        let f = TlsFailure::from_rustls(&e, false);
        assert!(
            f.to_string()
                .contains("not valid for 127.0.0.1 (it is for localhost)"),
            "{f}"
        );
    }
}
