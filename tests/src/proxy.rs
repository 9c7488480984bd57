//! A small TCP proxy between devices and the server: counts the bytes in each direction
//! (HTTP headers included) and injects faults — cutting a connection after a number of bytes
//! in either direction, either queued one per connection ([`Proxy::inject`]) or drawn at random
//! from a seed for every connection ([`Proxy::set_chaos`]): a flaky network that cuts requests
//! and responses at arbitrary points.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gridwork_core::demo::DemoRng;
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

/// Random faults: each connection, when it first moves bytes after [`Proxy::set_chaos`], draws
/// from one seeded generator whether and where it is cut. The byte offset counts from that
/// moment across every request and answer the (keep-alive) connection carries, so a cut lands
/// anywhere: in a request's headers or body (the server never sees it whole), or in an answer
/// (the server committed, the device never learns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChaosFaults {
    /// Seed of the generator.
    pub seed: u64,
    /// Chance, in thousandths, that a connection is cut at all.
    pub permille: u64,
    /// Of the cuts, the share in thousandths cut device→server (mid-request); the rest are cut
    /// server→device (mid-response).
    pub up_permille: u64,
    /// A mid-request cut falls after `0..max_up` bytes device→server.
    pub max_up: u64,
    /// A mid-response cut falls after `0..max_down` bytes server→device.
    pub max_down: u64,
}

impl ChaosFaults {
    /// Draws one connection's fault.
    fn draw(&self, rng: &mut DemoRng) -> Fault {
        if rng.below(1000) >= self.permille {
            Fault::None
        } else if rng.below(1000) < self.up_permille {
            Fault::CutUpAfter(rng.below(self.max_up))
        } else {
            Fault::CutDownAfter(rng.below(self.max_down))
        }
    }
}

/// The random-fault setting and its generator; `generation` changes with every
/// [`Proxy::set_chaos`], so connections kept alive from before draw again.
#[derive(Default)]
struct Chaos {
    setting: Option<(ChaosFaults, DemoRng)>,
    generation: u64,
}

#[derive(Default)]
struct Shared {
    upstream: Mutex<Option<SocketAddr>>,
    faults: Mutex<VecDeque<Fault>>,
    chaos: Mutex<Chaos>,
    up: AtomicU64,
    down: AtomicU64,
    connections: AtomicU64,
    cuts: AtomicU64,
    cuts_up: AtomicU64,
    cuts_down: AtomicU64,
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

    /// Cuts every connection at random from now on, as `faults` says (`None`: stop). Queued
    /// faults ([`Proxy::inject`]) go first.
    pub fn set_chaos(&self, faults: Option<ChaosFaults>) {
        let mut c = lock(&self.shared.chaos);
        c.setting = faults.map(|f| (f, DemoRng::new(f.seed)));
        c.generation += 1;
    }

    /// How many connections were cut by faults.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// `(mid-request, mid-response)`: how many connections were cut device→server and
    /// server→device.
    pub fn cuts_by_direction(&self) -> (u64, u64) {
        (self.shared.cuts_up.load(Ordering::SeqCst), self.shared.cuts_down.load(Ordering::SeqCst))
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

/// The fault a connection carries, armed when it first moves bytes after the fault was queued
/// (so a pooled keep-alive connection is hit as well as a new one).
struct Armed {
    fault: Fault,
    /// Bytes up / down the connection had moved when the fault was armed.
    base: (u64, u64),
}

#[derive(Default)]
struct Conn {
    armed: Option<Armed>,
    moved: (u64, u64),
    /// The chaos generation this connection last drew a random fault for.
    drawn: Option<u64>,
}

impl Conn {
    /// How many more bytes may pass in this direction (`up`), arming a queued fault, or else a
    /// random one, if needed.
    fn allowance(&mut self, s: &Shared, up: bool) -> u64 {
        if self.armed.is_none()
            && let Some(fault) = lock(&s.faults).pop_front()
        {
            self.armed = Some(Armed { fault, base: self.moved });
        }
        if self.armed.is_none() {
            let mut chaos = lock(&s.chaos);
            let generation = chaos.generation;
            if self.drawn != Some(generation) {
                self.drawn = Some(generation);
                if let Some((faults, rng)) = &mut chaos.setting {
                    let fault = faults.draw(rng);
                    if fault != Fault::None {
                        self.armed = Some(Armed { fault, base: self.moved });
                    }
                }
            }
        }
        match &self.armed {
            Some(Armed { fault: Fault::CutUpAfter(n), base }) if up => {
                (base.0 + n).saturating_sub(self.moved.0)
            }
            Some(Armed { fault: Fault::CutDownAfter(n), base }) if !up => {
                (base.1 + n).saturating_sub(self.moved.1)
            }
            _ => u64::MAX,
        }
    }
}

async fn pump(
    s: Arc<Shared>,
    conn: Arc<Mutex<Conn>>,
    up: bool,
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            let _ = to.shutdown().await;
            return Ok(false);
        }
        let allowed = {
            let mut c = lock(&conn);
            let a = c.allowance(&s, up).min(n as u64);
            if up {
                c.moved.0 += a;
            } else {
                c.moved.1 += a;
            }
            usize::try_from(a).unwrap_or(n)
        };
        to.write_all(&buf[..allowed]).await?;
        let counter = if up { &s.up } else { &s.down };
        counter.fetch_add(allowed as u64, Ordering::SeqCst);
        if allowed < n || lock(&conn).allowance(&s, up) == 0 {
            return Ok(true);
        }
    }
}

async fn serve(s: Arc<Shared>, client: TcpStream) -> HarnessResult<()> {
    s.connections.fetch_add(1, Ordering::SeqCst);
    let upstream = (*lock(&s.upstream)).ok_or("no upstream")?;
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let conn = Arc::new(Mutex::new(Conn::default()));
    let up = pump(s.clone(), conn.clone(), true, cr, sw);
    let down = pump(s.clone(), conn, false, sr, cw);
    // Whichever direction is cut (or fails) first ends the connection: both halves drop.
    tokio::pin!(up, down);
    let cut = tokio::select! {
        r = &mut up => match r { Ok(true) => Some(&s.cuts_up), Ok(false) => { let _ = down.await; None } Err(_) => None },
        r = &mut down => match r { Ok(true) => Some(&s.cuts_down), Ok(false) => { let _ = up.await; None } Err(_) => None },
    };
    if let Some(direction) = cut {
        s.cuts.fetch_add(1, Ordering::SeqCst);
        direction.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}
