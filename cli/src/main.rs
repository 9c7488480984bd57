//! `gridwork`: a Gridwork device in a terminal, for sync admins testing a deployment and for
//! scripts. Records go into a local device store exactly as on a phone, and `sync` reconciles them
//! with the server.

mod args;
mod error;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    gridwork_core::sync::install_crypto_provider();
    match run::run(&cli) {
        Ok(value) => {
            if cli.json {
                println!("{value}");
            } else {
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if cli.json {
                let err =
                    serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } });
                eprintln!("{err}");
            } else {
                eprintln!("error [{}]: {e}", e.code());
            }
            ExitCode::FAILURE
        }
    }
}
