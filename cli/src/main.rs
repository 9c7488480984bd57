//! `gridwork`: a command-line Gridwork device (work in progress).

fn main() {}
