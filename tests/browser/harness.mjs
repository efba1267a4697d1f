// What the browser tests share: the service started on a free loopback port with a data
// directory of its own, Debian's Chromium, and a context that reaches nothing beyond loopback.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const bin = process.env.VENDOR_REGISTRY_BIN ?? path.resolve(here, '../../target/debug/vendor-registry');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// `serve` (the debug binary `cargo test` built) on SQLite in a fresh directory, ready.
export async function startService(extraEnv = {}, port) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vr-browser-'));
  port ??= await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ...extraEnv };
  delete env.DATABASE_URL;
  const server = spawn(bin, ['serve', '--bind', `127.0.0.1:${port}`, '--data-dir', dataDir], { stdio: 'ignore', env });
  let ready = false;
  for (let i = 0; i < 150 && !ready; i++) {
    try {
      ready = (await fetch(`${base}/readyz`)).ok;
    } catch {
      await sleep(100);
    }
  }
  assert.ok(ready, 'the service starts');
  return {
    base,
    dataDir,
    token: (role, sub) =>
      execFileSync(bin, ['token', '--role', role, '--sub', sub, '--data-dir', dataDir]).toString().trim(),
    stop() {
      server.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// Aborts every request beyond 127.0.0.1, noting it in `outside` (when given).
export async function loopbackOnly(context, outside) {
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    outside?.push(url.href);
    return route.abort();
  });
}
