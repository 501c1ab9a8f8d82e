//! `auth-server`: serve (the default), migrate, create-admin, gen-secret.

use std::io::BufRead;

use anyhow::{Context, bail};
use auth_core::AdminOutcome;
use auth_domain::Password;
use auth_server::{
    settings::{AppEnv, Settings},
    startup,
    telemetry::{self, LogTo},
};
use clap::{Parser, Subcommand};

/// The authentication server. Settings: config/default.toml, config/{AUTH_ENV}.toml, then
/// AUTH__SECTION__KEY environment variables (see docs/operations.md).
#[derive(Parser)]
#[command(name = "auth-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an admin, or promote an existing user. The password of a new admin is read from
    /// the first line of standard input, never from the command line.
    CreateAdmin {
        /// The admin's username.
        #[arg(long)]
        username: String,
    },
    /// Print a new random HMAC secret for jwt.secret.
    GenSecret,
    /// Operator commands on users, for when there is no HTTP access.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Write a new key pair (PEM) for an asymmetric algorithm.
    GenKey {
        /// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA.
        #[arg(long)]
        algorithm: String,
        /// Folder for the two files (created if needed).
        #[arg(long, default_value = "data/keys")]
        out_dir: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// List every user.
    List,
    /// Disable a user: they can no longer log in, and their sessions and API keys stop working.
    Disable {
        /// The username.
        username: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::GenSecret) => {
            println!("{}", startup::generate_secret());
            return Ok(());
        }
        Some(Command::GenKey { algorithm, out_dir }) => return gen_key(algorithm, out_dir),
        _ => {}
    }
    let command = cli.command.unwrap_or(Command::Serve);
    telemetry::init(match command {
        Command::Serve => LogTo::Stdout,
        _ => LogTo::Stderr,
    });
    let env = AppEnv::from_env()?;
    let settings = Settings::load(env, &[])?;
    match command {
        Command::Serve => serve(settings, env),
        Command::Migrate => {
            let applied = auth_diesel::migrate(settings.database.url.expose())?;
            println!("{} migration(s) applied", applied.len());
            Ok(())
        }
        Command::CreateAdmin { username } => create_admin(settings, env, &username),
        Command::Users { command } => users(settings, env, command),
        Command::GenSecret | Command::GenKey { .. } => unreachable!("handled above"),
    }
}

fn gen_key(algorithm: &str, out_dir: &std::path::Path) -> anyhow::Result<()> {
    let algorithm = startup::parse_algorithm(algorithm)?;
    if auth_core::min_hmac_secret_len(algorithm).is_some() {
        bail!("{algorithm:?} uses a secret, not a key pair: run `auth-server gen-secret`");
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let (private, public) = startup::write_key_pair(algorithm, out_dir)?;
    println!(
        "private key (keep it secret, mode 0600): {}",
        private.display()
    );
    println!(
        "public key (give it to verifiers):        {}",
        public.display()
    );
    println!();
    println!("To sign with it:");
    println!("  AUTH__JWT__ALGORITHM={algorithm:?}");
    println!("  AUTH__JWT__PRIVATE_KEY_FILE={}", private.display());
    Ok(())
}

fn serve(settings: Settings, env: AppEnv) -> anyhow::Result<()> {
    let state = startup::build_state(&settings, env)?;
    actix_web::rt::System::new().block_on(async move {
        let (server, addrs) = startup::bind(&settings, state)?;
        for addr in addrs {
            tracing::info!(env = env.as_str(), "listening on http://{addr}");
        }
        server.await.context("server failed")
    })
}

fn users(settings: Settings, env: AppEnv, command: UsersCommand) -> anyhow::Result<()> {
    let service = startup::build_state(&settings, env)?.service;
    actix_web::rt::System::new().block_on(async move {
        match command {
            UsersCommand::List => {
                println!(
                    "{:<36}  {:<32}  {:<6}  {:<6}  {:<20}  email",
                    "id", "username", "role", "active", "created"
                );
                // Page by cursor: each page is one index range, however many users there are.
                let mut after = None;
                loop {
                    let query = auth_domain::UserQuery {
                        after,
                        limit: auth_core::MAX_PAGE,
                        ..Default::default()
                    };
                    let page = service
                        .list_users(query)
                        .await
                        .context("cannot list users")?;
                    for user in &page.items {
                        println!(
                            "{:<36}  {:<32}  {:<6}  {:<6}  {:<20}  {}",
                            user.id,
                            user.username,
                            user.role,
                            if user.is_active { "yes" } else { "no" },
                            user.created_at.format("%Y-%m-%d %H:%M:%S"),
                            user.email.as_ref().map_or("-", |e| e.as_str())
                        );
                    }
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                Ok(())
            }
            UsersCommand::Disable { username } => {
                let user = service
                    .user_by_username(&username)
                    .await
                    .with_context(|| format!("no user {username:?}"))?;
                service
                    .set_role_and_state(&auth_core::Actor::cli(), user.id, None, Some(false))
                    .await
                    .with_context(|| format!("cannot disable {username}"))?;
                println!(
                    "disabled {} ({}); their sessions and API keys no longer work",
                    user.username, user.id
                );
                Ok(())
            }
        }
    })
}

fn create_admin(settings: Settings, env: AppEnv, username: &str) -> anyhow::Result<()> {
    let state = startup::build_state(&settings, env)?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    actix_web::rt::System::new().block_on(async move {
        let (user, outcome) = state
            .service
            .ensure_admin(username, Password::new(password))
            .await
            .context("cannot create the admin")?;
        match outcome {
            AdminOutcome::Created => println!("created admin {} ({})", user.username, user.id),
            AdminOutcome::Promoted => println!(
                "promoted {} ({}) to admin; password unchanged",
                user.username, user.id
            ),
            AdminOutcome::AlreadyAdmin => {
                println!("{} ({}) is already an admin", user.username, user.id)
            }
        }
        Ok(())
    })
}
