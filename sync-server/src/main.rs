//! The `gridwork-server` binary.

fn main() {}
