//! Sign-in through an OpenID Connect provider, for CERTs with an identity provider.
//!
//! The authorization code flow with PKCE and a nonce, through the `openidconnect` crate:
//! `GET /login/oidc` sends the browser to the provider; the provider sends it back to
//! `GET /login/oidc/callback` with a code, which the console exchanges (server to server)
//! for an ID token whose signature, issuer, audience, expiry and nonce are checked.
//!
//! What it is not: account provisioning. The claim chosen by `username_claim` must name an
//! existing local account (`vigie users add`), whose role applies; an unknown name is
//! refused and audited. A second factor is the provider's business: the local TOTP is not
//! asked after a provider sign-in.
//!
//! The pending sign-in (state, nonce, PKCE verifier) stays in memory for ten minutes (the
//! 1,000 most recent), bound to the browser by a `SameSite=Lax` cookie holding the state (the
//! provider's redirect is a cross-site navigation, which a `Strict` cookie would not
//! survive). The provider's discovery document and keys are fetched at the first sign-in and
//! kept for an hour, or until an ID token fails its check (keys rotated); a failed discovery
//! is remembered for 30 seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;

/// The `[console.oidc]` configuration section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL, exactly as its discovery document states it.
    pub issuer: String,
    /// The client id registered with the provider.
    pub client_id: String,
    /// Name of the environment variable holding the client secret (never in the file).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Or a file holding it (a systemd credential, a mounted secret); trailing whitespace is
    /// dropped. Neither: a public client (PKCE only), if the provider allows it.
    #[serde(default)]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// This console's callback as the provider knows it:
    /// `https://console.example/login/oidc/callback`.
    pub redirect_url: String,
    /// Which ID-token claim names the local account. Required: whoever can choose that
    /// claim's value at the provider can sign in as the local account of that name.
    pub username_claim: UsernameClaim,
    /// What the login page's button says.
    #[serde(default = "default_label")]
    pub label: String,
}

fn default_label() -> String {
    "OpenID Connect".into()
}

/// The ID-token claim that names the local account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsernameClaim {
    /// `preferred_username` (Keycloak, Authentik, Dex), only where users cannot change it
    /// themselves (OpenID Connect does not promise it is unique or stable).
    PreferredUsername,
    /// `email` (only when the provider says it is verified).
    Email,
    /// `sub`, the provider's stable subject id.
    Sub,
}

/// Why the OIDC section is refused.
#[derive(Debug, thiserror::Error)]
pub enum OidcConfigError {
    /// A URL does not parse.
    #[error("[console.oidc] {field} is not a valid URL: {detail}")]
    Url {
        /// Which field.
        field: &'static str,
        /// The parser's message.
        detail: String,
    },
    /// The client secret's variable is not set.
    #[error("[console.oidc] client_secret_env names {0}, which is not set in the environment")]
    MissingSecret(String),
    /// The secret file cannot be read, or is empty.
    #[error("[console.oidc] client_secret_file {path}: {detail}")]
    SecretFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        detail: String,
    },
    /// Both secret sources are set.
    #[error("[console.oidc] set client_secret_env or client_secret_file, not both")]
    TwoSecrets,
    /// The redirect URL must end in the console's callback path.
    #[error("[console.oidc] redirect_url must end with {CALLBACK_PATH}")]
    CallbackPath,
}

/// The path the provider sends the browser back to.
pub const CALLBACK_PATH: &str = "/login/oidc/callback";
/// The cookie binding a pending sign-in to the browser that started it.
pub const STATE_COOKIE: &str = "vigie_oidc";
/// How long a sign-in may take at the provider.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// Sign-ins in progress, at most: beyond, the oldest is forgotten (a flood of
/// `/login/oidc` costs memory once, and cannot lock real users out for ten minutes).
const MAX_PENDING: usize = 1000;
/// How long a failed discovery is remembered before the provider is asked again (a down
/// provider answers at once instead of holding every sign-in for its timeouts).
const FAILURE_TTL: Duration = Duration::from_secs(30);
/// How long the discovery document is kept (the provider rotates its keys).
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Largest answer read from the provider.
const MAX_RESPONSE: u64 = 1 << 20;

/// Why a provider sign-in failed; the console shows a short reason and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense: try again later.
    #[error("the identity provider is unavailable: {0}")]
    Provider(String),
    /// The callback does not belong to a sign-in this browser started (expired, replayed,
    /// forged): start again.
    #[error("this sign-in is unknown or expired; start again")]
    UnknownState,
    /// The provider refused or the ID token failed a check.
    #[error("the identity provider's answer was refused: {0}")]
    Refused(String),
}

struct Pending {
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started: Instant,
}

/// The provider's discovery document as last fetched, or its last failure.
#[derive(Default)]
struct Discovery {
    fetched: Option<(Instant, CoreProviderMetadata)>,
    failed: Option<(Instant, String)>,
}

/// A configured provider: its settings, the pending sign-ins, the cached discovery.
#[derive(Clone)]
pub struct Oidc {
    config: Arc<OidcConfig>,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    secret: Option<ClientSecret>,
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    metadata: Arc<Mutex<Discovery>>,
    http: ureq::Agent,
}

/// Where to send the browser, and the state its cookie must hold.
pub struct Started {
    /// The provider's authorization URL.
    pub url: String,
    /// The state (the cookie's value).
    pub state: String,
}

