//! `nexus`: the command line. Parses flags and variables, sets up logging, runs a subcommand.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use nexus_server::config::{CommonArgs, GatewayArgs, generate_key};
use nexus_server::{ServeOptions, database, listen};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "nexus",
    version = nexus_server::build_info::LONG_VERSION,
    about = "Credential broker for AI agents"
)]
struct Cli {
    /// `text` for people, `json` for log pipelines
    #[arg(long, env = "NEXUS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Log filter, such as `info` or `nexus=debug,info`
    #[arg(long, env = "NEXUS_LOG", default_value = "info", global = true)]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Broker and Gateway in one process (SQLite and development keys unless configured)
    Serve {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, env = "NEXUS_BROKER_LISTEN", default_value = "127.0.0.1:8080")]
        broker_listen: SocketAddr,
        #[arg(long, env = "NEXUS_GATEWAY_LISTEN", default_value = "127.0.0.1:8090")]
        gateway_listen: SocketAddr,
        /// Serve the benchmark's baseline route (a `--features bench` build, `cargo xtask bench`)
        #[cfg(feature = "bench")]
        #[arg(long, hide = true, default_value_t = false)]
        bench_baseline: bool,
    },
    /// The Broker alone
    Broker {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, env = "NEXUS_BROKER_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// The Gateway alone, calling the Broker (no database, no encryption key)
    Gateway {
        #[command(flatten)]
        args: GatewayArgs,
        #[arg(long, env = "NEXUS_GATEWAY_LISTEN", default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// Serve `/metrics` on a listener of its own (the Gateway API never serves it)
        #[arg(long, env = "NEXUS_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
    },
    /// Exit 0 when the local Broker (or, with --gateway, Gateway) answers `/readyz`, else 1: the
    /// container's HEALTHCHECK (the runtime image has no curl)
    Healthcheck {
        /// Check the Gateway listener instead of the Broker's
        #[arg(long)]
        gateway: bool,
        #[arg(long, env = "NEXUS_BROKER_LISTEN", default_value = "127.0.0.1:8080")]
        broker_listen: SocketAddr,
        #[arg(long, env = "NEXUS_GATEWAY_LISTEN", default_value = "127.0.0.1:8090")]
        gateway_listen: SocketAddr,
        /// Give up after this many seconds (below the image's HEALTHCHECK timeout of 3 s, so a
        /// hung server is reported by this command rather than killed with it)
        #[arg(long, default_value_t = 2)]
        timeout_seconds: u64,
    },
    /// Apply database migrations and exit
    Migrate {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Key management
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Providers as code against a Broker (NEXUS_ADMIN_KEY): export, plan (exit 2 on drift), apply
    Providers {
        #[command(subcommand)]
        command: nexus_server::providers_as_code::ProvidersCommand,
    },
    /// Bulk-insert active API-key connections for `cargo xtask bench resolve --uncached` (a
    /// `--features bench` build only)
    #[cfg(feature = "bench")]
    #[command(hide = true)]
    BenchSeed {
        #[command(flatten)]
        common: CommonArgs,
        /// An existing API-key provider
        #[arg(long)]
        provider: String,
        /// Workspaces are named `<prefix><i>`
        #[arg(long, default_value = "ws-")]
        workspace_prefix: String,
        #[arg(long)]
        connections: usize,
    },
    /// Print an OpenAPI spec, or write both to a directory
    Openapi {
        /// Which spec to print
        #[arg(value_enum, required_unless_present = "out_dir")]
        api: Option<ApiName>,
        /// Write `broker.json` and `gateway.json` here instead
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

// Parsed once at start-up: the variants' size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Print a new random 32-byte key (base64), for any NEXUS_*_KEY(S) variable
    Generate,
    /// Re-encrypt every stored secret under the first NEXUS_ENCRYPTION_KEYS key (online, resumable)
    Rotate {
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ApiName {
    Broker,
    Gateway,
}

fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("writing to stdout")
}

async fn run_until_signal(options: ServeOptions) -> anyhow::Result<()> {
    wait_for_signal(nexus_server::start(options).await?).await
}

async fn wait_for_signal(running: nexus_server::Running) -> anyhow::Result<()> {
    let shutdown = running.shutdown_handle();
    tokio::spawn(async move {
        listen::termination_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = shutdown.send(true);
    });
    running.wait().await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format, &cli.log);
    // One TLS crypto provider for every client in the process (see STACK.md).
    let _ = rustls::crypto::ring::default_provider().install_default();

    match cli.command {
        Command::Serve {
            common,
            broker_listen,
            gateway_listen,
            #[cfg(feature = "bench")]
            bench_baseline,
        } => {
            #[cfg(not(feature = "bench"))]
            let bench_baseline = false;
            run_until_signal(ServeOptions {
                common,
                broker_listen,
                gateway_listen: Some(gateway_listen),
                bench_baseline,
            })
            .await
        }
        Command::Broker { common, listen } => {
            run_until_signal(ServeOptions {
                common,
                broker_listen: listen,
                gateway_listen: None,
                bench_baseline: false,
            })
            .await
        }
        Command::Gateway {
            args,
            listen,
            metrics_listen,
        } => {
            let settings = args.resolve()?;
            wait_for_signal(nexus_server::start_gateway(settings, listen, metrics_listen).await?).await
        }
        Command::Healthcheck {
            gateway,
            broker_listen,
            gateway_listen,
            timeout_seconds,
        } => {
            let listen = if gateway { gateway_listen } else { broker_listen };
            let timeout = std::time::Duration::from_secs(timeout_seconds);
            match nexus_server::healthcheck::probe(listen, timeout).await {
                Ok(()) => Ok(()),
                Err(problem) => {
                    eprintln!("nexus healthcheck: {problem}");
                    std::process::exit(1)
                }
            }
        }
        Command::Migrate { common } => {
            let settings = common.resolve("127.0.0.1:8080".parse().context("address")?)?;
            let db = database::connect(&settings.database_url, settings.database_pool_size).await?;
            database::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Generate,
        } => print(&format!("{}\n", generate_key())),
        Command::Keys {
            command: KeysCommand::Rotate { common },
        } => {
            let settings = common.resolve("127.0.0.1:8080".parse().context("address")?)?;
            let db = database::connect(&settings.database_url, settings.database_pool_size).await?;
            database::migrate(&db).await?;
            let report = nexus_server::rotate_keys(settings, db).await?;
            print(&format!(
                "re-encrypted {} secrets; {} could not be opened by any configured key (see the log)\n",
                report.resealed, report.unreadable
            ))
        }
        Command::Providers { command } => match nexus_server::providers_as_code::run(command).await? {
            0 => Ok(()),
            status => std::process::exit(status),
        },
        #[cfg(feature = "bench")]
        Command::BenchSeed {
            common,
            provider,
            workspace_prefix,
            connections,
        } => {
            let settings = common.resolve("127.0.0.1:8080".parse().context("address")?)?;
            nexus_server::bench::seed(settings, &provider, &workspace_prefix, connections).await
        }
        Command::Openapi { api, out_dir } => match (api, out_dir) {
            (_, Some(dir)) => {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                for (file, spec) in [
                    ("broker.json", nexus_http::broker_spec()),
                    ("gateway.json", nexus_http::gateway_spec()),
                ] {
                    let path = dir.join(file);
                    std::fs::write(&path, spec).with_context(|| format!("writing {}", path.display()))?;
                }
                Ok(())
            }
            (Some(ApiName::Broker), None) => print(&nexus_http::broker_spec()),
            (Some(ApiName::Gateway), None) => print(&nexus_http::gateway_spec()),
            (None, None) => unreachable!("clap requires an API or --out-dir"),
        },
    }
}
