//! Running `vendor-registry serve` as a process and talking to it over loopback.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use vendor_registry_test_support::{call, free_port};

pub struct Node {
    pub port: u16,
    pub child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(url: &str, data_dir: &std::path::Path) -> Node {
    start_with(url, data_dir, &[])
}

/// [`start`] with more environment variables for the server.
pub fn start_with(url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Node {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by the guard from here on, so it is killed and reaped whatever happens.
    let node = Node { port, child };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if call(port, "GET", "/readyz", "", None, &[]).is_some_and(|(s, _)| s == 200) {
            return node;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("node on {port} did not start");
}

pub fn token(data_dir: &std::path::Path, role: &str, sub: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args(["token", "--role", role, "--sub", sub, "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
