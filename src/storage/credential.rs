//! azure_identity's credential chain as an object_store credential: each storage request asks
//! the [`TokenSource`] (which caches the token and renews it before it expires) for a token for
//! `https://storage.azure.com/.default`, handed to object_store as a bearer token.

use std::sync::Arc;

use object_store::CredentialProvider;
use object_store::azure::AzureCredential;

use crate::fetcher::graph::auth::TokenSource;

pub struct IdentityCredential {
    tokens: TokenSource,
}

impl IdentityCredential {
    pub fn new(tokens: TokenSource) -> Self {
        IdentityCredential { tokens }
    }
}

/// Shows no token.
impl std::fmt::Debug for IdentityCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityCredential")
    }
}

#[async_trait::async_trait]
impl CredentialProvider for IdentityCredential {
    type Credential = AzureCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AzureCredential>> {
        let token =
            self.tokens
                .token()
                .await
                .map_err(|err| object_store::Error::Unauthenticated {
                    path: String::new(),
                    source: err.message.into(),
                })?;
        Ok(Arc::new(AzureCredential::BearerToken(
            token.secret().to_owned(),
        )))
    }
}
