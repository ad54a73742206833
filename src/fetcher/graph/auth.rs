//! Tokens for Graph, from azure_identity: client secret, certificate, managed identity,
//! workload identity or the Azure CLI. azure_identity caches each token and renews it before it
//! expires; when Graph still refuses a token (revoked, clock skew), [`TokenSource::renew`] starts
//! over with a fresh credential, which has an empty cache.

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, SecretBytes, TokenCredential};
use azure_core::http::{ClientOptions, RetryOptions};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientCertificateCredential, ClientCertificateCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use url::Url;

use super::http::identity_transport;

/// How to sign in.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// An app registration's client secret (`AZURE_CLIENT_SECRET` or `--client-secret-file`).
    ClientSecret(Secret),
    /// An app registration's certificate: PKCS#12 bytes and their password.
    Certificate {
        pkcs12: SecretBytes,
        password: Option<Secret>,
    },
    /// The managed identity of the machine: system-assigned, or user-assigned by client id.
    ManagedIdentity { client_id: Option<String> },
    /// Kubernetes workload identity: a federated token file.
    WorkloadIdentity { token_file: PathBuf },
    /// The account signed in with `az login`.
    AzureCli,
}

impl AuthMethod {
    pub fn describe(&self) -> &'static str {
        match self {
            AuthMethod::ClientSecret(_) => "client secret",
            AuthMethod::Certificate { .. } => "client certificate",
            AuthMethod::ManagedIdentity { .. } => "managed identity",
            AuthMethod::WorkloadIdentity { .. } => "workload identity",
            AuthMethod::AzureCli => "Azure CLI",
        }
    }
}

/// Everything a credential needs. `Debug` shows no secret (azure_core's `Secret` redacts itself).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub method: AuthMethod,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub authority: Url,
    /// The scope to ask for, `https://graph.microsoft.com/.default` in the public cloud.
    pub scope: String,
}

/// What to check when Entra or Graph refuses us; printed under authentication errors.
pub const AUTH_HINT: &str = "check the tenant and client id, the secret or certificate (not expired?), \
    that the app has the application permission AuditLog.Read.All with admin consent, \
    and that the tenant has an Entra ID P1 or P2 licence (Graph serves audit logs only then)";

/// Hands out bearer tokens for Graph.
pub struct TokenSource {
    config: AuthConfig,
    http: reqwest::Client,
    credential: Arc<dyn TokenCredential>,
}

impl TokenSource {
    pub fn new(config: AuthConfig, http: reqwest::Client) -> Result<TokenSource, String> {
        let credential = credential(&config, &http)?;
        Ok(TokenSource {
            config,
            http,
            credential,
        })
    }

    /// The tenant signed in to: the one configured, else the `tid` claim of the token (a
    /// managed identity's or the Azure CLI's), if it is a JWT.
    pub async fn tenant(&self) -> Option<String> {
        if let Some(tenant) = &self.config.tenant_id {
            return Some(tenant.clone());
        }
        let token = self.token().await.ok()?;
        tenant_of_token(token.secret())
    }

    /// A valid token (cached by azure_identity until shortly before it expires).
    pub async fn token(&self) -> Result<Secret, TokenError> {
        self.credential
            .get_token(&[self.config.scope.as_str()], None)
            .await
            .map(|token| token.token)
            .map_err(|err| TokenError {
                transient: is_transient(&err),
                message: format!(
                    "signing in with the {} failed: {}",
                    self.config.method.describe(),
                    flatten(&err)
                ),
            })
    }

    /// Drops the cached token: the next [`TokenSource::token`] asks Entra again.
    pub fn renew(&mut self) -> Result<(), String> {
        self.credential = credential(&self.config, &self.http)?;
        Ok(())
    }
}

/// A token that could not be had. A transient failure (the network, Entra's 5xx or 429) is
/// worth retrying; a refusal (a wrong secret, no consent) is not.
#[derive(Debug)]
pub struct TokenError {
    pub transient: bool,
    pub message: String,
}

