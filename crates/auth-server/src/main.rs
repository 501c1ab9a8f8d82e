//! `auth-server`: serve (the default), migrate, create-admin, prune, users, gen-secret,
//! gen-key, import-users.

use std::{
    io::{BufRead, IsTerminal},
    process::ExitCode,
    sync::OnceLock,
};

use anyhow::{Context, bail};
use auth_core::AuthError;
use auth_domain::Password;
use auth_server::{
    cli,
    import::{ImportOptions, import_users},
    mail::{self, MailDelivery},
    prune,
    settings::{AppEnv, LogFormat, Settings},
    startup,
    telemetry::{self, LogTo},
};
use clap::{Parser, Subcommand};

/// The authentication server.
#[derive(Parser)]
#[command(name = "auth-server", version, about, after_help = cli::SETTINGS_HELP)]
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
    /// Create a new admin account; fails (exit status 1) if the name is taken: promoting an
    /// existing account is `users promote`. The password is read from the first line of
    /// standard input (asked for, unechoed, in a terminal), never from the command line.
    CreateAdmin {
        /// The admin's username.
        #[arg(long)]
        username: String,
    },
    /// Remove what is past its use (ended sessions and their refresh tokens, decayed
    /// login-throttle rows, old audit events) and print how many rows of each table.
    Prune,
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
    /// Import users from another application's SQLite or PostgreSQL database, read-only. bcrypt
    /// hashes are kept, so users log in with their old passwords. Refused rows are counted and
    /// named; running it again imports nothing twice. Exit status 3 when a name is held by an
    /// account no import created (a conflict). See docs/migrating-from-fastapi.md.
    ImportUsers {
        /// The source: sqlite://PATH or postgres://USER@HOST/DB (a password may come from
        /// PGPASSWORD instead of the URL, to keep it off the command line).
        #[arg(long, value_name = "DATABASE_URL")]
        from: String,
        /// The table of users.
        #[arg(long, default_value = "users")]
        table: String,
        /// The column of usernames.
        #[arg(long, default_value = "username")]
        username_column: String,
        /// The column of bcrypt password hashes.
        #[arg(long, default_value = "password")]
        password_column: String,
        /// The column of emails (default: none).
        #[arg(long, value_name = "NAME")]
        email_column: Option<String>,
        /// The column of roles, `admin` or `user` (default: `role` if the table has one).
        #[arg(long, value_name = "NAME")]
        role_column: Option<String>,
        /// Report what would be imported, without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Replace the hash of each account imported earlier whose hash changed in the source
        /// since, unless its password was changed here: as a password change (its sessions and
        /// API keys end). Run it at cut-over.
        #[arg(long)]
        update_hashes: bool,
        /// Mark the imported emails verified (the source confirmed them); by default they are
        /// not, and their owners verify them with a link.
        #[arg(long)]
        emails_verified: bool,
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
    /// Make an existing account an admin (and active), its password unchanged; prints its id,
    /// creation time and last login so that you can check it is the account you mean.
    Promote {
        /// The username.
        username: String,
    },
}

/// Whether the log is JSON, so that a fatal error is logged as JSON too.
static JSON_LOG: OnceLock<bool> = OnceLock::new();

/// A run that completed and said what it did, but ends with this exit status (import-users: 3
/// when a name is held by an account no import created).
#[derive(Debug)]
struct ExitStatus(u8);

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for ExitStatus {}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.downcast_ref::<ExitStatus>().is_some() => ExitCode::from(
            error
                .downcast_ref::<ExitStatus>()
                .map_or(1, |status| status.0),
        ),
        Err(error) => {
            if JSON_LOG.get() == Some(&true) {
                tracing::error!(error = format!("{error:#}"), "auth-server failed");
            } else {
                eprintln!("{}", cli::error_text(&error));
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Some(Command::GenSecret) => {
            println!("{}", startup::generate_secret());
            return Ok(());
        }
        Some(Command::GenKey { algorithm, out_dir }) => return gen_key(algorithm, out_dir),
        _ => {}
    }
    let command = cli.command.unwrap_or(Command::Serve);
    let env = AppEnv::from_env()?;
    // Read before logging starts, since the log's format is one of them: a refusal is printed.
    let settings = Settings::load(env, &[])?;
    let to = match command {
        Command::Serve => LogTo::Stdout,
        _ => LogTo::Stderr,
    };
    telemetry::init(to, settings.log.format);
    let _ = JSON_LOG.set(settings.log.format == LogFormat::Json);
    let overlay = settings
        .overlay
        .as_ref()
        .map_or_else(|| "none".to_owned(), |path| path.display().to_string());
    tracing::info!(
        env = env.as_str(),
        overlay,
        "settings loaded (overlay file: {overlay})"
    );
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    match command {
        Command::Serve => serve(settings, env),
        Command::Migrate => {
            let applied = auth_diesel::migrate(settings.database.url.expose())?;
            println!("{} migration(s) applied", applied.len());
            Ok(())
        }
        Command::CreateAdmin { username } => create_admin(settings, env, &username),
        Command::Prune => {
            let service = startup::build_state(&settings, env)?.service;
            let said = actix_web::rt::System::new()
                .block_on(prune::prune_once(&service, &settings))
                .context("cannot prune")?;
            print!("{said}");
            Ok(())
        }
        Command::Users { command } => users(settings, env, command),
        Command::ImportUsers {
            from,
            table,
            username_column,
            password_column,
            email_column,
            role_column,
            dry_run,
            update_hashes,
            emails_verified,
        } => {
            let options = ImportOptions {
                from,
                table: auth_diesel::source::SourceTable {
                    table,
                    username: username_column,
                    password: password_column,
                    email: email_column,
                    role: Some(role_column.clone().unwrap_or_else(|| "role".into())),
                },
                role_given: role_column.is_some(),
                dry_run,
                update_hashes,
                emails_verified,
            };
            import(settings, env, &options)
        }
        Command::GenSecret | Command::GenKey { .. } => unreachable!("handled above"),
    }
}

