// Signing in to the console with a real OpenID Connect provider run locally (the `oidc-provider`
// package, its development login and consent pages): authorization code with PKCE, a
// confidential client, roles from the `roles` claim. Debian's Chromium, loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Provider from 'oidc-provider';
import { freePort, startService, launchChromium, loopbackOnly } from './harness.mjs';

// Who the provider knows, and the roles its `roles` claim gives each.
const ROLES = { alice: ['procurement', 'not-a-role-here'], audrey: 'auditor legal', mallory: ['owner'] };
const CLIENT_ID = 'vendor-registry-console';
const CLIENT_SECRET = 'a-client-secret-used-by-this-test-only-0123456789';

let service, idp, base, issuer, browser;
const seen = { authorize: [], token: 0 };

before(async () => {
  const [port, idpPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  issuer = `http://127.0.0.1:${idpPort}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${base}/console/oidc/callback`],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: 'native',
    }],
    pkce: { required: () => true },
    scopes: ['openid', 'roles'],
    claims: { openid: ['sub'], roles: ['roles'] },
    conformIdTokenClaims: false,
    cookies: { keys: ['a-cookie-key-used-by-this-test-only'] },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, roles: ROLES[id] ?? [] }),
    }),
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === '/auth') seen.authorize.push(Object.fromEntries(new URLSearchParams(ctx.querystring)));
    if (ctx.path === '/token') seen.token += 1;
    await next();
  });
  idp = provider.listen(idpPort, '127.0.0.1');

  service = await startService({
    VENDOR_REGISTRY_OIDC_ISSUER: issuer,
    VENDOR_REGISTRY_OIDC_CLIENT_ID: CLIENT_ID,
    VENDOR_REGISTRY_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    VENDOR_REGISTRY_OIDC_REDIRECT_URL: `${base}/console/oidc/callback`,
    VENDOR_REGISTRY_OIDC_SCOPES: 'openid roles',
    VENDOR_REGISTRY_OIDC_NAME: 'the test provider',
  }, port);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  service?.stop();
  idp?.close();
});

// Through the provider's login and consent pages as `login`.
async function viaProvider(login) {
  const context = await browser.newContext();
  await loopbackOnly(context);
  const page = await context.newPage();
  await page.goto(`${base}/console/sign-in`);
  await page.click('text=Sign in with the test provider');
  await page.waitForURL(new RegExp(`^${issuer}/interaction/`));
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  await page.click('button:has-text("Sign-in")');
  await page.click('button:has-text("Continue")');
  return { context, page };
}

test('a person signs in with the provider; their roles come from its claim', async () => {
  const { context, page } = await viaProvider('alice');
  await page.waitForURL(`${base}/console`);
  assert.match(await page.locator('header .signout').innerText(), /Signed in as alice \(procurement\)/);
  const cookie = (await context.cookies(`${base}/console`)).find((c) => c.name === "vr_console");
  assert.ok(cookie.value.startsWith('vrs1.'), 'a console session, not the ID token');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal((await context.cookies(`${base}/console/oidc/callback`)).some((c) => c.name === "vr_oidc"), false, "the flow cookie is gone");
  // PKCE with S256, a state and a nonce were sent; the code was traded once.
  const asked = seen.authorize.at(-1);
  assert.equal(asked.code_challenge_method, 'S256');
  assert.match(asked.code_challenge, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(asked.state && asked.nonce);
  assert.equal(asked.scope, 'openid roles');
  assert.equal(seen.token, 1);
  // The session works as a token would: procurement reads the vendors, may register one.
  await page.click('text=Vendors');
  assert.equal(await page.locator('a:has-text("Register a vendor")').count(), 1);
  await context.close();

  // Roles given as one string of names work too.
  const audrey = await viaProvider('audrey');
  await audrey.page.waitForURL(`${base}/console`);
  assert.match(await audrey.page.locator('header .signout').innerText(), /audrey \(auditor, legal\)/);
  await audrey.context.close();
});

test('a person whose claim names no role of this service gets no session', async () => {
  const { context, page } = await viaProvider('mallory');
  await page.waitForSelector('#e-token');
  assert.match(await page.locator('#e-token').innerText(), /was not accepted/);
  assert.equal((await context.cookies(`${base}/console`)).some((c) => c.name === "vr_console"), false);
  await context.close();
});

test('a callback that is not this browser\'s sign-in is refused', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/console/oidc/start`);
  await page.waitForURL(new RegExp(`^${issuer}/interaction/`));
  // The provider's answer with another state (an attacker's code, say) is not taken.
  const r = await page.goto(`${base}/console/oidc/callback?code=forged&state=not-the-one`);
  assert.equal(r.status(), 401);
  assert.equal((await context.cookies(`${base}/console`)).some((c) => c.name === "vr_console"), false);
  await context.close();
});
