//! How people read what the store holds: names instead of codes and ids where the device knows
//! them (areas, categories, the signed-in user), times in the local time zone.

use chrono::{DateTime, Local, Utc};
use gridwork_core::work_order::CategoryList;
use gridwork_core::{AreaPath, Store};

/// Looks up display names in the device store.
pub struct Names<'s> {
    store: &'s Store,
    categories: CategoryList,
    chinese: bool,
}

impl<'s> Names<'s> {
    /// Names from `store`; category names in Chinese when the locale (`LC_ALL`, `LANG`) is
    /// Chinese, else in English.
    pub fn new(store: &'s Store) -> Self {
        let locale = std::env::var("LC_ALL")
            .ok()
            .filter(|l| !l.is_empty())
            .or_else(|| std::env::var("LANG").ok())
            .unwrap_or_default();
        // The district's categories as this device last received them (the defaults before).
        let categories = store
            .reference_data()
            .map(|r| r.categories)
            .unwrap_or_else(|_| CategoryList::default());
        Names { store, categories, chinese: locale.starts_with("zh") }
    }

    /// A person's name when this device knows it (the signed-in user), else their user id.
    pub fn person(&self, user_id: &str) -> String {
        self.person_known(user_id).unwrap_or_else(|| user_id.to_owned())
    }

    /// A person's name, if this device knows it.
    pub fn person_known(&self, user_id: &str) -> Option<String> {
        self.store.user().filter(|u| u.user_id == user_id).map(|u| u.name.clone())
    }

    /// An area's name when known, else its code path.
    pub fn area(&self, path: &AreaPath) -> String {
        self.store.area(path).ok().flatten().map_or_else(|| path.as_str().to_owned(), |a| a.name)
    }

    /// A category's name in the locale's language, else its code.
    pub fn category(&self, code: &str) -> String {
        self.categories.get(code).map_or_else(
            || code.to_owned(),
            |c| if self.chinese { c.name_zh.clone() } else { c.name_en.clone() },
        )
    }
}

/// A time in the local time zone, to the minute: `2026-12-02 08:35`.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// [`local`] of an optional time; empty when absent.
pub fn local_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(local).unwrap_or_default()
}
