//! Bearer-token authentication and the role policy of every operation.
//!
//! Tokens are JWTs with the claims `sub`, `roles`, `exp`, `iat`, `iss` and `aud`, all required.
//! Keys are an HS256 secret of at least 32 bytes or an asymmetric public key (RS256, ES256,
//! EdDSA). The crypto backend is jsonwebtoken's `rust_crypto` (pure Rust: RustCrypto's `hmac`,
//! `rsa`, `p256`, `ed25519-dalek`), so the build needs no C toolchain or CMake and the same code
//! runs in the container and on a developer's machine. The HTTP extractor that applies a policy
//! is `api::auth::Auth`.

use std::collections::HashSet;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 30;
pub const DEFAULT_ISSUER: &str = "vendor-registry";
pub const DEFAULT_AUDIENCE: &str = "vendor-registry";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Procurement,
    Service,
    Auditor,
    /// Counsel: reads the register and every decision, writes legal requests and incidents.
    Legal,
}

impl Role {
    /// The role's name in tokens and in the spec's `x-roles`.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Procurement => "procurement",
            Role::Service => "service",
            Role::Auditor => "auditor",
            Role::Legal => "legal",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "procurement" => Some(Role::Procurement),
            "service" => Some(Role::Service),
            "auditor" => Some(Role::Auditor),
            "legal" => Some(Role::Legal),
            _ => None,
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub sub: String,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether one of this principal's roles is among policy `P`'s.
    pub fn may<P: Policy>(&self) -> bool {
        P::ROLES.iter().any(|r| self.has(*r))
    }

    /// How the ledger records this principal.
    pub fn actor(&self) -> serde_json::Value {
        serde_json::json!({"sub": self.sub, "roles": self.roles})
    }
}

/// The claims this service reads. `exp`, `iss` and `aud` are checked by jsonwebtoken; `iat` by
/// `verify`, since the crate does not require it.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    roles: Vec<String>,
    exp: u64,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    iss: String,
    aud: serde_json::Value,
}

/// The keys and rules that tokens are checked against.
pub struct AuthKeys {
    alg: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    /// Tokens verified already, by their SHA-256: the principal and `exp`. A token is checked
    /// once; until its `exp` (with the leeway) the principal is read here.
    verified: parking_lot::RwLock<std::collections::HashMap<[u8; 32], (Principal, u64)>>,
}

/// The most verified tokens kept; the map is emptied when it is full.
const VERIFIED_TOKENS: usize = 10_000;

/// Where the token keys come from (`VENDOR_REGISTRY_JWT_*`).
#[derive(Debug, Clone, Default)]
pub struct JwtSettings {
    pub secret: Option<SecretString>,
    pub public_key: Option<crate::keyfile::KeySource>,
    pub private_key: Option<crate::keyfile::KeySource>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl AuthKeys {
    /// Loads the configured keys, or the generated secret in `data_dir` (created on first use,
    /// mode 0600) when none is configured.
    pub fn load(settings: &JwtSettings, data_dir: &Path) -> Result<AuthKeys, String> {
        let (alg, decoding, encoding) = if let Some(source) = &settings.public_key {
            let pem = source.read("VENDOR_REGISTRY_JWT_PUBLIC_KEY")?;
            let (alg, decoding) = asymmetric_public(&pem)?;
            let encoding = match &settings.private_key {
                Some(source) => {
                    let pem = source.read("VENDOR_REGISTRY_JWT_PRIVATE_KEY")?;
                    Some(asymmetric_private(alg, &pem)?)
                }
                None => None,
            };
            (alg, decoding, encoding)
        } else {
            let secret = match &settings.secret {
                Some(s) => s.expose_secret().as_bytes().to_vec(),
                None => crate::keyfile::load_or_create(&data_dir.join("jwt-secret"), || {
                    hex::encode(rand::random::<[u8; 32]>()).into_bytes()
                })?,
            };
            if secret.len() < 32 {
                return Err("VENDOR_REGISTRY_JWT_SECRET must be at least 32 bytes".into());
            }
            (
                Algorithm::HS256,
                DecodingKey::from_secret(&secret),
                Some(EncodingKey::from_secret(&secret)),
            )
        };
        let issuer = settings
            .issuer
            .clone()
            .unwrap_or_else(|| DEFAULT_ISSUER.into());
        let audience = settings
            .audience
            .clone()
            .unwrap_or_else(|| DEFAULT_AUDIENCE.into());
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(AuthKeys {
            alg,
            decoding,
            encoding,
            validation,
            issuer,
            audience,
            verified: Default::default(),
        })
    }

    /// Loads the keys for minting (`vendor-registry token`): like [`AuthKeys::load`], but never
    /// creates a secret. A secret made here would sign tokens no server accepts, so a missing
    /// one is an error that says where it was looked for.
    pub fn existing(settings: &JwtSettings, data_dir: &Path) -> Result<AuthKeys, String> {
        let file = data_dir.join("jwt-secret");
        if settings.secret.is_none() && settings.public_key.is_none() && !file.exists() {
            return Err(format!(
                "no token secret at {}: start the service once with the same --data-dir (serve \
                 creates it), pass the server's --data-dir here, or set VENDOR_REGISTRY_JWT_SECRET \
                 to the server's secret",
                file.display()
            ));
        }
        AuthKeys::load(settings, data_dir)
    }

    /// Mints a token for local use (`vendor-registry token`).
    pub fn mint(&self, sub: &str, roles: &[String], ttl_secs: u64) -> Result<String, String> {
        let key = self.encoding.as_ref().ok_or(
            "a public key is configured: minting needs the matching private key \
             in VENDOR_REGISTRY_JWT_PRIVATE_KEY (a PEM file)",
        )?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.into(),
            roles: roles.to_vec(),
            exp: now + ttl_secs,
            iat: now,
            nbf: None,
            iss: self.issuer.clone(),
            aud: serde_json::Value::String(self.audience.clone()),
        };
        jsonwebtoken::encode(&Header::new(self.alg), &claims, key).map_err(|e| e.to_string())
    }

