//! The Azure Storage emulator Azurite (npm, pinned in tests/azurite/package.json) on an
//! ephemeral port of 127.0.0.1, and a minimal Blob client for putting test blobs into it: a
//! container create and a block blob put, signed with Shared Key as the Blob service requires
//! (the account and key are Azurite's well-known `devstoreaccount1` ones).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};

use super::common::root;

/// Azurite's well-known account and key.
pub const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const VERSION: &str = "2021-08-06";

/// A running Azurite, stopped (and its data removed) when dropped.
pub struct Azurite {
    child: Child,
    pub url: String,
    _data: tempfile::TempDir,
}

impl Azurite {
    pub fn start() -> Azurite {
        let binary: PathBuf = root().join("tests/azurite/node_modules/.bin/azurite-blob");
        assert!(
            binary.exists(),
            "Azurite is not installed: run `npm ci` in tests/azurite (.ci/run does)"
        );
        let data = tempfile::tempdir().unwrap();
        // An ephemeral port, free a moment ago.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--location",
            ])
            .arg(data.path())
            .args(["--disableTelemetry", "--skipApiVersionCheck", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Azurite starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Azurite did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Azurite {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _data: data,
        }
    }

    /// The connection string of the emulator's account, as DuckDB's azure extension takes it.
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};\
             BlobEndpoint={}/{ACCOUNT};",
            self.url
        )
    }

    pub fn create_container(&self, container: &str) {
        self.send(
            "PUT",
            &format!("/{container}"),
            &[("restype", "container")],
            &[],
            Vec::new(),
        );
    }

    /// Puts (or replaces) a block blob.
    pub fn put(&self, container: &str, name: &str, body: &[u8]) {
        self.send(
            "PUT",
            &format!("/{container}/{name}"),
            &[],
            &[("x-ms-blob-type", "BlockBlob")],
            body.to_vec(),
        );
    }

    /// One signed request; panics unless it succeeds.
    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) {
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let mut ms_headers: Vec<(String, String)> = vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), VERSION.into()),
        ];
        ms_headers.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ms_headers.sort();
        let length = if body.is_empty() {
            String::new()
        } else {
            body.len().to_string()
        };
        let mut to_sign = format!("{method}\n\n\n{length}\n\n\n\n\n\n\n\n\n");
        for (name, value) in &ms_headers {
            to_sign.push_str(&format!("{name}:{value}\n"));
        }
        to_sign.push_str(&format!("/{ACCOUNT}/{ACCOUNT}{path}"));
        let mut sorted_query = query.to_vec();
        sorted_query.sort();
        for (name, value) in &sorted_query {
            to_sign.push_str(&format!("\n{name}:{value}"));
        }
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&base64_decode(KEY)).unwrap();
        mac.update(to_sign.as_bytes());
        let signature = base64_encode(&mac.finalize().into_bytes());
        let mut url = format!("{}/{ACCOUNT}{path}", self.url);
        for (index, (name, value)) in query.iter().enumerate() {
            url.push(if index == 0 { '?' } else { '&' });
            url.push_str(&format!("{name}={value}"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (status, text) = runtime.block_on(async {
            let mut request = reqwest::Client::new()
                .request(method.parse().unwrap(), &url)
                .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"))
                .header("Content-Length", body.len().to_string());
            for (name, value) in &ms_headers {
                request = request.header(name, value);
            }
            let response = request.body(body).send().await.unwrap();
            (response.status(), response.text().await.unwrap_or_default())
        });
        assert!(status.is_success(), "{method} {path}: {status} {text}");
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let block = chunk.iter().enumerate().fold(0u32, |block, (i, &b)| {
            block | (u32::from(b) << (16 - 8 * i))
        });
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(ALPHABET[((block >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}

fn base64_decode(text: &str) -> Vec<u8> {
    let values: Vec<u32> = text
        .bytes()
        .filter(|&b| b != b'=')
        .map(|b| ALPHABET.iter().position(|&a| a == b).unwrap() as u32)
        .collect();
    let mut bytes = Vec::new();
    for chunk in values.chunks(4) {
        let block = chunk
            .iter()
            .enumerate()
            .fold(0u32, |block, (i, &v)| block | (v << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            bytes.push((block >> (16 - 8 * i)) as u8);
        }
    }
    bytes
}

#[test]
fn base64_round_trips() {
    for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
        let encoded = base64_encode(text.as_bytes());
        assert_eq!(base64_decode(&encoded), text.as_bytes(), "{encoded}");
    }
    assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64_encode(b"fo"), "Zm8=");
}
