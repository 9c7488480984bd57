//! A small TCP proxy between devices and the server: counts the bytes in each direction
//! (HTTP headers included) and injects faults — cutting a connection after a number of bytes
//! in either direction.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::HarnessResult;

/// A fault for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward faithfully.
    None,
    /// Cut the connection once this many bytes went from the device to the server (mid-push).
    CutUpAfter(u64),
    /// Cut the connection once this many bytes went from the server to the device (mid-pull).
    CutDownAfter(u64),
}

#[derive(Default)]
struct Shared {
    upstream: Mutex<Option<SocketAddr>>,
    faults: Mutex<VecDeque<Fault>>,
    up: AtomicU64,
    down: AtomicU64,
    connections: AtomicU64,
    cuts: AtomicU64,
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    /// Where devices connect: `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1 forwarding to `upstream`.
    ///
    /// # Errors
    /// When it cannot listen.
    pub async fn start(upstream: SocketAddr) -> HarnessResult<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared::default());
        *lock(&shared.upstream) = Some(upstream);
        let s = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = serve(s, client).await;
                });
            }
        });
        Ok(Proxy { url, shared, task })
    }

    /// Forwards new connections to another address (a restarted server).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.shared.upstream) = Some(upstream);
    }

    /// Queues faults for the next connections, one per connection, in order.
    pub fn inject(&self, faults: &[Fault]) {
        lock(&self.shared.faults).extend(faults.iter().copied());
    }

    /// `(device→server, server→device)` bytes since the last reset.
    pub fn bytes(&self) -> (u64, u64) {
        (self.shared.up.load(Ordering::SeqCst), self.shared.down.load(Ordering::SeqCst))
    }

    /// Resets the byte counters.
    pub fn reset(&self) {
        self.shared.up.store(0, Ordering::SeqCst);
        self.shared.down.store(0, Ordering::SeqCst);
    }

    /// How many connections were cut by faults.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

async fn serve(s: Arc<Shared>, client: TcpStream) -> HarnessResult<()> {
    s.connections.fetch_add(1, Ordering::SeqCst);
    let fault = lock(&s.faults).pop_front().unwrap_or(Fault::None);
    let upstream = (*lock(&s.upstream)).ok_or("no upstream")?;
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let (up_limit, down_limit) = match fault {
        Fault::None => (u64::MAX, u64::MAX),
        Fault::CutUpAfter(n) => (n, u64::MAX),
        Fault::CutDownAfter(n) => (u64::MAX, n),
    };
    let s1 = s.clone();
    let s2 = s.clone();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0u64;
        loop {
            let n = cr.read(&mut buf).await?;
            if n == 0 {
                let _ = sw.shutdown().await;
                return Ok::<bool, std::io::Error>(false);
            }
            let allowed = usize::try_from((up_limit - sent).min(n as u64)).unwrap_or(n);
            sw.write_all(&buf[..allowed]).await?;
            sent += allowed as u64;
            s1.up.fetch_add(allowed as u64, Ordering::SeqCst);
            if allowed < n || sent >= up_limit {
                return Ok(true);
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0u64;
        loop {
            let n = sr.read(&mut buf).await?;
            if n == 0 {
                let _ = cw.shutdown().await;
                return Ok::<bool, std::io::Error>(false);
            }
            let allowed = usize::try_from((down_limit - sent).min(n as u64)).unwrap_or(n);
            cw.write_all(&buf[..allowed]).await?;
            sent += allowed as u64;
            s2.down.fetch_add(allowed as u64, Ordering::SeqCst);
            if allowed < n || sent >= down_limit {
                return Ok(true);
            }
        }
    };
    // Whichever direction is cut (or fails) first ends the connection: both halves drop.
    tokio::pin!(up, down);
    let cut = tokio::select! {
        r = &mut up => match r { Ok(true) => true, Ok(false) => { let _ = down.await; false } Err(_) => false },
        r = &mut down => match r { Ok(true) => true, Ok(false) => { let _ = up.await; false } Err(_) => false },
    };
    if cut {
        s.cuts.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}
