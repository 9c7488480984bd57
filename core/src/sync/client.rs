//! The sync client: enrolment, and sync = push the outbox and pull the news in as few round
//! trips as possible (DESIGN §2). Network waits happen here; everything that touches the store
//! happens in [`super::session`] and [`super::enrol`], between waits.

use super::access::StoreAccess;
use super::cancel::CancelToken;
use super::config::SyncConfig;
use super::enrol::{self, EnrolRequest, EnrolledUser};
use super::error::{SyncError, SyncResult};
use super::gaps::GapFill;
use super::held_report;
use super::progress::{ProgressSink, SyncPhase, SyncProgress};
use super::quarantine;
use super::repair;
use super::session::{Step, SyncSession};
use super::state;
use super::transport::{self, Call};

/// Talks to one Gridwork sync server on behalf of a device's store. Cheap to clone; usable
/// from any tokio runtime (CLI, UniFFI async exports).
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    config: SyncConfig,
}

/// What a completed sync did.
pub type SyncReport = SyncProgress;

/// What a repair pass ([`SyncClient::repair`]) did.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairOutcome {
    /// Documents whose digest differed from the server's (or that this device lacked).
    pub divergent: u64,
    /// Own changes put back into the outbox because the server lacked or differed on their
    /// documents.
    pub requeued: u64,
    /// Changes fetched for the divergent documents.
    pub fetched: u64,
}

impl SyncClient {
    /// A client with these settings.
    ///
    /// # Errors
    /// [`SyncError::Transport`] when the HTTP client cannot be built (no TLS roots).
    pub fn new(config: SyncConfig) -> SyncResult<Self> {
        Ok(SyncClient { http: transport::http_client(&config)?, config })
    }

    /// The client's settings.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Enrols the device with `server_url` using a one-time code: binds the store's actor id to
    /// a device on the server, stores the server URL, device id and credential, then loads the
    /// areas of the user's scope and signs the user in.
    ///
    /// Retry-safe: the credential is stored before the areas are fetched, so when that second
    /// request fails the device stays "enrolled, reference data pending"
    /// ([`super::SyncState::reference_pending`]) and the error is returned. Calling `enrol`
    /// again — with the same code or a new one for the same user; the server then completes
    /// the earlier enrolment with a new credential — or [`SyncClient::refresh_areas`] or
    /// [`SyncClient::sync`] completes it.
    ///
    /// # Errors
    /// [`SyncError::InvalidServerUrl`]; [`SyncError::Server`] with the server's code
    /// (`enrolment_code_unknown`, `enrolment_code_used`, `enrolment_code_expired`,
    /// `actor_taken`, `device_revoked`…); [`SyncError::Transport`]; [`SyncError::Protocol`]
    /// for an answer that cannot be read; [`SyncError::Revoked`] after wiping the store;
    /// store errors.
    pub async fn enrol<S: StoreAccess>(
        &self,
        store: &S,
        request: &EnrolRequest,
    ) -> SyncResult<EnrolledUser> {
        let base = transport::normalize_url(&request.server_url)?;
        let actor = store.with_store(|s| s.actor_id().to_hex_string());
        let body = enrol::request_body(request, &actor)?;
        let cancel = CancelToken::new();
        let call = Call {
            method: reqwest::Method::POST,
            url: format!("{base}/v1/enrol"),
            credential: None,
            content_type: Some("application/json"),
            body,
            retry_connect_only: true,
        };
        let answer = transport::send(&self.http, &self.config, &call, &cancel, |_| {}).await?;
        let enrolled = enrol::parse_response(&answer.body)?;
        store.with_store(|s| enrol::save(s, &base, &enrolled, request))?;
        let areas = self.load_reference(store, &cancel).await?;
        store.with_store(|s| enrol::enrolled_user(s, &enrolled.device_id, areas))
    }

    /// Fetches the areas of the device user's scope again and loads them (names change; new
    /// micro-grids appear). When the admin changed the user's roles (moved them to another
    /// grid), the device's signed-in user follows: same role, new area. Completes an enrolment
    /// whose reference data is pending. Apps call this at start and once a day; the CLI after
    /// every sync.
    ///
    /// # Errors
    /// [`SyncError::NotEnrolled`]; [`SyncError::Revoked`] after wiping the store; network,
    /// server and store errors.
    pub async fn refresh_areas<S: StoreAccess>(&self, store: &S) -> SyncResult<usize> {
        self.load_reference(store, &CancelToken::new()).await
    }

    /// Fetches the reference data with the stored credential and applies it (completing a
    /// pending enrolment); a revoked device is wiped.
    async fn load_reference<S: StoreAccess>(
        &self,
        store: &S,
        cancel: &CancelToken,
    ) -> SyncResult<usize> {
        let e = store.with_store(|s| state::enrolment(s))?.ok_or(SyncError::NotEnrolled)?;
        match self.fetch_areas(&e.server_url, &e.credential, cancel).await {
            Err(SyncError::Revoked) => {
                store.with_store(|s| s.wipe())?;
                Err(SyncError::Revoked)
            }
            Err(err) => Err(err),
            Ok(reference) => Ok(store.with_store(|s| enrol::apply_reference(s, &reference))?),
        }
    }

