//! The `gridwork-server` binary: Gridwork's sync server.
//!
//! `gridwork-server` with no configuration keeps its data in `./gridwork-data` (SQLite) and
//! listens on 127.0.0.1:8480. See `--help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gridwork_sync_server::config::Config;
use gridwork_sync_server::server::{self, AdminToken};
use gridwork_sync_server::store::{NewEnrolmentCode, now_ms};
use gridwork_sync_server::{api::admin::render_qr, auth};
use gridwork_sync_server::{demo, demo_records};

/// Gridwork's sync server.
#[derive(Debug, Parser)]
#[command(name = "gridwork-server", version, about)]
struct Args {
    /// TOML configuration file (also `GRIDWORK_CONFIG`).
    #[arg(long, env = "GRIDWORK_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 0.0.0.0:8480.
    #[arg(long)]
    listen: Option<String>,
    /// Data directory of the embedded SQLite database.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (`postgres://…`); default: SQLite in the data directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Seed a demo district (Tongzhou, 320612) with users of every role, and print an
    /// enrolment code for the demo grid worker.
    #[arg(long)]
    demo: bool,
    /// The database was just restored from a backup: give the log a new epoch, so that every
    /// device re-pushes its own changes and pulls its scope again (nothing acknowledged after
    /// the backup is lost). SQLite notices a restored file by itself; PostgreSQL needs this.
    #[arg(long)]
    restored: bool,
    /// Refuse the shared admin token (also `[admin] token_enabled = false`): only sync admins'
    /// sessions reach the admin API.
    #[arg(long)]
    no_admin_token: bool,
    /// A maintenance command instead of serving.
    #[command(subcommand)]
    command: Option<Command>,
}

/// Maintenance commands, run on the server's machine.
#[derive(Debug, Clone, clap::Subcommand)]
enum Command {
    /// Empty the read model and fold the whole change log into it again, then exit.
    RebuildReadModel,
    /// Local recovery and bootstrap on the server's machine (not over the network): a new admin
    /// token, a one-time password, a first staff account.
    Admin {
        /// What to do.
        #[command(subcommand)]
        command: gridwork_sync_server::staff::cli::AdminCommand,
    },
    /// Write a ledger (台账) to a file: CSV, XLSX or JSON (docs/server-ledgers-api.md).
    Export(gridwork_sync_server::ledger::cli::ExportArgs),
}

fn load_config(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(p) => Config::from_file(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    config.apply_env(|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    if let Some(v) = &args.listen {
        config.listen = v.clone();
    }
    if let Some(v) = &args.data_dir {
        config.data_dir = v.clone();
    }
    if let Some(v) = &args.database_url {
        config.database_url = Some(v.clone());
    }
    if args.no_admin_token {
        config.admin.token_enabled = false;
    }
    Ok(config)
}

fn init_tracing(filter: &str) {
    let targets: tracing_subscriber::filter::Targets = filter.parse().unwrap_or_else(|_| {
        tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO)
    });
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(targets)
        .try_init();
}

async fn run(args: Args) -> Result<(), String> {
    let config = load_config(&args)?;
    init_tracing(&config.log);
    let store = server::open_store(&config).await.map_err(|e| e.to_string())?;
    if let Some(Command::Admin { command }) = args.command.clone() {
        let out = gridwork_sync_server::staff::cli::run(&store, command)
            .await
            .map_err(|e| e.to_string())?;
        print!("{out}");
        return Ok(());
    }
    if let Some(Command::Export(export)) = &args.command {
        let out = gridwork_sync_server::ledger::cli::run(&store, export)
            .await
            .map_err(|e| e.to_string())?;
        print!("{out}");
        return Ok(());
    }
    if args.restored {
        let epoch = store.new_epoch().await.map_err(|e| e.to_string())?;
        println!("Restored from a backup: the log's new epoch is {epoch}; devices will repair.");
    }
    if let Some(Command::RebuildReadModel) = args.command {
        let started = std::time::Instant::now();
        let n = gridwork_sync_server::read_model::projector::rebuild(&store)
            .await
            .map_err(|e| e.to_string())?;
        println!("Rebuilt the read model from {n} logged changes in {:.1?}.", started.elapsed());
        return Ok(());
    }
    if let Some(url) = config.database_url.as_deref().filter(|u| u.starts_with("postgres")) {
        server::check_postgres_durability(url).await;
    }
    let listener = server::bind(&config.listen).await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let token = if config.admin.token_enabled {
        server::ensure_admin_token(&store, std::env::var("GRIDWORK_ADMIN_TOKEN").ok())
            .await
            .map_err(|e| e.to_string())?
    } else {
        println!("The shared admin token is turned off: sign in to the console as a sync admin.");
        AdminToken::Existing
    };
    match token {
        AdminToken::Created(token) => {
            println!("Created the admin token (shown only now; the server keeps only its hash):");
            println!("  {token}");
            println!("Use it as a bearer token with the admin API, e.g.:");
            println!("  curl -H 'Authorization: Bearer {token}' {base}/admin/v1/devices");
        }
        AdminToken::Existing => {}
    }
    if args.demo {
        let users = demo::seed(&store, &demo_records::CoreDemoRecords::default())
            .await
            .map_err(|e| e.to_string())?;
        println!("Seeded the demo district 通州区 (320612) with {} users.", users.len());
        if let Some(worker) = users.iter().find(|u| u.name == "王芳") {
            let code = auth::new_enrolment_code().map_err(|e| e.to_string())?;
            let now = now_ms();
            store
                .create_enrolment_code(&NewEnrolmentCode {
                    code_hash: auth::hash_code(&code),
                    user_id: worker.id,
                    expires_at: now + i64::from(config.enrolment_ttl_minutes) * 60_000,
                    created_at: now,
                })
                .await
                .map_err(|e| e.to_string())?;
            println!("Enrolment code for grid worker 王芳 (320612/001/001/01): {code}");
            if let Ok((qr, _)) = render_qr(&format!("gridwork://enrol?code={code}&server={base}")) {
                println!("{qr}");
            }
        }
    }
    println!("gridwork-server ({}) listening on http://{addr}", store.backend());
    tracing::info!(%addr, backend = store.backend(), "listening");
    let state = server::state(store, &config);
    // The read model follows the log in the background; ingest never waits for it.
    tokio::spawn(gridwork_sync_server::read_model::projector::follow(
        state.store.clone(),
        state.metrics.clone(),
        state.read_model.clone(),
        std::time::Duration::from_millis(500),
    ));
    // Overdue work orders are put under supervision on the server's clock, once a minute.
    if config.supervision_clock_offset_secs != 0 {
        tracing::warn!(
            offset_secs = config.supervision_clock_offset_secs,
            "supervision judges deadlines on a shifted clock (drills and tests only)"
        );
    }
    tokio::spawn(gridwork_sync_server::supervision::supervise(
        state.clone(),
        std::time::Duration::from_secs(config.supervision_every_secs.max(1)),
        chrono::TimeDelta::seconds(config.supervision_clock_offset_secs),
    ));
    // Steps on 12345 hotline orders go back up through the durable outbox.
    tokio::spawn(gridwork_sync_server::hotline::outbox::run(state.clone()));
    tokio::spawn(gridwork_sync_server::hotline::reconcile::run(state.clone()));
    server::serve(listener, state, config.body_limit_bytes, server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gridwork-server: {e}");
            ExitCode::FAILURE
        }
    }
}
