//! The Microsoft Graph side of the fetcher: sign in (auth), speak HTTP (http), stay under the
//! throttle (throttle), decide about failures (retry), send one request well (requester), page
//! through directoryAudits (pager) and read Microsoft's daily summary of resets (summary).

pub mod auth;
pub mod http;
pub mod pager;
pub mod requester;
pub mod retry;
pub mod summary;
pub mod throttle;

use tokio::sync::watch;

use retry::GraphError;

/// Why a fetch stopped before its last page.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Entra or Graph refused who we are or what we may read.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Graph refused the request itself (400, 404): retrying cannot help.
    #[error("Graph refused the request: {0}")]
    Refused(GraphError),
    /// Log Analytics refused the query (400, 404), or its answer stayed partial: retrying cannot help.
    #[error("Log Analytics refused the query: {0}")]
    QueryRefused(String),
    /// Retries or their time budget ran out.
    #[error("giving up: {0}")]
    Exhausted(String),
    /// Graph's paging went wrong.
    #[error("{0}")]
    NextLink(String),
    /// The fetch could not be set up.
    #[error("{0}")]
    Setup(String),
    /// Microsoft's daily summary report held an entry that is not one.
    #[error("{0}")]
    Summary(String),
    /// SIGINT or SIGTERM.
    #[error("interrupted")]
    Interrupted,
}

/// Cancellation shared by everything a fetch waits on.
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

/// The other end of a [`Cancel`].
#[derive(Debug)]
pub struct CancelHandle(watch::Sender<bool>);

impl Cancel {
    pub fn new() -> (CancelHandle, Cancel) {
        let (sender, receiver) = watch::channel(false);
        (CancelHandle(sender), Cancel(receiver))
    }

    /// Completes once cancelled (never, if the handle is gone without cancelling).
    pub async fn cancelled(&mut self) {
        if self.0.wait_for(|cancelled| *cancelled).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl CancelHandle {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}
