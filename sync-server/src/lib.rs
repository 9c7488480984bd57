//! Gridwork sync server.
