//! Sessions of people signed in with the OpenID Connect provider: the console cannot mint an API
//! token (the deployment's token keys may be the identity provider's), so it signs its own —
//! `vrs1.<payload>.<HMAC-SHA256>` with the console session key, the person's subject, roles and
//! expiry in the payload — and checks it on every request as the API checks a token.

use std::sync::Arc;

use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::auth::{Principal, Role};
use crate::config::ConsoleSettings;

const PREFIX: &str = "vrs1.";

/// The console's sign-in: the session key, and the provider when one is configured.
pub struct Sessions {
    key: SecretSlice<u8>,
    hours: u64,
    pub oidc: Option<Arc<crate::oidc::Client>>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    sub: String,
    roles: Vec<Role>,
    exp: u64,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

impl Sessions {
    /// Loads the configured key, or the one generated in `data_dir` (mode 0600).
    pub fn load(
        settings: &ConsoleSettings,
        data_dir: &std::path::Path,
    ) -> Result<Sessions, String> {
        let key = match &settings.session_key {
            Some(k) => k.expose_secret().as_bytes().to_vec(),
            None => crate::keyfile::load_or_create(&data_dir.join("console-session-key"), || {
                hex::encode(rand::random::<[u8; 32]>()).into_bytes()
            })?,
        };
        if key.len() < 32 {
            return Err("VENDOR_REGISTRY_CONSOLE_SESSION_KEY must be at least 32 bytes".into());
        }
        Ok(Sessions {
            key: key.into(),
            hours: settings.session_hours.max(1),
            oidc: settings
                .oidc
                .clone()
                .map(|s| Arc::new(crate::oidc::Client::new(s))),
        })
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose_secret()).expect("any key length");
        mac.update(signed.as_bytes());
        mac
    }

    /// A session for `p`, valid for the configured hours from `now` (seconds).
    pub fn mint(&self, p: &Principal, now: u64) -> String {
        let payload = Payload {
            sub: p.sub.clone(),
            roles: p.roles.clone(),
            exp: now + self.hours * 3600,
        };
        let body = b64().encode(serde_json::to_vec(&payload).unwrap_or_default());
        let signed = format!("{PREFIX}{body}");
        let tag = b64().encode(self.mac(&signed).finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// Whether `value` is one of these sessions (rather than an API token).
    pub fn is_session(value: &str) -> bool {
        value.starts_with(PREFIX)
    }

    /// The principal of a session still valid at `now` (seconds), signed with this key.
    pub fn verify(&self, value: &str, now: u64) -> Result<Principal, &'static str> {
        let (signed, tag) = value.rsplit_once('.').ok_or("malformed session")?;
        let tag = b64().decode(tag).map_err(|_| "malformed session")?;
        self.mac(signed)
            .verify_slice(&tag)
            .map_err(|_| "session signature")?;
        let body = signed.strip_prefix(PREFIX).ok_or("malformed session")?;
        let payload: Payload = b64()
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("malformed session")?;
        if payload.exp <= now {
            return Err("session expired");
        }
        Ok(Principal {
            sub: payload.sub,
            roles: payload.roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(key: &str) -> Sessions {
        let settings = ConsoleSettings {
            session_key: Some(key.to_owned().into()),
            session_hours: 8,
            oidc: None,
        };
        Sessions::load(&settings, std::path::Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn a_session_holds_its_person_until_its_hour_and_no_longer() {
        let s = sessions("k".repeat(32).as_str());
        let p = Principal {
            sub: "alice@example.com".into(),
            roles: vec![Role::Procurement, Role::Auditor],
        };
        let v = s.mint(&p, 1_000);
        assert!(Sessions::is_session(&v));
        let back = s.verify(&v, 1_000 + 8 * 3600 - 1).unwrap();
        assert_eq!(
            (back.sub.as_str(), back.roles),
            ("alice@example.com", p.roles.clone())
        );
        assert_eq!(
            s.verify(&v, 1_000 + 8 * 3600).unwrap_err(),
            "session expired"
        );
    }

    #[test]
    fn a_session_signed_with_another_key_or_altered_is_refused() {
        let s = sessions("k".repeat(32).as_str());
        let p = Principal {
            sub: "alice".into(),
            roles: vec![Role::Procurement],
        };
        let v = s.mint(&p, 1_000);
        assert!(sessions("j".repeat(32).as_str()).verify(&v, 1_000).is_err());
        // The payload made to say admin, the tag kept.
        let (_, tag) = v.rsplit_once('.').unwrap();
        let forged = b64().encode(br#"{"sub":"alice","roles":["admin"],"exp":99999999999}"#);
        assert!(s.verify(&format!("{PREFIX}{forged}.{tag}"), 1_000).is_err());
        assert!(s.verify("vrs1.x", 1_000).is_err());
        assert!(
            Sessions::load(
                &ConsoleSettings {
                    session_key: Some("short".to_owned().into()),
                    session_hours: 8,
                    oidc: None
                },
                std::path::Path::new("/x")
            )
            .is_err()
        );
    }
}
