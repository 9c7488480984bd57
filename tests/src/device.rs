//! A simulated phone: a real store file and the real sync client.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gridwork_core::protocol::{DigestRequest, DigestResponse, DocDigest, WireMessage};
use gridwork_core::sync::{
    CancelToken, EnrolRequest, EnrolledUser, Enrolment, NoProgress, StoreAccess, SyncClient,
    SyncConfig, SyncError, SyncReport,
};
use gridwork_core::{AreaPath, RecordKind, Store};

use crate::HarnessResult;
use crate::server::Server;

/// A device under test.
pub struct Device {
    /// Its store, shared as the bindings share it.
    pub store: Arc<Mutex<Store>>,
    /// Its sync client.
    pub client: SyncClient,
    /// The store file.
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Client settings for tests: quick retries.
pub fn test_config() -> SyncConfig {
    SyncConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
        max_attempts: 8,
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(800),
        ..SyncConfig::default()
    }
}

impl Device {
    /// A fresh device with an empty store file.
    ///
    /// # Errors
    /// Store and client errors.
    pub fn new() -> HarnessResult<Device> {
        Self::with_config(test_config())
    }

    /// A fresh device with these client settings.
    ///
    /// # Errors
    /// Store and client errors.
    pub fn with_config(config: SyncConfig) -> HarnessResult<Device> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("device.db");
        let store = Store::open(&path, None)?;
        Ok(Device {
            store: Arc::new(Mutex::new(store)),
            client: SyncClient::new(config)?,
            path,
            _dir: dir,
        })
    }

    /// Enrols with `url` using a code for a new user (created on `server`) with `role` in `area`.
    ///
    /// # Errors
    /// Admin API and enrolment errors.
    pub async fn enrol_new_user(
        &self,
        server: &Server,
        url: &str,
        name: &str,
        role: &str,
        area: &str,
    ) -> HarnessResult<EnrolledUser> {
        let user = server.create_user(name, role, area).await?;
        let code = server.enrolment_code(&user).await?;
        self.enrol(url, &code).await.map_err(Into::into)
    }

    /// Enrols with a code.
    ///
    /// # Errors
    /// The client's errors.
    pub async fn enrol(&self, url: &str, code: &str) -> Result<EnrolledUser, SyncError> {
        let req = EnrolRequest {
            server_url: url.to_owned(),
            code: code.to_owned(),
            device_name: "测试手机".into(),
            role: None,
        };
        self.client.enrol(&self.store, &req).await
    }

    /// Syncs once.
    ///
    /// # Errors
    /// The client's errors.
    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        self.client.sync(&self.store, &NoProgress, &CancelToken::new()).await
    }

    /// Refreshes the areas and the user's roles from the server.
    ///
    /// # Errors
    /// The client's errors.
    pub async fn refresh_areas(&self) -> Result<usize, SyncError> {
        self.client.refresh_areas(&self.store).await
    }

    /// Runs `f` on the store.
    pub fn with<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        self.store.with_store(f)
    }

    /// How many records of `kind` the device holds.
    ///
    /// # Errors
    /// Store errors.
    pub fn count(&self, kind: RecordKind) -> HarnessResult<u64> {
        Ok(self.with(|s| s.count_records(kind))?)
    }
}

/// A change a device holds, by its Automerge hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldChange {
    /// The document.
    pub doc_id: uuid::Uuid,
    /// The document's area (where the change was addressed).
    pub area: AreaPath,
    /// Whether this device made the change (its actor is the store's).
    pub own: bool,
}

impl Device {
    /// Every change the device holds, by hash: all changes of all its documents.
    ///
    /// # Errors
    /// Store errors; undecodable changes.
    pub fn held_changes(&self) -> HarnessResult<BTreeMap<[u8; 32], HeldChange>> {
        self.with(|s| -> HarnessResult<_> {
            let actor = s.actor_id().clone();
            let mut out = BTreeMap::new();
            for e in s.changes_missing_from(&[], None)? {
                let change = e.decode()?;
                let held = HeldChange {
                    doc_id: e.doc_id,
                    area: e.area.clone(),
                    own: change.actor_id() == &actor,
                };
                out.insert(change.hash().0, held);
            }
            Ok(out)
        })
    }

    /// The device's enrolment (server URL, device id, credential).
    ///
    /// # Errors
    /// Store errors; a device that is not enrolled.
    pub fn enrolment(&self) -> HarnessResult<Enrolment> {
        Ok(self.with(|s| gridwork_core::sync::enrolment(s))?.ok_or("device not enrolled")?)
    }

    /// Compares what the device holds within `area` with what the server holds in the device's
    /// scope, through the repair endpoint `POST /v1/digest`: empty `divergent` and
    /// `unknown_to_server` mean both hold exactly the same changes.
    ///
    /// # Errors
    /// Store, network and protocol errors; an HTTP error answer.
    pub async fn compare_with_server(&self, area: &AreaPath) -> HarnessResult<DigestResponse> {
        let mut docs: BTreeMap<uuid::Uuid, DocDigest> = BTreeMap::new();
        for (hash, held) in self.held_changes()? {
            if area.contains(&held.area) {
                docs.entry(held.doc_id)
                    .or_insert_with(|| DocDigest::from_hashes(held.doc_id, []))
                    .add(&hash);
            }
        }
        let req = DigestRequest { area: area.clone(), docs: docs.into_values().collect() };
        let e = self.enrolment()?;
        let answer = crate::wire::call(
            &reqwest::Client::new(),
            "POST",
            &format!("{}/v1/digest", e.server_url),
            &crate::wire::protocol_headers(&e.credential),
            req.encode(),
        )
        .await?;
        if answer.status != 200 {
            return Err(format!("digest: {} {}", answer.status, answer.json()?).into());
        }
        Ok(DigestResponse::decode(&answer.body)?)
    }
}
