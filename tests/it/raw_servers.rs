//! Servers that fail below HTTP, on 127.0.0.1 ephemeral ports: one that accepts and reads but
//! never answers, one whose connections are never even accepted, and a proxy in front of a
//! real server that cuts answers off halfway through their body (closing or stalling).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// What a cutting proxy does after the half body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Closes the connection.
    Close,
    /// Sends nothing more and keeps the connection open.
    Stall,
}

pub struct RawServer {
    url: String,
    connections: Arc<AtomicUsize>,
    /// What keeps a never-accepting server's accept queue full.
    _queue_filler: Option<std::net::TcpStream>,
    _listener: Option<TcpListener>,
    _runtime: tokio::runtime::Runtime,
}

impl RawServer {
    /// Accepts every connection and reads its request, but never answers nor closes.
    pub fn silent() -> RawServer {
        RawServer::serve(|mut stream, _, _| async move {
            read_request_head(&mut stream).await;
            std::future::pending::<()>().await;
            drop(stream);
        })
    }

    /// Listens with an accept queue of one and fills it: every connection attempt hangs in the
    /// handshake, and nothing is ever read.
    pub fn never_accepting() -> RawServer {
        let runtime = runtime();
        let listener = runtime.block_on(async {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
            socket.listen(0).unwrap()
        });
        let address = listener.local_addr().unwrap();
        let filler = std::net::TcpStream::connect(address).unwrap();
        RawServer {
            url: format!("http://{address}"),
            connections: Arc::new(AtomicUsize::new(0)),
            _queue_filler: Some(filler),
            _listener: Some(listener),
            _runtime: runtime,
        }
    }

    /// Relays each request to `upstream` (`http://host:port`, one request per connection), its
    /// own URL standing for the upstream's in the answers (next links point back here): the
    /// first `whole` answers in full, every later one only up to half its body, after which the
    /// connection is closed or stalls as `cut` says.
    pub fn cutting_proxy(upstream: &str, whole: usize, cut: Cut) -> RawServer {
        let upstream = upstream.to_owned();
        RawServer::serve(move |mut client, number, own_url| {
            let upstream = upstream.clone();
            async move {
                let mut request = read_request_head(&mut client).await;
                if !request.ends_with(b"\r\n\r\n") {
                    return;
                }
                // One request per connection, so that every answer ends where the upstream closes.
                request.truncate(request.len() - 2);
                request.extend_from_slice(b"Connection: close\r\n\r\n");
                let mut server = TcpStream::connect(upstream.trim_start_matches("http://"))
                    .await
                    .unwrap();
                server.write_all(&request).await.unwrap();
                let mut answer = Vec::new();
                server.read_to_end(&mut answer).await.unwrap();
                let body_start = find(&answer, b"\r\n\r\n").expect("an HTTP answer") + 4;
                let body =
                    String::from_utf8_lossy(&answer[body_start..]).replace(&upstream, &own_url);
                let head: String = String::from_utf8_lossy(&answer[..body_start])
                    .lines()
                    .filter(|line| !line.to_ascii_lowercase().starts_with("content-length:"))
                    .filter(|line| !line.is_empty())
                    .map(|line| format!("{line}\r\n"))
                    .collect();
                let relayed = format!("{head}content-length: {}\r\n\r\n{body}", body.len());
                let sent = if number < whole {
                    relayed.len()
                } else {
                    relayed.len() - body.len() / 2
                };
                let _ = client.write_all(&relayed.as_bytes()[..sent]).await;
                if sent < relayed.len() && cut == Cut::Stall {
                    std::future::pending::<()>().await;
                }
                let _ = client.shutdown().await;
            }
        })
    }

    /// Accepts connections and hands each, with its number from 0 and the server's URL, to
    /// `handle`.
    fn serve<F, Fut>(handle: F) -> RawServer
    where
        F: Fn(TcpStream, usize, String) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let runtime = runtime();
        let listener = runtime
            .block_on(TcpListener::bind(("127.0.0.1", 0)))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let own_url = url.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let number = counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(handle(stream, number, own_url.clone()));
            }
        });
        RawServer {
            url,
            connections,
            _queue_filler: None,
            _listener: None,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Reads up to the blank line ending a request head (GET requests have no body).
async fn read_request_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while find(&head, b"\r\n\r\n").is_none() {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    head
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
