//! The names ledgers show beside codes and ids: each area's name (`金沙街道`) and each user's
//! name (`王芳`), read once per export from the registry (a few thousand rows at most), so a
//! million-row ledger joins nothing per row.

use std::collections::HashMap;

use crate::store::{DynStore, StoreResult};

/// Area and user names.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Area path → name.
    pub areas: HashMap<String, String>,
    /// User id (text) → name.
    pub users: HashMap<String, String>,
}

impl Names {
    /// Every area's and user's name.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn load(store: &DynStore) -> StoreResult<Names> {
        let areas =
            store.list_areas().await?.into_iter().map(|a| (a.path.as_str().to_owned(), a.name));
        let users = store.list_users().await?.into_iter().map(|u| (u.id.to_string(), u.name));
        Ok(Names { areas: areas.collect(), users: users.collect() })
    }

    /// The name of an area path, if registered.
    pub fn area(&self, path: &str) -> Option<String> {
        self.areas.get(path).cloned()
    }

    /// A user's name, or the id itself when the user is unknown here.
    pub fn user(&self, id: &str) -> String {
        self.users.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}
