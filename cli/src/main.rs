//! `gridwork`: a Gridwork device in a terminal, for sync admins testing a deployment, for people
//! taking part in the work from a desk, and for scripts. Records go into a local device store
//! exactly as on a phone, and `sync` reconciles them with the server.

mod args;
mod commands;
mod error;
mod names;
mod output;
mod run;
mod table;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    gridwork_core::sync::install_crypto_provider();
    match run::run(&cli) {
        Ok(reply) => {
            match output::write_line(&mut std::io::stdout().lock(), &reply.render(cli.json)) {
                Ok(()) => ExitCode::SUCCESS,
                // The reader has all it wanted (`gridwork work-orders | head -1`): a quiet end.
                Err(e) if output::is_closed_pipe(&e) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error [output]: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            let text = if cli.json {
                serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } })
                    .to_string()
            } else {
                format!("error [{}]: {e}", e.code())
            };
            // Nothing more can be said if stderr is closed too.
            let _ = writeln!(std::io::stderr(), "{text}");
            ExitCode::FAILURE
        }
    }
}