/// Whether the failure, or one it wraps (credentials wrap Entra's answer), is transient.
fn is_transient(err: &azure_core::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = current {
        if let Some(azure) = error.downcast_ref::<azure_core::Error>() {
            match azure.kind() {
                azure_core::error::ErrorKind::Io => return true,
                azure_core::error::ErrorKind::HttpResponse { status, .. } => {
                    let status = u16::from(*status);
                    return status == 408 || status == 429 || status >= 500;
                }
                _ => {}
            }
        }
        current = error.source();
    }
    false
}

/// An azure_core error as one line, Entra's AADSTS description and the underlying cause (a
/// timeout, a refused connection) included.
fn flatten(err: &azure_core::Error) -> String {
    let mut text = err.to_string();
    if let azure_core::error::ErrorKind::HttpResponse {
        status, error_code, ..
    } = err.kind()
    {
        text = format!(
            "HTTP {status}{}: {text}",
            error_code
                .as_deref()
                .map(|code| format!(" (error {code})"))
                .unwrap_or_default()
        );
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn credential(
    config: &AuthConfig,
    http: &reqwest::Client,
) -> Result<Arc<dyn TokenCredential>, String> {
    let (transport, authority) = identity_transport(http.clone(), &config.authority);
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = authority.as_str().trim_end_matches('/').to_owned();
    // No retries inside azure_identity: a failed token request is retried by the fetch's own
    // policy, within its one budget.
    let client_options = ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
        transport: Some(transport),
        retry: RetryOptions::none(),
        ..ClientOptions::default()
    };
    let tenant = || {
        config
            .tenant_id
            .clone()
            .ok_or("no tenant id: set AZURE_TENANT_ID or --tenant-id")
    };
    let client_id = || {
        config
            .client_id
            .clone()
            .ok_or("no client id: set AZURE_CLIENT_ID or --client-id")
    };
    let failed = |err: azure_core::Error| {
        format!(
            "cannot use the {}: {}",
            config.method.describe(),
            flatten(&err)
        )
    };
    Ok(match &config.method {
        AuthMethod::ClientSecret(secret) => ClientSecretCredential::new(
            &tenant()?,
            client_id()?,
            secret.clone(),
            Some(ClientSecretCredentialOptions { client_options }),
        )
        .map_err(failed)?,
        AuthMethod::Certificate { pkcs12, password } => ClientCertificateCredential::new(
            tenant()?,
            client_id()?,
            pkcs12.clone(),
            Some(ClientCertificateCredentialOptions {
                client_options,
                password: password.clone(),
            }),
        )
        .map_err(failed)?,
        AuthMethod::ManagedIdentity { client_id } => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                client_options,
            }))
            .map_err(failed)?
        }
        AuthMethod::WorkloadIdentity { token_file } => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options },
                client_id: config.client_id.clone(),
                tenant_id: config.tenant_id.clone(),
                token_file_path: Some(token_file.clone()),
            }))
            .map_err(failed)?
        }
        AuthMethod::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
            tenant_id: config.tenant_id.clone(),
            ..Default::default()
        }))
        .map_err(failed)?,
    })
}

/// The `tid` claim of a JWT access token (its payload is not secret; the signature is not
/// checked: Entra checked it when it issued the token for us).
fn tenant_of_token(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&json).ok()?;
    claims.get("tid")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tenant_is_read_from_a_jwt() {
        use base64::Engine as _;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"aud":"https://graph.microsoft.com","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47"}"#);
        let token = format!("eyJhbGciOiJub25lIn0.{claims}.sig");
        assert_eq!(
            tenant_of_token(&token).as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        assert_eq!(tenant_of_token("opaque-token"), None);
    }

    use super::*;

    #[test]
    fn debug_output_shows_no_secret() {
        for method in [
            AuthMethod::ClientSecret(Secret::new("client-s3cret-value")),
            AuthMethod::Certificate {
                pkcs12: SecretBytes::new(b"client-s3cret-value".to_vec()),
                password: Some(Secret::new("client-s3cret-value")),
            },
        ] {
            let config = AuthConfig {
                method,
                tenant_id: Some("tenant".into()),
                client_id: Some("app".into()),
                authority: Url::parse("https://login.microsoftonline.com").unwrap(),
                scope: "https://graph.microsoft.com/.default".into(),
            };
            let debug = format!("{config:?} {config:#?}");
            assert!(debug.contains("tenant"), "{debug}");
            assert!(!debug.contains("client-s3cret-value"), "{debug}");
        }
    }
}
