//! Area reference data on the device.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::area::{Area, AreaPath};
use crate::error::{CoreError, Result};
use crate::validate;

impl Store {
    /// Loads (inserts or renames) areas as reference data. Parents must be loaded before or in the
    /// same batch as their children, so the hierarchy has no holes.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `name` when empty; [`CoreError::NotFound`] naming the missing
    /// parent area; nothing is loaded then.
    pub fn load_areas(&mut self, areas: &[Area]) -> Result<usize> {
        super::write_txn(&mut self.conn, self.batch.as_mut(), |tx| {
            let mut ins = tx.prepare_cached(
                "INSERT INTO area(path, name, level) VALUES (?1, ?2, ?3)
                 ON CONFLICT(path) DO UPDATE SET name = excluded.name",
            )?;
            let mut exists = tx.prepare_cached("SELECT 1 FROM area WHERE path = ?1")?;
            for a in areas {
                let name = validate::required("name", &a.name)?;
                validate::max_len("name", name, validate::NAME_MAX)?;
                if let Some(parent) = a.path.parent()
                    && !exists.exists([parent.as_str()])?
                {
                    return Err(CoreError::NotFound {
                        kind: "area".into(),
                        id: parent.to_string(),
                    });
                }
                ins.execute(params![a.path.as_str(), name, a.path.level() as u8])?;
            }
            Ok(())
        })?;
        Ok(areas.len())
    }

    /// Whether `area` is known on this device.
    ///
    /// # Errors
    /// Storage errors.
    pub fn area_exists(&self, area: &AreaPath) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM area WHERE path = ?1")?
            .exists([area.as_str()])?)
    }

    /// The area with this path.
    ///
    /// # Errors
    /// Storage errors.
    pub fn area(&self, path: &AreaPath) -> Result<Option<Area>> {
        Ok(self
            .conn
            .prepare_cached("SELECT name FROM area WHERE path = ?1")?
            .query_row([path.as_str()], |r| r.get::<_, String>(0))
            .optional()?
            .map(|name| Area { path: path.clone(), name }))
    }

    /// The areas directly inside `parent` (the districts when `None`), by code.
    ///
    /// # Errors
    /// Storage errors.
    pub fn child_areas(&self, parent: Option<&AreaPath>) -> Result<Vec<Area>> {
        let (level, prefix) = match parent {
            Some(p) => (p.level() as u8 + 1, format!("{}/", p.as_str())),
            None => (1, String::new()),
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, name FROM area WHERE level = ?1 AND substr(path, 1, length(?2)) = ?2
             ORDER BY path",
        )?;
        let rows = stmt.query_map(params![level, prefix], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (path, name) = row?;
            out.push(Area { path: AreaPath::parse(&path)?, name });
        }
        Ok(out)
    }
}
