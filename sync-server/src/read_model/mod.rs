//! The server's read model (DESIGN §8): the records the change log carries, decoded with the
//! core's own decoders and work-order fold into typed rows, so the command centre can list,
//! filter and act on them without running a phone store. This module holds the pure parts: the
//! documents a batch of logged changes folds into ([`docs`]) and the rows they give ([`rows`]);
//! and the [`projector`] that follows the log into the backends' `rm_` tables (migration 3).

pub mod docs;
pub mod progress;
pub mod projector;
pub mod rows;

#[cfg(test)]
mod tests;
