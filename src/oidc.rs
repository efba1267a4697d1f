//! Signing people in with the company's OpenID Connect provider: the authorization code flow
//! with PKCE (RFC 7636, `S256`), for the console. Discovery and the provider's keys are read
//! when first needed (the service starts while the provider is down) and the keys again when an
//! ID token names one not seen yet. The ID token is checked — signature by the provider's
//! published key, `iss`, `aud`, `exp`, `nonce` — and its roles claim read; a person whose
//! claim names no role of this service is refused.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{Principal, Role};

/// How the provider is reached (`VENDOR_REGISTRY_OIDC_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer; `{issuer}/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: String,
    /// A confidential client's secret (sent with HTTP Basic); none for a public client.
    pub client_secret: Option<SecretString>,
    /// This console's callback, `https://…/console/oidc/callback`, as registered at the provider.
    pub redirect_url: String,
    /// The claim holding the person's roles: an array of role names, or one string of them.
    pub roles_claim: String,
    /// The scopes asked for; `openid` is always among them.
    pub scopes: String,
    /// What the sign-in button calls the provider.
    pub name: String,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Provider {
    discovery: Discovery,
    keys: JwkSet,
}

/// A sign-in under way: what the browser keeps until the provider sends it back.
pub struct Start {
    /// Where to send the browser.
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

pub struct Client {
    pub settings: Settings,
    agent: ureq::Agent,
    provider: parking_lot::Mutex<Option<Arc<Provider>>>,
}

fn random() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The `S256` code challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Client {
    pub fn new(settings: Settings) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Client {
            settings,
            agent,
            provider: parking_lot::Mutex::new(None),
        }
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let mut r = self
            .agent
            .get(url)
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        if r.status() != 200 {
            return Err(format!("{url}: status {}", r.status()));
        }
        let text = r
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))
    }

    /// The provider's endpoints and keys; read again when `refresh` (a key not seen yet).
    fn provider(&self, refresh: bool) -> Result<Arc<Provider>, String> {
        if !refresh && let Some(p) = self.provider.lock().as_ref() {
            return Ok(p.clone());
        }
        let issuer = self.settings.issuer.trim_end_matches('/');
        let discovery: Discovery =
            self.get_json(&format!("{issuer}/.well-known/openid-configuration"))?;
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(format!(
                "the provider calls itself {}, not {issuer}",
                discovery.issuer
            ));
        }
        let keys: JwkSet = self.get_json(&discovery.jwks_uri)?;
        let p = Arc::new(Provider { discovery, keys });
        *self.provider.lock() = Some(p.clone());
        Ok(p)
    }

    /// Begins a sign-in: the provider's authorization URL with a fresh state, nonce and PKCE
    /// challenge. Blocking (it may read the provider's discovery document).
    pub fn start(&self) -> Result<Start, String> {
        let p = self.provider(false)?;
        let (state, nonce, verifier) = (random(), random(), random());
        let mut scopes: Vec<&str> = self.settings.scopes.split_whitespace().collect();
        if !scopes.contains(&"openid") {
            scopes.insert(0, "openid");
        }
        let mut url = url::Url::parse(&p.discovery.authorization_endpoint)
            .map_err(|e| format!("authorization_endpoint: {e}"))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_url)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(Start {
            url: url.into(),
            state,
            nonce,
            verifier,
        })
    }

    /// Finishes a sign-in: trades the code (with the PKCE verifier) for an ID token, checks it,
    /// and reads the person and their roles. Blocking.
    pub fn finish(&self, code: &str, verifier: &str, nonce: &str) -> Result<Principal, String> {
        let p = self.provider(false)?;
        let mut req = self.agent.post(&p.discovery.token_endpoint);
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.settings.redirect_url.as_str()),
            ("code_verifier", verifier),
        ];
        let basic;
        match &self.settings.client_secret {
            Some(secret) => {
                // RFC 6749 §2.3.1: each part form-encoded, then Basic.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!(
                    "{}:{}",
                    enc(&self.settings.client_id),
                    enc(secret.expose_secret())
                );
                basic = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                );
                req = req.header("Authorization", basic.as_str());
            }
            None => form.push(("client_id", self.settings.client_id.as_str())),
        }
        let mut r = req
            .send_form(form)
            .map_err(|e| format!("token endpoint: {e}"))?;
        let text = r
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("token endpoint: {e}"))?;
        if r.status() != 200 {
            return Err(format!("token endpoint: status {}: {text}", r.status()));
        }
        #[derive(Deserialize)]
        struct Tokens {
            id_token: String,
        }
        let tokens: Tokens =
            serde_json::from_str(&text).map_err(|e| format!("token endpoint: {e}"))?;
        self.principal_of(&tokens.id_token, nonce)
    }

    /// Checks an ID token and reads its subject and roles.
    pub fn principal_of(&self, id_token: &str, nonce: &str) -> Result<Principal, String> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|e| format!("ID token: {e}"))?;
        if !ASYMMETRIC.contains(&header.alg) {
            return Err(format!("ID token: {:?} is not accepted", header.alg));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let mut p = self.provider(false)?;
        if p.keys.find(&kid).is_none() {
            p = self.provider(true)?;
        }
        let jwk = match p.keys.find(&kid) {
            Some(k) => k,
            None if p.keys.keys.len() == 1 && header.kid.is_none() => &p.keys.keys[0],
            None => return Err(format!("ID token: the provider publishes no key {kid:?}")),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("ID token key: {e}"))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = 30;
        validation.set_issuer(&[p.discovery.issuer.as_str()]);
        validation.set_audience(&[self.settings.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(id_token, &key, &validation)
            .map_err(|e| format!("ID token: {e}"))?
            .claims;
        if claims["nonce"].as_str() != Some(nonce) {
            return Err("ID token: the nonce is not this sign-in's".into());
        }
        let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
        let roles = roles_of(&claims[self.settings.roles_claim.as_str()]);
        if roles.is_empty() {
            return Err(format!(
                "the provider's `{}` claim names no role of this service",
                self.settings.roles_claim
            ));
        }
        Ok(Principal { sub, roles })
    }
}

const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The roles a claim names: an array of names, or one string of names separated by spaces or
/// commas; names that are not roles of this service are left out.
pub fn roles_of(claim: &serde_json::Value) -> Vec<Role> {
    let names: Vec<&str> = match claim {
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str()).collect(),
        serde_json::Value::String(s) => s.split([' ', ',']).collect(),
        _ => Vec::new(),
    };
    let mut roles: Vec<Role> = names.into_iter().filter_map(Role::parse).collect();
    roles.dedup();
    roles
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_s256_challenge_is_rfc_7636s() {
        // RFC 7636 Appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn roles_are_read_from_an_array_or_a_string_and_unknown_names_dropped() {
        assert_eq!(
            roles_of(&json!(["procurement", "owner", "auditor"])),
            [Role::Procurement, Role::Auditor]
        );
        assert_eq!(roles_of(&json!("legal admin")), [Role::Legal, Role::Admin]);
        assert_eq!(
            roles_of(&json!("procurement,auditor")),
            [Role::Procurement, Role::Auditor]
        );
        assert!(roles_of(&json!(null)).is_empty());
        assert!(roles_of(&json!(["Admin"])).is_empty(), "names are exact");
    }
}
