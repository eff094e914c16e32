//! TLS for every listener (F7): a configured certificate, or a self-signed one generated into
//! the data folder on first run so a laptop install works out of the box.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Builds the acceptor from `files` (certificate chain, key), or from the generated pair in
/// `DATA/tls/`, creating it if missing.
pub(crate) fn acceptor(
    files: Option<&(std::path::PathBuf, std::path::PathBuf)>,
    data: &Path,
    hostname: &str,
) -> anyhow::Result<TlsAcceptor> {
    let (cert_path, key_path) = match files {
        Some((cert, key)) => (cert.clone(), key.clone()),
        None => generate_if_missing(data, hostname)?,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|iter| iter.collect())
        .with_context(|| format!("reading certificates from {}", cert_path.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(&key_path).with_context(|| format!("reading the key {}", key_path.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not match")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn generate_if_missing(data: &Path, hostname: &str) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let dir = data.join("tls");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(&dir).context("creating the tls folder")?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !names.contains(&hostname.to_string()) {
        names.push(hostname.to_string());
    }
    let generated = rcgen::generate_simple_self_signed(names).context("generating a self-signed certificate")?;
    write_private(&key_path, generated.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, generated.cert.pem()).context("writing the certificate")?;
    tracing::info!(path = %cert_path.display(), "generated a self-signed TLS certificate");
    Ok((cert_path, key_path))
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}