    async fn fetch_areas(
        &self,
        base: &str,
        credential: &str,
        cancel: &CancelToken,
    ) -> SyncResult<enrol::Reference> {
        let call = Call {
            method: reqwest::Method::GET,
            url: format!("{base}/v1/areas"),
            credential: Some(credential),
            content_type: None,
            body: Vec::new(),
            retry_connect_only: false,
        };
        let answer = transport::send(&self.http, &self.config, &call, cancel, |_| {}).await?;
        enrol::parse_areas(&answer.body)
    }

    /// Syncs: pushes the outbox and pulls every change after the cursor, page by page. Each
    /// answer is applied (acknowledgements, page, new cursor) in one local transaction, so a
    /// sync cut off at any point loses nothing and repeats nothing; the next sync resumes.
    /// Network failures and 5xx answers are retried with exponential backoff. An enrolment
    /// whose reference data is pending is completed first (areas loaded, user signed in); if
    /// that fails, the sync fails with its error rather than run without areas.
    ///
    /// # Errors
    /// [`SyncError::NotEnrolled`]; [`SyncError::Revoked`] after the store was wiped;
    /// [`SyncError::Cancelled`]; [`SyncError::Server`] for a refused push (e.g. `out_of_scope`,
    /// with the change's index; nothing of that request was stored on either side);
    /// [`SyncError::Transport`] after the retries; [`SyncError::Protocol`]; store errors.
    pub async fn sync<S: StoreAccess>(
        &self,
        store: &S,
        progress: &dyn ProgressSink,
        cancel: &CancelToken,
    ) -> SyncResult<SyncReport> {
        let result = self.run(store, progress, cancel).await;
        let code = result.as_ref().err().map(SyncError::code);
        if !matches!(result, Err(SyncError::Revoked | SyncError::NotEnrolled)) {
            store.with_store(|s| state::record_outcome(s, code))?;
        }
        result
    }

    async fn run<S: StoreAccess>(
        &self,
        store: &S,
        progress: &dyn ProgressSink,
        cancel: &CancelToken,
    ) -> SyncResult<SyncReport> {
        let enrolment = store.with_store(|s| state::enrolment(s))?.ok_or(SyncError::NotEnrolled)?;
        if store.with_store(|s| state::reference_pending(s))? {
            self.load_reference(store, cancel).await?;
        }
        let url = format!("{}/v1/sync", enrolment.server_url);
        let mut session = SyncSession::new(self.config.max_push_bytes, self.config.page_bytes);
        let mut repaired = false;
        loop {
            if cancel.is_cancelled() {
                return Err(SyncError::Cancelled);
            }
            let body = store.with_store(|s| session.next_request(s))?;
            session.progress_mut().bytes_up += body.len() as u64;
            progress.report(SyncPhase::Exchanging, session.progress());
            let call = Call::protocol(url.clone(), &enrolment.credential, body);
            let mut retries = 0;
            let sent = transport::send(&self.http, &self.config, &call, cancel, |_| {
                retries += 1;
                let mut p = *session.progress();
                p.retries += retries;
                progress.report(SyncPhase::Retrying, &p);
            })
            .await;
            let answer = match sent {
                Ok(answer) => answer,
                Err(e) => {
                    // A change refused for good is quarantined and the sync goes on without it
                    // (each one leaves the outbox, so this ends); any other error ends the sync.
                    let refused = quarantine::refused_change(&e).and_then(|(i, code, message)| {
                        Some((session.in_flight(i)?, code, message))
                    });
                    let Some((hash, code, message)) = refused else { return Err(e) };
                    if !store.with_store(|s| quarantine::quarantine(s, &hash, code, message))? {
                        return Err(e);
                    }
                    session.push_refused();
                    session.progress_mut().quarantined += 1;
                    continue;
                }
            };
            session.progress_mut().retries += retries;
            session.progress_mut().bytes_down += answer.body.len() as u64;
            progress.report(SyncPhase::Applying, session.progress());
            let step = match store
                .with_store(|s| session.apply_response(s, &answer.body, answer.server_time_ms))
            {
                Err(SyncError::Revoked) => {
                    progress.report(SyncPhase::Wiping, session.progress());
                    return Err(SyncError::Revoked);
                }
                other => other?,
            };
            if step == Step::Done {
                self.fill_gaps(store, &enrolment, &mut session, progress, cancel).await?;
                if !repaired && (session.started_over() || store.with_store(repair::due)?) {
                    repaired = true;
                    let plan = self.repair(store, cancel).await?;
                    session.progress_mut().pulled += plan.fetched;
                    if plan.requeued > 0 {
                        // Send what the server lacks before ending.
                        continue;
                    }
                }
                self.report_held(store, &enrolment, cancel).await?;
                progress.report(SyncPhase::Done, session.progress());
                return Ok(*session.progress());
            }
        }
    }

