//! Sync between devices and the server: the wire protocol shared by both sides (DESIGN §2).

pub mod attachment;
pub mod attachment_client;
pub mod protocol;