fn gen_key(algorithm: &str, out_dir: &std::path::Path) -> anyhow::Result<()> {
    let algorithm = startup::parse_algorithm(algorithm)?;
    if auth_core::min_hmac_secret_len(algorithm).is_some() {
        bail!("{algorithm:?} uses a secret, not a key pair: run `auth-server gen-secret`");
    }
    startup::create_private_dir(out_dir)
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
    let mail = std::sync::Arc::new(MailDelivery::start(&settings, env, state.metrics())?);
    let service = state.service.clone();
    // Before the routes are mounted (their OpenAPI document says whether mail is on); the
    // links get their base once the address is known.
    let configured = std::net::SocketAddr::from(([127, 0, 0, 1], settings.server.port));
    service.send_mail_with(mail.setup(&settings, mail::link_base(&settings, configured)));
    actix_web::rt::System::new().block_on(async move {
        let (server, addrs) = startup::bind(&settings, state)?;
        for addr in &addrs {
            tracing::info!(env = env.as_str(), "listening on http://{addr}");
        }
        if let Some(addr) = addrs.first().filter(|_| mail.enabled()) {
            mail::log_link_base(&settings, env, *addr);
            service.send_mail_with(mail.setup(&settings, mail::link_base(&settings, *addr)));
        }
        prune::schedule(service, &settings);
        let served = server.await.context("server failed");
        let draining = mail.clone();
        let _ = actix_web::rt::task::spawn_blocking(move || draining.shutdown()).await;
        served?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn import(settings: Settings, env: AppEnv, options: &ImportOptions) -> anyhow::Result<()> {
    let service = startup::build_state(&settings, env)?.service;
    actix_web::rt::System::new().block_on(async move {
        let report = import_users(&service, options, &mut std::io::stdout().lock()).await?;
        if !report.conflict.is_empty() {
            eprintln!(
                "{} name(s) held by an account that no import created (see conflict above): \
                 those users were not imported; check each account (`auth-server users list`)",
                report.conflict.len()
            );
            return Err(ExitStatus(3).into());
        }
        Ok(())
    })
}

fn users(settings: Settings, env: AppEnv, command: UsersCommand) -> anyhow::Result<()> {
    let service = startup::build_state(&settings, env)?.service;
    actix_web::rt::System::new().block_on(async move {
        match command {
            UsersCommand::List => {
                let mut users = Vec::new();
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
                    users.extend(page.items);
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                print!("{}", cli::users_table(&users));
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
            UsersCommand::Promote { username } => {
                let (user, outcome) =
                    service
                        .promote_admin(&username)
                        .await
                        .map_err(|e| match e {
                            AuthError::NotFound => anyhow::anyhow!("no user {username:?}"),
                            e => {
                                anyhow::Error::new(e).context(format!("cannot promote {username}"))
                            }
                        })?;
                let last_login = service
                    .last_login(user.id)
                    .await
                    .context("cannot read the account's sessions")?;
                print!("{}", cli::promoted(&user, outcome, last_login));
                Ok(())
            }
        }
    })
}

fn create_admin(settings: Settings, env: AppEnv, username: &str) -> anyhow::Result<()> {
    let state = startup::build_state(&settings, env)?;
    actix_web::rt::System::new().block_on(async move {
        // Only ever a new account: a name someone else may have registered is never promoted
        // here (checked again, atomically, when the account is created).
        let taken = || {
            anyhow::anyhow!(
                "the username {username} is taken: create-admin only creates new accounts, so \
                 no admin was created. If that account is yours, check it (`auth-server users \
                 list`) and promote it with `auth-server users promote {username}`"
            )
        };
        match state.service.user_by_username(username).await {
            Ok(_) => return Err(taken()),
            Err(AuthError::NotFound) => {}
            Err(e) => return Err(e).context("cannot create the admin"),
        }
        let password = Password::new(new_admin_password(username)?);
        let user = match state.service.create_admin(username, password).await {
            Err(AuthError::UsernameTaken) => return Err(taken()),
            other => other.context("cannot create the admin")?,
        };
        println!("created admin {} ({})", user.username, user.id);
        Ok(())
    })
}

/// A new admin's password: asked for twice, unechoed, in a terminal; otherwise the first line
/// of standard input, which must be there.
fn new_admin_password(username: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for the new admin {username}: "))
            .context("cannot read the password from the terminal")?;
        let again = rpassword::prompt_password("The same password again: ")
            .context("cannot read the password from the terminal")?;
        if first != again {
            bail!("the two passwords differ; no admin was created");
        }
        return Ok(first);
    }
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    if read == 0 {
        bail!(
            "no password on standard input: create-admin reads the new admin's password from \
             the first line of standard input, e.g. printf '%s\\n' \"$ADMIN_PASSWORD\" | \
             auth-server create-admin --username {username} (run in a terminal, it asks for it)"
        );
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