    /// Checks a bearer token and returns its principal, or why it was refused (for the log;
    /// the client is told only that the token is invalid or expired).
    pub fn verify(&self, token: &str) -> Result<Principal, &'static str> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`AuthKeys::verify`] with a token seen before answered from memory while `now` is within
    /// its `exp` and the leeway — the rule jsonwebtoken applies (its `nbf`, `iat`, signature and
    /// claims held when it was first verified, and do not change).
    pub fn verify_at(&self, token: &str, now: u64) -> Result<Principal, &'static str> {
        use sha2::Digest;
        let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some((principal, exp)) = self.verified.read().get(&key) {
            return if now <= exp.saturating_add(LEEWAY_SECS) {
                Ok(principal.clone())
            } else {
                Err("the token has expired")
            };
        }
        let (principal, exp) = self.check(token)?;
        let mut verified = self.verified.write();
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(key, (principal.clone(), exp));
        Ok(principal)
    }

    fn check(&self, token: &str) -> Result<(Principal, u64), &'static str> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed token")?;
        // Keys are configured, never taken from the token: a token that points at a key of its
        // own (or names one we do not have) is refused outright.
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.kid.is_some()
        {
            return Err("the token names a key of its own");
        }
        if header.alg != self.alg {
            return Err("the token's algorithm is not the configured one");
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| refusal(e.kind()))?;
        let claims = data.claims;
        let now = jsonwebtoken::get_current_timestamp();
        if claims.iat > now + LEEWAY_SECS {
            return Err("the token was issued in the future");
        }
        if claims.sub.is_empty() {
            return Err("the token's sub is empty");
        }
        let roles: HashSet<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        let mut roles: Vec<Role> = roles.into_iter().collect();
        roles.sort_by_key(|r| *r as u8);
        let principal = Principal {
            sub: claims.sub,
            roles,
        };
        Ok((principal, claims.exp))
    }
}

/// Why jsonwebtoken refused a token, in words for the log.
fn refusal(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::InvalidIssuer => "the token's issuer is not the expected one",
        ErrorKind::InvalidAudience => "the token's audience is not the expected one",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not the configured one",
        _ => "the token is malformed",
    }
}

fn asymmetric_public(pem: &[u8]) -> Result<(Algorithm, DecodingKey), String> {
    if let Ok(k) = DecodingKey::from_ed_pem(pem) {
        return Ok((Algorithm::EdDSA, k));
    }
    if let Ok(k) = DecodingKey::from_ec_pem(pem) {
        return Ok((Algorithm::ES256, k));
    }
    if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
        return Ok((Algorithm::RS256, k));
    }
    Err("the JWT public key is not an RSA, P-256 or Ed25519 public key in PEM".into())
}

fn asymmetric_private(alg: Algorithm, pem: &[u8]) -> Result<EncodingKey, String> {
    match alg {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem),
        _ => EncodingKey::from_rsa_pem(pem),
    }
    .map_err(|e| format!("the JWT private key does not match the public key's type: {e}"))
}

/// Which roles may call an operation. Each handler names its policy in its signature, so
/// authentication and the role check run before anything else is read from the request.
pub trait Policy {
    const ROLES: &'static [Role];
}

macro_rules! policy {
    ($(#[$doc:meta])* $name:ident: $($role:ident),+) => {
        $(#[$doc])*
        pub struct $name;
        impl Policy for $name {
            const ROLES: &'static [Role] = &[$(Role::$role),+];
        }
        impl $name {
            /// The roles' names, as the spec's `x-roles` lists them.
            pub const NAMES: &'static [&'static str] = &[$(Role::$role.name()),+];
        }
    };
}

policy!(/// Any authenticated role.
    AnyRole: Admin, Procurement, Service, Auditor, Legal);
policy!(/// Admins only.
    AdminOnly: Admin);
policy!(/// Reading the register.
    RegisterRead: Admin, Procurement, Auditor, Legal);
policy!(/// Reading grants and services: the register's readers all, a service its own.
    ScopeRead: Admin, Procurement, Auditor, Legal, Service);
policy!(/// Reading transfer volumes and readiness.
    TransferRead: Admin, Procurement, Auditor);
policy!(/// Changing parties and grants.
    RegisterWrite: Admin, Procurement);
policy!(/// The ledger and exports.
    AuditRead: Admin, Auditor);
policy!(/// Cosigning checkpoints as a witness: auditors only, never the operator.
    AuditorOnly: Auditor);
policy!(/// Filing sharing requests.
    ServiceOnly: Service);
policy!(/// Evaluating a sharing request without recording it: services for themselves, the others
    /// for any service.
    EvaluateShare: Admin, Procurement, Auditor, Service);
policy!(/// What-if simulations over recorded decisions: the register's keepers and auditors.
    Simulate: Admin, Procurement, Auditor);
policy!(/// Reading decisions: auditors, admins and counsel all, services their own.
    DecisionRead: Admin, Auditor, Service, Legal);
policy!(/// Filing and following legal requests and incidents: counsel and admins.
    DisclosureWrite: Admin, Legal);
policy!(/// Reading legal requests, exposures and the transparency report.
    DisclosureRead: Admin, Legal, Auditor);
policy!(/// Registering and reading webhooks: each principal its own, admins all.
    WebhookOwner: Admin, Procurement, Service);
policy!(/// Reading incidents (not their exposure): procurement too.
    IncidentRead: Admin, Legal, Auditor, Procurement);