    /// The repair path ([`super::repair`]): compares per-document digests of the signed-in
    /// user's area with the server's, fetches the documents that differ and puts this device's
    /// own changes of them back into the outbox (the next sync sends them). [`SyncClient::sync`]
    /// runs it once a day and after the server asked it to start over; apps may run it on
    /// demand ("check my data").
    ///
    /// # Errors
    /// [`SyncError::NotEnrolled`]; [`SyncError::Revoked`] after wiping the store; network,
    /// server, protocol and store errors.
    pub async fn repair<S: StoreAccess>(
        &self,
        store: &S,
        cancel: &CancelToken,
    ) -> SyncResult<RepairOutcome> {
        let e = store.with_store(|s| state::enrolment(s))?.ok_or(SyncError::NotEnrolled)?;
        let Some((_, body)) = store.with_store(repair::request)? else {
            return Ok(RepairOutcome::default());
        };
        let call = Call::protocol(format!("{}/v1/digest", e.server_url), &e.credential, body);
        let answer = transport::send(&self.http, &self.config, &call, cancel, |_| {}).await?;
        let plan = store.with_store(|s| repair::apply(s, &answer.body))?;
        let divergent = plan.fetch.len() as u64;
        let (fetched, _) = self.fetch(store, &e, GapFill::of(plan.fetch), cancel, |_| {}).await?;
        Ok(RepairOutcome { divergent, requeued: plan.requeued, fetched })
    }

    /// Reports to the server the held changes that can never be applied and were not yet
    /// reported ([`super::held_report`]), marking each reported once the server answered. A
    /// report that fails (an older server without `/v1/held`, the network) does not fail the
    /// sync: the changes stay unreported and the next sync tries again.
    ///
    /// # Errors
    /// [`SyncError::Cancelled`]; store errors.
    async fn report_held<S: StoreAccess>(
        &self,
        store: &S,
        enrolment: &state::Enrolment,
        cancel: &CancelToken,
    ) -> SyncResult<()> {
        let url = format!("{}/v1/held", enrolment.server_url);
        while let Some((hashes, body)) = store.with_store(|s| held_report::request(s))? {
            let call = Call {
                method: reqwest::Method::POST,
                url: url.clone(),
                credential: Some(&enrolment.credential),
                content_type: Some("application/json"),
                body,
                retry_connect_only: false,
            };
            match transport::send(&self.http, &self.config, &call, cancel, |_| {}).await {
                Ok(_) => {
                    let marked = store.with_store(|s| s.mark_held_reported(&hashes))?;
                    if marked == 0 {
                        // Nothing changed: stop rather than send the same report again.
                        break;
                    }
                }
                Err(SyncError::Cancelled) => return Err(SyncError::Cancelled),
                Err(e) => {
                    tracing::warn!(error = %e, "reporting held changes failed; retried next sync");
                    break;
                }
            }
        }
        Ok(())
    }

    /// Fetches whole the records whose history still has a gap after the pull (see
    /// [`super::gaps`]); each answer is applied in its own transaction.
    async fn fill_gaps<S: StoreAccess>(
        &self,
        store: &S,
        enrolment: &state::Enrolment,
        session: &mut SyncSession,
        progress: &dyn ProgressSink,
        cancel: &CancelToken,
    ) -> SyncResult<()> {
        let (pulled, (up, down)) = self
            .fetch(store, enrolment, GapFill::default(), cancel, |_| {
                progress.report(SyncPhase::Exchanging, session.progress());
            })
            .await?;
        let p = session.progress_mut();
        p.pulled += pulled;
        p.bytes_up += up;
        p.bytes_down += down;
        Ok(())
    }

    /// Runs the fetches `docs` asks for (`POST /v1/fetch`, page by page) and applies each
    /// answer in its own transaction. Returns the changes fetched and the bytes sent and
    /// received; `before_each` is called before each request (progress reports).
    async fn fetch<S: StoreAccess>(
        &self,
        store: &S,
        enrolment: &state::Enrolment,
        mut docs: GapFill,
        cancel: &CancelToken,
        mut before_each: impl FnMut(u64),
    ) -> SyncResult<(u64, (u64, u64))> {
        let url = format!("{}/v1/fetch", enrolment.server_url);
        let (mut changes, mut up, mut down) = (0, 0, 0);
        while let Some(body) = store.with_store(|s| docs.next_request(s, self.config.page_bytes))? {
            if cancel.is_cancelled() {
                return Err(SyncError::Cancelled);
            }
            up += body.len() as u64;
            before_each(up);
            let call = Call::protocol(url.clone(), &enrolment.credential, body);
            let answer = transport::send(&self.http, &self.config, &call, cancel, |_| {}).await?;
            down += answer.body.len() as u64;
            changes += store.with_store(|s| docs.apply_response(s, &answer.body))?;
        }
        Ok((changes, (up, down)))
    }
}
