//! `sqin witness`: a witness of someone else's consent ledger (C2SP
//! tlog-witness), run by an independent party such as the Commission.
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create a witness in DIR: a new Ed25519 key named NAME. Prints the
    /// witness's verifier key, for the logs (`ledger_witnesses`) and the
    /// reviewers who will require its cosignature.
    Init {
        /// The witness's name, a schema-less URL (commission.example/witness).
        #[arg(long)]
        name: String,
        /// Where its key and state live.
        #[arg(long, default_value = "witness")]
        dir: PathBuf,
    },
    /// Serve `POST /add-checkpoint` for the logs given by their verifier
    /// keys (GET /ledger/vkey of each; repeat --log, and add a log's new key
    /// after it rotates). Stops cleanly on SIGTERM or Ctrl-C.
    Serve {
        #[arg(long, default_value = "witness")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// A watched log's verifier key (repeatable).
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

/// `sqin witness init|serve`.
pub async fn run(cmd: WitnessCommand) -> anyhow::Result<()> {
    match cmd {
        WitnessCommand::Init { name, dir } => {
            let vkey = sqin_witness::init(&dir, &name)?;
            println!("{vkey}");
            eprintln!(
                "created the witness {name} in {}; give its key (above) to the logs and reviewers",
                dir.display()
            );
        }
        WitnessCommand::Serve { dir, listen, logs } => {
            let witness = std::sync::Arc::new(sqin_witness::Witness::open(&dir, &logs)?);
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            tracing::info!(address = %listen, vkey = %witness.vkey(), "witness listening");
            axum::serve(listener, crate::http::witness::router(witness))
                .with_graceful_shutdown(crate::http::shutdown_signal())
                .await?;
        }
    }
    Ok(())
}
