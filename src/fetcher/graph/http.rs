//! The HTTP side: which endpoints are acceptable, the client every request goes through
//! (timeouts, proxies from `HTTPS_PROXY`/`NO_PROXY`, an extra trusted root, no redirects), and
//! the transport handed to azure_identity so that a loopback authority can speak plain HTTP.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use azure_core::http::{AsyncRawResponse, HttpClient, Request, Transport};
use url::Url;

/// True for `localhost`, 127.0.0.0/8 and `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Parses an endpoint: `https://`, or `http://` for a loopback host only. The path is dropped to
/// its root form without a trailing slash.
pub fn endpoint(text: &str, what: &str) -> Result<Url, String> {
    let url =
        Url::parse(text.trim()).map_err(|err| format!("{what} `{text}` is not a URL: {err}"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "{what} `{text}` must use https (plain http is accepted for loopback addresses only)"
            ));
        }
        other => return Err(format!("{what} `{text}`: unsupported scheme `{other}`")),
    }
    if url.host().is_none() {
        return Err(format!("{what} `{text}` has no host"));
    }
    let mut text = url.to_string();
    while text.ends_with('/') {
        text.pop();
    }
    Url::parse(&text).map_err(|err| format!("{what} `{text}`: {err}"))
}

/// The HTTP client of a run. Redirects are refused: Graph does not redirect these calls, and a
/// redirect must never carry the bearer token to another host.
pub fn client(timeout: Duration, ca_cert: Option<&Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(30)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ssprlens/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_cert {
        let pem =
            std::fs::read(path).map_err(|err| format!("--ca-cert {}: {err}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|err| format!("--ca-cert {}: not a PEM certificate: {err}", path.display()))?;
        if certificates.is_empty() {
            return Err(format!(
                "--ca-cert {}: no PEM certificate in it",
                path.display()
            ));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder
        .build()
        .map_err(|err| format!("cannot set up HTTP: {err}"))
}

/// azure_identity accepts only https authority hosts. For a loopback authority given as
/// `http://`, the credential is configured with the https form and this transport turns the
/// scheme back before sending; every other request goes out untouched. A redirect (never
/// followed: the credentials go to the authority host only) is an error that names it, not an
/// empty answer for azure_identity to misread.
#[derive(Debug)]
struct LoopbackPlainHttp {
    client: reqwest::Client,
}

#[async_trait::async_trait]
impl HttpClient for LoopbackPlainHttp {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut sent = request.clone();
        if sent.url().scheme() == "https" && is_loopback(sent.url()) {
            // Setting a special scheme to another special scheme always succeeds.
            let _ = sent.url_mut().set_scheme("http");
        }
        let response = self.client.execute_request(&sent).await?;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                    "location",
                ))
                .unwrap_or("nowhere")
                .to_owned();
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!(
                    "HTTP {} from {}: a redirect to {location}, not followed (credentials are only \
                     sent to the authority host)",
                    u16::from(response.status()),
                    sent.url().origin().ascii_serialization()
                ),
            ));
        }
        Ok(response)
    }
}

/// The transport for azure_identity's credentials and the authority host to give them.
pub fn identity_transport(client: reqwest::Client, authority: &Url) -> (Transport, Url) {
    let mut authority = authority.clone();
    if authority.scheme() == "http" {
        let _ = authority.set_scheme("https");
    }
    (
        Transport::new(Arc::new(LoopbackPlainHttp { client })),
        authority,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "https://graph.microsoft.com",
            "https://graph.microsoft.us/",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:5",
            "http://localhost:1",
        ] {
            assert!(endpoint(ok, "--graph-url").is_ok(), "{ok}");
        }
        for bad in [
            "http://graph.microsoft.com",
            "http://10.0.0.1",
            "http://[::2]",
            "ftp://x",
            "graph.microsoft.com",
            "http://localhost.evil.com",
        ] {
            assert!(endpoint(bad, "--graph-url").is_err(), "{bad}");
        }
        assert_eq!(
            endpoint("https://graph.microsoft.com/", "x")
                .unwrap()
                .as_str(),
            "https://graph.microsoft.com/"
        );
        assert_eq!(
            endpoint("https://proxy.example/graph/", "x")
                .unwrap()
                .as_str(),
            "https://proxy.example/graph"
        );
    }

    #[test]
    fn a_missing_ca_certificate_is_named() {
        let err = client(Duration::from_secs(1), Some(Path::new("/no/such.pem"))).unwrap_err();
        assert!(err.contains("/no/such.pem"), "{err}");
    }
}