impl Oidc {
    /// Checks the section and reads the client secret from the environment.
    pub fn new(config: OidcConfig) -> Result<Oidc, OidcConfigError> {
        let issuer = IssuerUrl::new(config.issuer.clone()).map_err(|e| OidcConfigError::Url {
            field: "issuer",
            detail: e.to_string(),
        })?;
        if !config.redirect_url.ends_with(CALLBACK_PATH) {
            return Err(OidcConfigError::CallbackPath);
        }
        let redirect =
            RedirectUrl::new(config.redirect_url.clone()).map_err(|e| OidcConfigError::Url {
                field: "redirect_url",
                detail: e.to_string(),
            })?;
        let secret = match (&config.client_secret_env, &config.client_secret_file) {
            (Some(_), Some(_)) => return Err(OidcConfigError::TwoSecrets),
            (Some(var), None) => Some(ClientSecret::new(
                std::env::var(var).map_err(|_| OidcConfigError::MissingSecret(var.clone()))?,
            )),
            (None, Some(path)) => {
                let read =
                    std::fs::read_to_string(path).map_err(|e| OidcConfigError::SecretFile {
                        path: path.clone(),
                        detail: e.to_string(),
                    })?;
                let secret = read.trim_end().to_string();
                if secret.is_empty() {
                    return Err(OidcConfigError::SecretFile {
                        path: path.clone(),
                        detail: "empty".into(),
                    });
                }
                Some(ClientSecret::new(secret))
            }
            (None, None) => None,
        };
        let http = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(15)))
            .http_status_as_error(false)
            // The provider's endpoints answer; following redirects opens SSRF paths.
            .max_redirects(0)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .user_agent(concat!("vigie/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Oidc {
            config: Arc::new(config),
            issuer,
            redirect,
            secret,
            pending: Arc::default(),
            metadata: Arc::default(),
            http,
        })
    }

    /// The login button's label.
    pub fn label(&self) -> &str {
        &self.config.label
    }

    /// Starts a sign-in (blocking: may fetch the discovery document).
    pub fn start(&self) -> Result<Started, OidcError> {
        let client = self.client()?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.retain(|_, p| p.started.elapsed() < PENDING_TTL);
        if pending.len() >= MAX_PENDING {
            let oldest = pending
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                pending.remove(&oldest);
            }
        }
        pending.insert(
            state.secret().clone(),
            Pending {
                nonce,
                verifier,
                started: Instant::now(),
            },
        );
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
        })
    }

    /// Finishes a sign-in: the callback's `state` and `code`, and the state the browser's
    /// cookie holds. Returns the local account name the ID token names (blocking).
    pub fn finish(&self, state: &str, code: &str, cookie_state: &str) -> Result<String, OidcError> {
        if !crate::security::same_secret(state, cookie_state) {
            return Err(OidcError::UnknownState);
        }
        // Taken out whatever happens next: a state serves once.
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(state)
            .filter(|p| p.started.elapsed() < PENDING_TTL)
            .ok_or(OidcError::UnknownState)?;
        let client = self.client()?;
        let http = |request: HttpRequest| self.call(request);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Provider(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(pending.verifier)
            .request(&http)
            .map_err(|e| OidcError::Refused(format!("code exchange: {e}")))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| OidcError::Refused("no ID token in the answer".into()))?;
        let claims = match id_token.claims(&client.id_token_verifier(), &pending.nonce) {
            Ok(claims) => claims,
            Err(e) => {
                // The provider may have rotated its keys: the next sign-in fetches them anew.
                self.metadata
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .fetched = None;
                return Err(OidcError::Refused(format!("ID token: {e}")));
            }
        };
        let name = match self.config.username_claim {
            UsernameClaim::Sub => Some(claims.subject().to_string()),
            UsernameClaim::PreferredUsername => claims.preferred_username().map(|u| u.to_string()),
            UsernameClaim::Email => match claims.email_verified() {
                Some(true) => claims.email().map(|e| e.to_string()),
                _ => None,
            },
        };
        name.filter(|n| !n.is_empty()).ok_or_else(|| {
            OidcError::Refused(format!(
                "the ID token has no usable {:?} claim",
                self.config.username_claim
            ))
        })
    }

    fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OidcError,
    > {
        let metadata = self.metadata()?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone()))
    }

    fn metadata(&self) -> Result<CoreProviderMetadata, OidcError> {
        {
            let cached = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, metadata)) = &cached.fetched {
                if at.elapsed() < METADATA_TTL {
                    return Ok(metadata.clone());
                }
            }
            if let Some((at, why)) = &cached.failed {
                if at.elapsed() < FAILURE_TTL {
                    return Err(OidcError::Provider(why.clone()));
                }
            }
        }
        // Fetched without the lock: a slow provider holds this sign-in, not the others.
        let http = |request: HttpRequest| self.call(request);
        let fetched = CoreProviderMetadata::discover(&self.issuer, &http)
            .map_err(|e| format!("discovery: {e}"));
        let mut cached = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
        match fetched {
            Ok(metadata) => {
                cached.fetched = Some((Instant::now(), metadata.clone()));
                cached.failed = None;
                Ok(metadata)
            }
            Err(why) => {
                cached.failed = Some((Instant::now(), why.clone()));
                Err(OidcError::Provider(why))
            }
        }
    }

    fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let response = self
            .http
            .run(request)
            .map_err(|e| HttpError(e.to_string()))?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| HttpError(e.to_string()))?;
        Ok(HttpResponse::from_parts(parts, bytes))
    }
}

/// A request to the provider that failed below HTTP (connection, TLS, size).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);
