//! The storage-account archive: the blobs an Entra diagnostic setting writes
//! (`insights-logs-auditlogs/tenantId=…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`, one Azure Monitor
//! diagnostic record a line), read with object_store's Azure backend.
//!
//! - [`ArchiveLocation`]: `az://CONTAINER/PREFIX` (the account from `--storage-account` or
//!   `AZURE_STORAGE_ACCOUNT_NAME`) or `https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX`;
//! - [`StorageAccess`]: the Azurite emulator when `AZURE_STORAGE_USE_EMULATOR` is true (its
//!   address from `AZURITE_BLOB_STORAGE_URL`; no key or credential needed, and it wins over
//!   them), else an account key or SAS from the environment, else the azure_identity credential
//!   chain `fetch` uses, for scope `https://storage.azure.com/.default` ([`IdentityCredential`]);
//! - [`Archive`]: lists a location's blobs and streams one blob in chunks, never whole in memory.
//!
//! object_store retries failed storage requests itself (within its own time limit). No key, SAS
//! or token appears in a message: object_store's errors are scrubbed of the SAS before use.

mod credential;

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::Secret;
use chrono::{DateTime, Utc};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path as BlobPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt};

pub use credential::IdentityCredential;

use crate::fetcher::graph::auth::AuthConfig;

/// The token scope of Azure Storage.
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// The account of the Azurite emulator.
const EMULATOR_ACCOUNT: &str = "devstoreaccount1";

/// One archive location: a container and a prefix (a folder path; empty for the whole container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLocation {
    pub account: String,
    pub container: String,
    pub prefix: String,
}

impl ArchiveLocation {
    /// Parses `az://CONTAINER/PREFIX` or `https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX`.
    pub fn parse(text: &str, account: Option<&str>, emulator: bool) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "`{text}` is not an archive location ({why}): use az://CONTAINER/PREFIX or \
                 https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX"
            )
        };
        let url = url::Url::parse(text.trim()).map_err(|err| bad(&err.to_string()))?;
        if url.query().is_some() {
            return Err(bad(
                "it has a query: give a SAS in AZURE_STORAGE_SAS_TOKEN, never in the URL",
            ));
        }
        let path = url.path().trim_matches('/');
        let (account, container, prefix) = match url.scheme() {
            "az" => {
                let container = url.host_str().ok_or_else(|| bad("no container"))?;
                let account = match account.map(str::trim).filter(|a| !a.is_empty()) {
                    Some(account) => account.to_owned(),
                    None if emulator => EMULATOR_ACCOUNT.to_owned(),
                    None => {
                        return Err(format!(
                            "`{text}` names no storage account: give --storage-account or set \
                             AZURE_STORAGE_ACCOUNT_NAME"
                        ));
                    }
                };
                (account, container.to_owned(), path.to_owned())
            }
            "https" => {
                let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
                let account = host
                    .strip_suffix(".blob.core.windows.net")
                    .ok_or_else(|| bad("not a blob.core.windows.net address"))?;
                let (container, prefix) = path.split_once('/').unwrap_or((path, ""));
                (account.to_owned(), container.to_owned(), prefix.to_owned())
            }
            _ => return Err(bad("unsupported scheme")),
        };
        if container.is_empty() {
            return Err(bad("no container"));
        }
        Ok(ArchiveLocation {
            account,
            container,
            prefix,
        })
    }

    /// `az://ACCOUNT/CONTAINER/PREFIX`: the location's key in the store's state.
    pub fn key(&self) -> String {
        format!("az://{}/{}/{}", self.account, self.container, self.prefix)
    }

    /// How messages name a blob: `az://CONTAINER/NAME`.
    pub fn blob_place(&self, name: &str) -> String {
        format!("az://{}/{name}", self.container)
    }
}

