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

/// Loads the configuration (`--config`, else `./sqin.toml` when present, and
/// the `SQIN_*` overlay), sets up logging, and runs the command.
async fn run(cli: Cli) -> anyhow::Result<()> {
    cli::check_args(&cli)?;
    let default_file = std::path::Path::new("sqin.toml");
    let file = cli
        .config
        .clone()
        .or_else(|| default_file.exists().then(|| default_file.to_path_buf()));
    let mut config = Config::load(file.as_deref())?;
    if matches!(cli.command, Command::Demo)
        && std::env::var_os("SQIN_DATABASE_URL").is_none()
        && file.is_none()
    {
        config.database_url = "sqlite://var/demo.db?mode=rwc".into();
    }
    init_tracing(&config);
    cli::run(cli.command, config).await
}
