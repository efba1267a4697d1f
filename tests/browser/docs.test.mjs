// The API docs in a real browser: Debian's Chromium, headless, loopback only.
// Starts the service (the debug binary `cargo test` built), registers a party, then uses /docs
// as an auditor would: every operation listed, "Authorize" with a bearer token, and
// "Try it out" on GET /v1/parties showing the party.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startService, launchChromium, loopbackOnly } from './harness.mjs';

let service, base, token, browser;

before(async () => {
  service = await startService();
  ({ base, token } = service);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  service?.stop();
});

test('the docs list every operation, take a bearer token, and try GET /v1/parties', async () => {
  const alice = token('procurement', 'alice');
  const created = await fetch(`${base}/v1/parties`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      kind: 'third_party', legal_name: 'Acme Browser Ltd', country: 'CN', data_locations: ['CN'],
      privacy_policy_url: 'https://acme.example/privacy', contact_email: 'dpo@acme.example',
    }),
  });
  assert.equal(created.status, 201);

  const page = await browser.newPage();
  const outside = [];
  await loopbackOnly(page, outside);
  await page.goto(`${base}/docs`);
  await page.waitForSelector('.opblock', { timeout: 20000 });

  const spec = await (await fetch(`${base}/openapi.json`)).json();
  const operations = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  assert.equal(await page.locator('.opblock').count(), operations, 'every operation is listed');
  assert.ok(await page.locator('#operations-parties-list_parties').isVisible());

  await page.click('.auth-wrapper button.authorize');
  await page.fill('.modal-ux input', token('auditor', 'audrey'));
  await page.click('.modal-ux .auth-btn-wrapper button.authorize');
  await page.waitForSelector('.modal-ux button[aria-label="Remove authorization"]');
  await page.click('.modal-ux button.btn-done');

  const op = page.locator('#operations-parties-list_parties');
  await op.locator('.opblock-summary').click();
  await op.locator('button.try-out__btn').click();
  await op.locator('button.execute').click();
  const live = op.locator('.live-responses-table');
  await live.waitFor({ timeout: 20000 });
  await page.waitForFunction(
    () => document.querySelector('#operations-parties-list_parties .live-responses-table')?.innerText.includes('Acme Browser Ltd'),
    null,
    { timeout: 20000 },
  );
  const text = await live.innerText();
  assert.match(text, /\b200\b/);
  assert.match(text, /Acme Browser Ltd/);
  assert.deepEqual(outside, [], 'the docs reach nothing beyond loopback');
  await page.screenshot({ path: path.join(service.dataDir, 'docs.png') });
});
