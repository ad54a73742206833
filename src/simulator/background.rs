//! The simulator on a thread of its own, for tests that drive the real binary from synchronous
//! code (built with the `test-support` feature only).

use std::io;
use std::sync::Arc;
use std::thread;

use tokio::sync::oneshot;

use super::{Shared, Simulator, SimulatorConfig, SimulatorStats};

/// A simulator on its own thread with its own tokio runtime, for tests that drive the real
/// binary from synchronous code. Stops when dropped.
pub struct BackgroundSimulator {
    url: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Starts a [`Simulator`] on a new thread running a current-thread tokio runtime.
pub fn start_in_background(config: SimulatorConfig) -> io::Result<BackgroundSimulator> {
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = thread::Builder::new()
        .name("graph-simulator".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    let _ = started_tx.send(Err(err));
                    return;
                }
            };
            runtime.block_on(async move {
                match Simulator::start(config).await {
                    Ok(simulator) => {
                        let _ = started_tx.send(Ok(Arc::clone(&simulator.shared)));
                        let _ = stopped.await;
                        simulator.shutdown().await;
                    }
                    Err(err) => {
                        let _ = started_tx.send(Err(err));
                    }
                }
            });
        })?;
    let started = started_rx
        .recv()
        .map_err(|_| io::Error::other("the simulator thread ended before starting"))?;
    match started {
        Ok(shared) => Ok(BackgroundSimulator {
            url: shared.base_url.clone(),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }),
        Err(err) => {
            let _ = thread.join();
            Err(err)
        }
    }
}

impl BackgroundSimulator {
    /// `http://127.0.0.1:PORT`: both the Graph base URL and the authority host.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn stats(&self) -> SimulatorStats {
        self.shared.stats.snapshot()
    }
}

impl Drop for BackgroundSimulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