/// How to reach the storage account.
#[derive(Debug, Clone)]
pub enum StorageAccess {
    /// The Azurite emulator (`AZURE_STORAGE_USE_EMULATOR`, `AZURITE_BLOB_STORAGE_URL`).
    Emulator,
    /// `AZURE_STORAGE_ACCOUNT_KEY` (or `AZURE_STORAGE_ACCESS_KEY`).
    AccountKey(Secret),
    /// `AZURE_STORAGE_SAS_TOKEN` (or `AZURE_STORAGE_SAS_KEY`).
    Sas(Secret),
    /// The azure_identity credential chain.
    Credential(AuthConfig),
}

fn environment(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

impl StorageAccess {
    /// Whether `AZURE_STORAGE_USE_EMULATOR` asks for the emulator (true, 1, yes, on).
    pub fn emulator_requested() -> bool {
        environment(&["AZURE_STORAGE_USE_EMULATOR"]).is_some_and(|value| {
            ["true", "1", "yes", "on"].contains(&value.to_ascii_lowercase().as_str())
        })
    }

    /// The emulator, a key or a SAS when the environment gives one; `None`: sign in.
    pub fn from_environment() -> Option<StorageAccess> {
        if Self::emulator_requested() {
            return Some(StorageAccess::Emulator);
        }
        if let Some(key) = environment(&["AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY"]) {
            return Some(StorageAccess::AccountKey(Secret::new(key)));
        }
        environment(&["AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_SAS_KEY"])
            .map(|sas| StorageAccess::Sas(Secret::new(sas.trim_start_matches('?').to_owned())))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            StorageAccess::Emulator => "the Azurite emulator",
            StorageAccess::AccountKey(_) => "the account key",
            StorageAccess::Sas(_) => "the SAS",
            StorageAccess::Credential(_) => "a token for the signed-in identity",
        }
    }
}

/// A blob of a listing.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The blob's name in its container.
    pub name: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: DateTime<Utc>,
}

/// One location, ready to list and read.
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    location: ArchiveLocation,
    /// A SAS to cut out of messages.
    sas: Option<Secret>,
}

impl Archive {
    pub fn open(
        location: &ArchiveLocation,
        access: &StorageAccess,
        credential: Option<IdentityCredential>,
        timeout: Duration,
    ) -> Result<Archive, String> {
        let mut builder = MicrosoftAzureBuilder::new()
            .with_container_name(&location.container)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(timeout)
                    .with_connect_timeout(timeout.min(Duration::from_secs(30))),
            );
        let mut sas = None;
        builder = match access {
            StorageAccess::Emulator => builder
                .with_use_emulator(true)
                .with_account(&location.account),
            StorageAccess::AccountKey(key) => builder
                .with_account(&location.account)
                .with_access_key(key.secret()),
            StorageAccess::Sas(token) => {
                sas = Some(token.clone());
                builder
                    .with_account(&location.account)
                    .with_config(object_store::azure::AzureConfigKey::SasKey, token.secret())
            }
            StorageAccess::Credential(_) => {
                let credential = credential.ok_or("no credential to sign in to storage with")?;
                builder
                    .with_account(&location.account)
                    .with_credentials(Arc::new(credential))
            }
        };
        let store = builder.build().map_err(|err| {
            format!(
                "{}: {}",
                location.key(),
                scrub(&err.to_string(), sas.as_ref())
            )
        })?;
        Ok(Archive {
            store: Arc::new(store),
            location: location.clone(),
            sas,
        })
    }

    /// Every blob under the location's prefix, in name order.
    pub async fn list(&self) -> Result<Vec<Blob>, String> {
        let prefix = (!self.location.prefix.is_empty())
            .then(|| BlobPath::from(self.location.prefix.as_str()));
        let mut listing = self.store.list(prefix.as_ref());
        let mut blobs = Vec::new();
        while let Some(meta) = next(&mut listing).await {
            let meta = meta.map_err(|err| self.failed("listing", &err))?;
            blobs.push(Blob {
                name: meta.location.to_string(),
                size: meta.size,
                etag: meta.e_tag,
                last_modified: meta.last_modified,
            });
        }
        blobs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(blobs)
    }

    /// Streams one blob: each chunk goes to `chunks` as it arrives (a bounded channel: a slow
    /// reader holds the download back). Returns the blob as read (its ETag and size then).
    pub async fn read(
        &self,
        name: &str,
        chunks: tokio::sync::mpsc::Sender<Result<Vec<u8>, String>>,
    ) -> Result<Blob, String> {
        let result = self
            .store
            .get(&BlobPath::from(name))
            .await
            .map_err(|err| self.failed(&format!("reading {name}"), &err));
        let result = match result {
            Ok(result) => result,
            Err(err) => {
                let _ = chunks.send(Err(err.clone())).await;
                return Err(err);
            }
        };
        let blob = Blob {
            name: name.to_owned(),
            size: result.meta.size,
            etag: result.meta.e_tag.clone(),
            last_modified: result.meta.last_modified,
        };
        let mut stream = result.into_stream();
        while let Some(chunk) = next(&mut stream).await {
            let chunk = chunk
                .map(|bytes| bytes.to_vec())
                .map_err(|err| self.failed(&format!("reading {name}"), &err));
            let failed = chunk.as_ref().err().cloned();
            if chunks.send(chunk).await.is_err() {
                return Err(format!("reading {name}: the reader stopped"));
            }
            if let Some(err) = failed {
                return Err(err);
            }
        }
        Ok(blob)
    }

    fn failed(&self, what: &str, err: &object_store::Error) -> String {
        format!(
            "{} ({what}): {}",
            self.location.key(),
            scrub(&err.to_string(), self.sas.as_ref())
        )
    }
}

