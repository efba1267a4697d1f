// The console in a real browser: Debian's Chromium, headless, loopback only. Starts the service
// (the debug binary `cargo test` built) and uses /console as its people would — a procurement
// officer registers a vendor and asks for a grant, a second officer trusts the vendor and approves
// the grant (the first gets no approve button), a service's owner sees a denial's remedy, counsel
// opens an incident and sees the vendor suspended and the exposure, an auditor filters the
// decision log and opens a proof — and checks every page with axe-core (no serious or critical
// violation), by keyboard, and at 200 % zoom. SCREENSHOTS_DIR=… keeps a screenshot of each page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startService, launchChromium, loopbackOnly } from './harness.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const shots = process.env.SCREENSHOTS_DIR;

let service, base, token, browser;
const outside = [];
const checked = [];

async function api(method, url, who, body, ifMatch) {
  const headers = { authorization: `Bearer ${who}` };
  if (body) headers['content-type'] = 'application/json';
  if (ifMatch) headers['if-match'] = ifMatch;
  const r = await fetch(`${base}${url}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

before(async () => {
  if (shots) mkdirSync(shots, { recursive: true });
  service = await startService();
  ({ base, token } = service);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  service?.stop();
});

// A person's browser, signed in with their token by keyboard, as they would.
async function signedIn(role, sub) {
  // axe is injected as a script; the console's CSP (script-src 'self') would refuse it.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  await loopbackOnly(context, outside);
  const page = await context.newPage();
  await page.goto(`${base}/console/parties`);
  assert.match(page.url(), /\/console\/sign-in$/, 'without a session: the sign-in page');
  await audit(page, 'sign-in');
  await page.focus('#f-token');
  await page.keyboard.insertText(token(role, sub));
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/console`);
  return page;
}

