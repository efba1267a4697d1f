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