/// The next item of an object_store stream.
async fn next<T>(stream: &mut futures_core::stream::BoxStream<'static, T>) -> Option<T> {
    std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

/// A message without the SAS or any `sig=` signature in it.
fn scrub(message: &str, sas: Option<&Secret>) -> String {
    let text = match sas {
        Some(sas) if !sas.secret().is_empty() => message.replace(sas.secret(), "<sas>"),
        _ => message.to_owned(),
    };
    let mut clean = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("sig=") {
        clean.push_str(&rest[..at + 4]);
        clean.push_str("<redacted>");
        rest = &rest[at + 4..];
        let end = rest
            .find(|c: char| matches!(c, '&' | ' ' | '"' | '\''))
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    clean.push_str(rest);
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_in_both_forms() {
        let az = ArchiveLocation::parse(
            "az://insights-logs-auditlogs/tenantId=t/y=2026",
            Some("acct"),
            false,
        )
        .unwrap();
        assert_eq!(
            az,
            ArchiveLocation {
                account: "acct".into(),
                container: "insights-logs-auditlogs".into(),
                prefix: "tenantId=t/y=2026".into()
            }
        );
        assert_eq!(
            az.key(),
            "az://acct/insights-logs-auditlogs/tenantId=t/y=2026"
        );
        let https = ArchiveLocation::parse(
            "https://Acct.blob.core.windows.net/insights-logs-auditlogs/",
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            (https.account.as_str(), https.prefix.as_str()),
            ("acct", "")
        );
        let emulated = ArchiveLocation::parse("az://c", None, true).unwrap();
        assert_eq!(emulated.account, "devstoreaccount1");
        for bad in [
            "az://c/p",
            "https://example.com/c/p",
            "https://a.blob.core.windows.net/c?sv=1&sig=abc",
            "ftp://c/p",
            "https://a.blob.core.windows.net/",
        ] {
            assert!(ArchiveLocation::parse(bad, None, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn signatures_are_cut_out_of_messages() {
        let sas = Secret::new("sv=2022&sig=abc%2Bdef");
        assert_eq!(
            scrub("GET https://a/c?sv=2022&sig=abc%2Bdef failed", Some(&sas)),
            "GET https://a/c?<sas> failed"
        );
        assert_eq!(
            scrub("x?sig=zzz&a=1 and y?sig=qqq", None),
            "x?sig=<redacted>&a=1 and y?sig=<redacted>"
        );
    }
}