// axe-core on the page as it stands: no serious or critical violation.
async function audit(page, name) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${name}`,
  );
  checked.push(name);
  if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

test('procurement, a service owner, counsel and an auditor use the console', async () => {
  const admin = token('admin', 'root');
  await api('POST', '/v1/entities', admin, { key: 'acme-us', legal_name: 'Acme Inc.', country: 'US' });
  await api('POST', '/v1/services', admin, { key: 'newsletter', name: 'Newsletter', purposes: ['marketing'], entities: ['acme-us'] });

  // Alice registers a vendor; a wrong field first, shown beside it with the API's words.
  const alice = await signedIn('procurement', 'alice');
  await audit(alice, 'home');
  await alice.click('text=Vendors');
  await alice.click('text=Register a vendor');
  await alice.selectOption('#f-kind', 'third_party');
  await alice.fill('#f-legal_name', 'Acme Mail Ltd');
  await alice.fill('#f-country', 'XX');
  await alice.fill('#f-data_locations', 'US');
  await alice.fill('#f-privacy_policy_url', 'https://acme.example/privacy');
  await alice.fill('#f-contact_email', 'dpo@acme.example');
  await alice.click('button:has-text("Register")');
  assert.match(await alice.locator('#e-country').innerText(), /ISO 3166-1 alpha-2/);
  assert.equal(await alice.getAttribute('#f-country', 'aria-invalid'), 'true');
  await audit(alice, 'register-vendor-errors');
  await alice.fill('#f-country', 'US');
  await alice.click('button:has-text("Register")');
  await alice.waitForSelector('h1:has-text("Acme Mail Ltd")');
  const vendorUrl = alice.url();
  const partyId = vendorUrl.split('/').pop();

  // She asks for a grant with the picker's search; it waits for a second person.
  await alice.click('summary:has-text("Grant a scope")');
  await alice.selectOption('#f-service', 'newsletter');
  await alice.fill('#category-search', 'email');
  assert.ok(await alice.locator('li[data-key="user.financial"]').isHidden(), 'the search hides what does not match');
  await alice.check('input[name=categories][value="user.contact.email"]');
  await alice.check('input[name=allowed_regions][value="US"]');
  await alice.click('button:has-text("Ask for the grant")');
  await alice.waitForSelector('.b-pending_approval');
  assert.equal(await alice.locator('button:has-text("Approve")').count(), 0, 'no approve button for the asker');
  assert.equal(await alice.locator('option[value="trusted"]').count(), 0, 'the registrant cannot trust it');
  await audit(alice, 'vendor-pending');

  // She edits the record.
  await alice.click('text=Edit the record');
  await audit(alice, 'edit-vendor');
  await alice.selectOption('#f-risk_tier', 'high');
  await alice.fill('#f-next_review_due', '2027-06-30');
  await alice.click('button:has-text("Save changes")');
  await alice.waitForURL(vendorUrl);
  assert.match(await alice.locator('dl.facts').innerText(), /Risk tier\s+high\s+Next review due\s+2027-06-30/);

  // The register's own export, imported again: previewed first, every row unchanged.
  const exported = await (await fetch(`${base}/v1/exports/register.csv`, { headers: { authorization: `Bearer ${admin}` } })).text();
  await alice.goto(`${base}/console/imports`);
  await audit(alice, 'import');
  await alice.fill('#f-csv', exported);
  await alice.click('button:has-text("Preview (writes nothing)")');
  await alice.waitForSelector('h1:has-text("Preview of the import")');
  assert.match(await alice.locator('table:has(caption:has-text("What the import would do"))').innerText(), /Vendors\s+0\s+0\s+0\s+1/);
  await audit(alice, 'import-preview');

  // A form posted without its CSRF token is refused, and nothing changes.
  const refused = await alice.evaluate(async () => {
    const r = await fetch('/console/parties', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'kind=third_party&legal_name=Sneaky&country=US&data_locations=US&privacy_policy_url=https%3A%2F%2Fx.example&contact_email=a%40x.example',
    });
    return r.status;
  });
  assert.equal(refused, 403);
  const parties = await api('GET', '/v1/parties', admin);
  assert.deepEqual(parties.items.map((p) => p.legal_name), ['Acme Mail Ltd']);

  // Bob trusts the vendor and approves the grant.
  const bob = await signedIn('procurement', 'bob');
  await bob.goto(vendorUrl);
  await bob.selectOption('#f-status', 'trusted');
  await bob.fill('#f-reason', 'Due diligence DD-17 complete');
  await bob.click('button:has-text("Change status")');
  await bob.waitForSelector('p >> .b-trusted');
  await bob.click('button:has-text("Approve")');
  await bob.waitForSelector('td >> .b-active');
  assert.match(await bob.locator('table:has(caption:has-text("newsletter"))').innerText(), /bob/);
  await audit(bob, 'vendor');
  await bob.goto(`${base}/console/parties?status=trusted&q=acme`);
  assert.match(await bob.locator('table').innerText(), /Acme Mail Ltd/);
  await audit(bob, 'vendors');

  // The newsletter's owner asks whether a share would be approved: a denial with its remedy.
  const owner = await signedIn('service', 'newsletter');
  await owner.click('text=Would this be approved?');
  await owner.selectOption('#f-party_id', partyId);
  await owner.selectOption('#f-purpose', 'marketing.communications.email');
  await owner.fill('#category-search', 'financial');
  await owner.check('input[name=categories][value="user.financial"]');
  await owner.fill('#f-destination_country', 'US');
  await owner.fill('#f-subject_country', 'US');
  await owner.fill('#f-subject_count', '10');
  await owner.click('button:has-text("Would this be approved?")');
  await owner.waitForSelector('#answer');
  const answer = await owner.locator('table.reasons').innerText();
  assert.match(answer, /category_not_granted/);
  assert.match(answer, /POST \/v1\/parties\/\{id\}\/grants/, 'the remedy names the operation');
  await audit(owner, 'evaluate');

  // Decisions to audit and to expose: one approved, one denied.
  const newsletter = token('service', 'newsletter');
  const ask = (category) => ({ party_id: partyId, purpose: 'marketing.communications.email', categories: [category],
    destination_country: 'US', subject_country: 'US', subject_count: 1200 });
  assert.equal((await api('POST', '/v1/sharing-requests', newsletter, ask('user.contact.email'))).outcome, 'approved');
  assert.equal((await api('POST', '/v1/sharing-requests', newsletter, ask('user.financial'))).outcome, 'denied');

  // Counsel opens an incident: the vendor is suspended, the exposure is a table and a CSV.
  const counsel = await signedIn('legal', 'lee');
  await counsel.click('text=Incidents');
  await counsel.click('summary:has-text("Open an incident")');
  await counsel.selectOption('#f-party_id', partyId);
  await counsel.fill('#f-title', 'Mail vendor breached');
  await counsel.fill('#f-became_aware_at', new Date().toISOString());
  await counsel.selectOption('#f-severity', 'high');
  await counsel.fill('#f-categories', 'user.contact.email');
  await counsel.click('button:has-text("Open the incident")');
  await counsel.waitForSelector('h1:has-text("Mail vendor breached")');
  assert.match(await counsel.locator('#vendor + p').innerText(), /suspended/);
  const exposure = await counsel.locator('table:has(caption:has-text("What was shared"))').innerText();
  assert.match(exposure, /newsletter\s+user\.contact\.email\s+US/);
  const csv = await counsel.evaluate(async (href) => (await fetch(href)).text(),
    await counsel.getAttribute('a:has-text("Download as CSV")', 'href'));
  assert.match(csv, /^service,category,subject_country/);
  assert.match(csv, /newsletter,user\.contact\.email,US/);
  await audit(counsel, 'incident');
  await counsel.click('text=Incidents');
  await audit(counsel, 'incidents');
  await counsel.click('text=Legal requests');
  await audit(counsel, 'legal-requests');

  // Transfers exported before the service counted them, recorded by an admin: the ledger page
  // charts the counter against its thresholds.
  await api('POST', '/v1/entities', admin, { key: 'acme-cn', legal_name: 'Acme China Ltd', country: 'CN' });
  await api('POST', '/v1/transfer-volumes/adjustments', admin, { key: 'pipl:acme-cn:non_sensitive',
    period: String(new Date().getUTCFullYear()), delta: 95000, reason: 'exports before the service counted them',
    evidence_reference: 'DPO-1' });

  // The auditor filters the decision log to denials and opens one's proof.
  const auditor = await signedIn('auditor', 'audrey');
  await auditor.click('text=Decisions');
  await auditor.selectOption('#f-outcome', 'denied');
  await auditor.click('button:has-text("Filter")');
  await auditor.waitForURL(/outcome=denied/);
  const rows = auditor.locator('table tbody tr');
  assert.equal(await rows.count(), 1, 'only the denial');
  await audit(auditor, 'decisions');
  await rows.first().locator('a').first().click();
  await auditor.waitForSelector('#proof');
  assert.match(await auditor.locator('section:has(#proof)').innerText(), /Leaf hash\s+[0-9a-f]{64}/);
  await audit(auditor, 'decision');
  await auditor.click('text=Ledger');
  await auditor.click('button:has-text("Verify the whole ledger now")');
  await auditor.waitForSelector('.verdict.good');
  assert.equal(await auditor.getAttribute('table.volumes svg', 'aria-label'), '95 % of the next threshold, 100000');
  await audit(auditor, 'ledger');

  // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
  await auditor.goto(vendorUrl);
  await auditor.keyboard.press('Tab');
  assert.equal(await auditor.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await auditor.keyboard.press('Enter');
  assert.equal(await auditor.evaluate(() => document.activeElement.id), 'main');
  // 200 % zoom of a 1280-pixel window: the vendor page reflows without sideways scrolling.
  await auditor.setViewportSize({ width: 640, height: 900 });
  assert.ok(await auditor.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'reflows at 200 %');

  assert.deepEqual(outside, [], 'the console reaches nothing beyond loopback');
  assert.ok(checked.length >= 12, `axe ran on ${checked.join(', ')}`);
});
