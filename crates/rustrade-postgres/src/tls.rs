//! [`PostgresTls`]: whether the connection to the server is encrypted, and which certificate
//! authorities vouch for the server.
//!
//! With TLS on, the server's certificate is always verified, chain and host name, with rustls:
//! an encrypted connection to a server nobody vouched for protects nothing against the
//! man in the middle TLS is there to stop, so there is no "encrypt but trust anyone" mode.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::PostgresError;

/// How a [`PostgresStore`](crate::PostgresStore) reaches its server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PostgresTls {
    /// Plain TCP: a server on the same host or on a private network.
    #[default]
    Disabled,
    /// TLS required; the server's certificate must chain to one of Mozilla's root
    /// authorities (the `webpki-roots` set) and name the URL's host.
    Verified,
    /// TLS required; the server's certificate must chain to a certificate in this PEM file
    /// (a private CA, or the server's own self-signed certificate) and name the URL's host.
    VerifiedWith(PathBuf),
}

impl PostgresTls {
    /// The connector for this mode, or `None` for plain TCP. A CA file that cannot be read or
    /// holds no certificate is refused naming the file.
    pub(crate) fn connector(&self) -> Result<Option<MakeRustlsConnect>, PostgresError> {
        let roots = match self {
            Self::Disabled => return Ok(None),
            Self::Verified => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
            Self::VerifiedWith(path) => ca_file(path)?,
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("tls", "ring", &e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Some(MakeRustlsConnect::new(config)))
    }
}

fn ca_file(path: &PathBuf) -> Result<RootCertStore, PostgresError> {
    let shown = path.display().to_string();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| invalid("tls_ca_file", &shown, &e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| invalid("tls_ca_file", &shown, &format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("tls_ca_file", &shown, "holds no certificate"));
    }
    let mut roots = RootCertStore::empty();
    let (_, refused) = roots.add_parsable_certificates(certs);
    if roots.is_empty() {
        return Err(invalid(
            "tls_ca_file",
            &shown,
            &format!("none of its {refused} certificates could be used"),
        ));
    }
    Ok(roots)
}

fn invalid(field: &'static str, value: &str, reason: &str) -> PostgresError {
    PostgresError::InvalidOption {
        field,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}
