use anyhow::Context;
use clap::Parser;
use sqin_server::cli::{self, Cli, Command};
use sqin_server::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sqin: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sqin: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    cli::check_args(&cli)?;
    let default_file = std::path::Path::new("sqin.toml");
    let file = cli
        .config
        .clone()
        .or_else(|| default_file.exists().then(|| default_file.to_path_buf()));
    let mut config = Config::load(file.as_deref())?;
    let demo = matches!(cli.command, Command::Demo | Command::Serve { demo: true });
    if matches!(cli.command, Command::Demo)
        && std::env::var_os("SQIN_DATABASE_URL").is_none()
        && file.is_none()
    {
        config.database_url = "sqlite://var/demo.db?mode=rwc".into();
    }
    init_tracing(&config);
    match cli.command {
        Command::Config => {
            let mut shown = serde_json::to_value(&config)?;
            shown["database_url"] = sqin_server::bootstrap::redact_url(&config.database_url).into();
            println!("{}", serde_json::to_string_pretty(&shown)?);
            Ok(())
        }
        Command::Migrate => {
            let store = sqin_store::Store::open(&config.database_url)
                .await
                .context("migrating the database")?;
            store.close().await;
            eprintln!("database is up to date");
            Ok(())
        }
        Command::Serve { .. } | Command::Demo => {
            let listener = std::net::TcpListener::bind(config.listen).with_context(|| {
                format!("configuration key `listen`: cannot bind {}", config.listen)
            })?;
            let services = sqin_server::bootstrap::open(config).await?;
            if demo {
                let seeded = sqin_server::demo::seed(&services).await?;
                sqin_server::demo::start(&services, seeded).await?;
            }
            let addr = listener.local_addr()?;
            let scheme = if services.config.tls_enabled() {
                "https"
            } else {
                "http"
            };
            tracing::info!(address = %addr, issuer = %services.config.issuer_str(), "sqin listening on {scheme}://{addr}");
            sqin_server::run(
                services.clone(),
                listener,
                sqin_server::http::shutdown_signal(),
            )
            .await?;
            services.store.close().await;
            tracing::info!("sqin stopped");
            Ok(())
        }
        Command::Citizen(cmd) => {
            let services = sqin_server::bootstrap::open(config).await?;
            cli::citizen(&services, cmd).await
        }
        Command::Client(cmd) => {
            let services = sqin_server::bootstrap::open(config).await?;
            cli::client(&services, cmd).await
        }
        Command::Keys(cmd) => {
            let services = sqin_server::bootstrap::open(config).await?;
            cli::keys(&services, cmd).await
        }
        Command::Ledger(cmd) => cli::ledger(config, cmd).await,
        Command::Pia(cmd) => cli::pia(&config, cmd),
        Command::Witness(cmd) => cli::witness(cmd).await,
        Command::Incident(cmd) => {
            let services = sqin_server::bootstrap::open(config).await?;
            cli::incident(&services, cmd).await
        }
        Command::Complaint(cmd) => {
            let services = sqin_server::bootstrap::open(config).await?;
            cli::complaint(&services, cmd).await
        }
        Command::Staff(cmd) => {
            let services = sqin_server::bootstrap::open(config).await?;
            cli::staff(&services, cmd).await
        }
        Command::Retention => {
            let services = sqin_server::bootstrap::open(config).await?;
            let report = sqin_server::retention::run(&services, sqin_server::now()).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
    }
}
