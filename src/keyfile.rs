//! Secrets generated into the data directory on first use (token secret, ledger signing key).

use std::io::Write;
use std::path::Path;

/// Reads the key file at `path`, or creates it with `generate()` and mode 0600. Two processes
/// racing to create it agree on one file: the loser reads the winner's.
pub fn load_or_create(path: &Path, generate: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>, String> {
    match std::fs::read(path) {
        Ok(bytes) => return Ok(trimmed(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    // Written whole to a private temporary file, then linked into place: a reader never sees a
    // half-written key, and of two racing creators exactly one link succeeds.
    let tmp = path.with_extension(format!("tmp{}", rand::random::<u32>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let bytes = generate();
    let written = options
        .open(&tmp)
        .and_then(|mut file| file.write_all(&bytes).and_then(|_| file.sync_all()))
        .and_then(|_| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path)
            .map(trimmed)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}

fn trimmed(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    bytes
}

/// Where a configured key comes from: a setting names a file, or holds the PEM itself. Neither
/// is ever echoed: a message names the setting, not its value.
#[derive(Clone)]
pub enum KeySource {
    Path(std::path::PathBuf),
    Pem(secrecy::SecretString),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Path(_) => f.write_str("KeySource::Path(…)"),
            KeySource::Pem(_) => f.write_str("KeySource::Pem(…)"),
        }
    }
}

impl KeySource {
    /// A setting's value: PEM text when it holds a PEM armour line, else a path.
    pub fn from_setting(value: &str) -> KeySource {
        if value.contains("-----BEGIN ") {
            KeySource::Pem(secrecy::SecretString::from(value.to_owned()))
        } else {
            KeySource::Path(value.into())
        }
    }

    /// The key's bytes; `setting` names where it was configured, for the message.
    pub fn read(&self, setting: &str) -> Result<Vec<u8>, String> {
        use secrecy::ExposeSecret;
        match self {
            KeySource::Pem(pem) => Ok(pem.expose_secret().as_bytes().to_vec()),
            KeySource::Path(path) => std::fs::read(path).map_err(|e| {
                format!(
                    "cannot read the file {setting} names ({}); it takes a path or the PEM itself",
                    e.kind()
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_setting_is_a_path_or_the_pem_and_is_never_echoed() {
        let pem = "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----\n";
        let source = KeySource::from_setting(pem);
        assert!(matches!(source, KeySource::Pem(_)));
        assert!(!format!("{source:?}").contains("TOPSECRET"));
        assert_eq!(source.read("X").unwrap(), pem.as_bytes());
        let missing = KeySource::from_setting("/nonexistent/secret-dir/key.pem");
        let err = missing.read("VENDOR_REGISTRY_LEDGER_KEY").unwrap_err();
        assert!(err.contains("VENDOR_REGISTRY_LEDGER_KEY"), "{err}");
        assert!(!err.contains("secret-dir"), "{err}");
    }
}
