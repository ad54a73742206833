//! Azure Storage, Blob and ADLS Gen2 alike, through object_store's Azure backend: where
//! ([`Location`]), how to get in ([`StorageAccess`]), and a client for one container
//! ([`Container`]). The archive import reads through it and `publish` writes the lake through it.
//!
//! - [`Location`]: `az://CONTAINER/PATH` (the account from `--storage-account` or
//!   `AZURE_STORAGE_ACCOUNT_NAME`), `abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH`, or
//!   `https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH` (or `.dfs.`);
//! - [`StorageAccess`]: the Azurite emulator when `AZURE_STORAGE_USE_EMULATOR` is true (its
//!   address from `AZURITE_BLOB_STORAGE_URL`; no key or credential needed, and it wins over
//!   them), else an account key or SAS from the environment, else the azure_identity credential
//!   chain `fetch` uses, for scope `https://storage.azure.com/.default` ([`IdentityCredential`]).
//!
//! object_store retries failed storage requests itself (within its own time limit). No key, SAS
//! or token appears in a message: object_store's errors are scrubbed of the SAS before use.

mod credential;

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::Secret;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::{ClientOptions, ObjectStore};

use crate::fetcher::graph::auth::{AuthConfig, TokenSource};
use crate::fetcher::graph::http;
use credential::IdentityCredential;

/// The token scope of Azure Storage.
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// The account of the Azurite emulator.
const EMULATOR_ACCOUNT: &str = "devstoreaccount1";

/// A place in a storage account: a container and a path in it (empty for the whole container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub account: String,
    pub container: String,
    pub prefix: String,
}

impl Location {
    /// Parses `az://CONTAINER/PATH`, `abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH` or
    /// `https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH` (`.dfs.` too). `account` names the
    /// account of an `az://` location; the emulator's account is the default under the emulator.
    pub fn parse(text: &str, account: Option<&str>, emulator: bool) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "`{text}` is not a storage location ({why}): use az://CONTAINER/PATH, \
                 abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH or \
                 https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH"
            )
        };
        let url = url::Url::parse(text.trim()).map_err(|err| bad(&err.to_string()))?;
        if url.query().is_some() {
            return Err(bad(
                "it has a query: give a SAS in AZURE_STORAGE_SAS_TOKEN, never in the URL",
            ));
        }
        let path = url.path().trim_matches('/');
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let account_of_host = |host: &str| {
            [".blob.core.windows.net", ".dfs.core.windows.net"]
                .iter()
                .find_map(|suffix| host.strip_suffix(suffix))
                .filter(|account| !account.is_empty())
                .map(str::to_owned)
        };
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
            "abfss" | "abfs" => {
                let account = account_of_host(&host)
                    .ok_or_else(|| bad("not an ACCOUNT.dfs.core.windows.net address"))?;
                (account, url.username().to_owned(), path.to_owned())
            }
            "https" => {
                let account = account_of_host(&host)
                    .ok_or_else(|| bad("not a blob.core.windows.net address"))?;
                let (container, prefix) = path.split_once('/').unwrap_or((path, ""));
                (account, container.to_owned(), prefix.to_owned())
            }
            _ => return Err(bad("unsupported scheme")),
        };
        if container.is_empty() {
            return Err(bad("no container"));
        }
        Ok(Location {
            account,
            container,
            prefix,
        })
    }

    /// `az://ACCOUNT/CONTAINER/PATH`: the location's key in the store's state.
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

/// A client for one container of a location.
#[derive(Clone)]
pub struct Container {
    pub store: Arc<dyn ObjectStore>,
    pub location: Location,
    /// A SAS to cut out of messages.
    sas: Option<Secret>,
}

impl Container {
    /// Opens the location's container with `access`; a signed-in identity's tokens are asked
    /// for when a request needs one.
    pub fn open(
        location: &Location,
        access: &StorageAccess,
        timeout: Duration,
    ) -> Result<Container, String> {
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
            StorageAccess::Credential(auth) => {
                let client = http::client(timeout, None)?;
                let tokens = TokenSource::new(auth.clone(), client)?;
                builder
                    .with_account(&location.account)
                    .with_credentials(Arc::new(IdentityCredential::new(tokens)))
            }
        };
        let store = builder.build().map_err(|err| {
            format!(
                "{}: {}",
                location.key(),
                scrub(&err.to_string(), sas.as_ref())
            )
        })?;
        Ok(Container {
            store: Arc::new(store),
            location: location.clone(),
            sas,
        })
    }

    /// A storage error as a message naming the location and what was done, without secrets.
    pub fn failed(&self, what: &str, err: &dyn std::fmt::Display) -> String {
        format!(
            "{} ({what}): {}",
            self.location.key(),
            scrub(&err.to_string(), self.sas.as_ref())
        )
    }
}

/// The next item of an object_store (or delta-rs) stream.
pub async fn next_item<T>(stream: &mut futures_core::stream::BoxStream<'_, T>) -> Option<T> {
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
    fn locations_in_every_form() {
        let az = Location::parse(
            "az://insights-logs-auditlogs/tenantId=t/y=2026",
            Some("acct"),
            false,
        )
        .unwrap();
        assert_eq!(
            az,
            Location {
                account: "acct".into(),
                container: "insights-logs-auditlogs".into(),
                prefix: "tenantId=t/y=2026".into()
            }
        );
        assert_eq!(
            az.key(),
            "az://acct/insights-logs-auditlogs/tenantId=t/y=2026"
        );
        let https = Location::parse(
            "https://Acct.blob.core.windows.net/insights-logs-auditlogs/",
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            (https.account.as_str(), https.prefix.as_str()),
            ("acct", "")
        );
        let abfss = Location::parse(
            "abfss://lake@Acct.dfs.core.windows.net/ssprlens/tables",
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            abfss,
            Location {
                account: "acct".into(),
                container: "lake".into(),
                prefix: "ssprlens/tables".into()
            }
        );
        let dfs = Location::parse("https://acct.dfs.core.windows.net/lake/x", None, false).unwrap();
        assert_eq!((dfs.container.as_str(), dfs.prefix.as_str()), ("lake", "x"));
        let emulated = Location::parse("az://c", None, true).unwrap();
        assert_eq!(emulated.account, "devstoreaccount1");
        for bad in [
            "az://c/p",
            "https://example.com/c/p",
            "https://a.blob.core.windows.net/c?sv=1&sig=abc",
            "ftp://c/p",
            "https://a.blob.core.windows.net/",
            "abfss://acct.dfs.core.windows.net/p",
            "abfss://c@example.com/p",
        ] {
            assert!(Location::parse(bad, None, false).is_err(), "{bad}");
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
