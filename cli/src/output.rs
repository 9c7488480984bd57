//! What a command prints, and printing it: JSON for scripts (`--json`), text for people
//! otherwise. Writing never panics: a reader that closes the pipe early
//! (`gridwork work-orders | head -1`) ends the command quietly.

use std::io::{self, Write};

use serde_json::Value;

/// A command's answer: the JSON value scripts read and, for commands that have one, the text a
/// person reads (tables with names and local times). Without text, people see the JSON
/// pretty-printed.
#[derive(Debug)]
pub struct Reply {
    /// What `--json` prints.
    pub json: Value,
    /// What is printed without `--json`.
    pub text: Option<String>,
}

impl Reply {
    /// An answer printed as JSON either way.
    pub fn json(json: Value) -> Self {
        Reply { json, text: None }
    }

    /// An answer with its text for people.
    pub fn text(json: Value, text: String) -> Self {
        Reply { json, text: Some(text) }
    }

    /// What to print: compact JSON with `json`, else the text (or pretty JSON).
    pub fn render(&self, json: bool) -> String {
        match (&self.text, json) {
            (Some(text), false) => text.trim_end().to_owned(),
            (None, false) => serde_json::to_string_pretty(&self.json).unwrap_or_default(),
            (_, true) => self.json.to_string(),
        }
    }
}

/// Writes `text` and a newline to `out` and flushes it.
///
/// # Errors
/// The write's I/O error — [`io::ErrorKind::BrokenPipe`] when the reader went away, which the
/// caller treats as a quiet end (see [`is_closed_pipe`]).
pub fn write_line(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Whether an output error only means the reader closed the pipe: nothing more to say, and not
/// a failure of the command.
pub fn is_closed_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}
