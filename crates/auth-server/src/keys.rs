//! Keys and secrets from the settings: the JWT signing and verify-only keys, the HMAC secret and
//! the MFA key (generated once into `data/` outside production), and the private files and
//! folders they live in.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::{Context, bail};
use auth_core::{Algorithm, JwtKey, MfaKey, TokenKeys, generate_key_pair, min_hmac_secret_len};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::settings::{
    AppEnv, MIN_HMAC_SECRET_BITS, Settings, estimated_bits, hmac_secret_weakness,
};

/// A new random HMAC secret: 64 random bytes, base64url (enough for HS512).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).expect("the operating system has no randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Parses an algorithm name, refusing those we do not support.
pub fn parse_algorithm(name: &str) -> anyhow::Result<Algorithm> {
    let algorithm = Algorithm::from_str(name)
        .ok()
        .filter(|a| auth_core::SUPPORTED_ALGORITHMS.contains(a));
    algorithm.ok_or_else(|| {
        anyhow::anyhow!(
            "unsupported algorithm {name:?}: use HS256, HS384, HS512, RS256, RS384, RS512, \
             PS256, PS384, PS512, ES256, ES384 or EdDSA"
        )
    })
}

fn is_hmac(algorithm: Algorithm) -> bool {
    min_hmac_secret_len(algorithm).is_some()
}

fn read_pem(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Refuses a secret or private-key file that its group or others may read or write: whoever
/// can read it can sign tokens (or unseal TOTP secrets), whoever can write it can swap it. The
/// message names the file and the fix, never the contents. Files the server generates are
/// created 0600, so only a file someone made by hand (or copied with a loose umask) is refused.
/// Unix only: elsewhere there are no such mode bits.
pub fn refuse_loose_permissions(path: &Path, what: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .with_context(|| format!("cannot read {what} {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "{what} {} is open to other users (mode {:03o}): it holds a secret, so only its \
                 owner may read or write it; run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}

/// The key in the PEM files. A refusal names the file, and what it holds when that is another
/// kind of key (an EC key given for RS256).
fn asymmetric_key(
    algorithm: Algorithm,
    private: Option<&Path>,
    public: Option<&Path>,
    what: &str,
) -> anyhow::Result<JwtKey> {
    let read = |path: Option<&Path>, role: &str| -> anyhow::Result<_> {
        let Some(path) = path else { return Ok(None) };
        if role == "private_key_file" {
            refuse_loose_permissions(path, &format!("{what}.{role}"))?;
        }
        let pem = read_pem(path, &format!("{what}.{role}"))?;
        if let Some(why) =
            crate::keyfile::mismatch(&format!("{what}.{role}"), path, &pem, algorithm)
        {
            bail!(why);
        }
        Ok(Some(pem))
    };
    let private_pem = read(private, "private_key_file")?;
    let public_pem = read(public, "public_key_file")?;
    JwtKey::from_pem(algorithm, private_pem.as_deref(), public_pem.as_deref()).with_context(|| {
        let files: Vec<String> = [private, public]
            .into_iter()
            .flatten()
            .map(|p| p.display().to_string())
            .collect();
        format!(
            "{what}: unusable {algorithm:?} key in {}",
            files.join(" and ")
        )
    })
}

/// The HMAC key for `secret`: long enough for `algorithm` everywhere, and in production hard
/// to guess ([`hmac_secret_weakness`]); elsewhere a guessable secret only warns.
fn hmac_key(
    algorithm: Algorithm,
    secret: &[u8],
    what: &str,
    env: AppEnv,
) -> anyhow::Result<JwtKey> {
    let key = JwtKey::hmac(algorithm, secret).with_context(|| {
        format!(
            "{what} is too short for {algorithm:?}: use at least {} random bytes \
             (`auth-server gen-secret`)",
            min_hmac_secret_len(algorithm).unwrap_or_default()
        )
    })?;
    if let Some(weakness) = hmac_secret_weakness(&String::from_utf8_lossy(secret)) {
        if env == AppEnv::Production {
            bail!("{what} {weakness}");
        }
        tracing::warn!("{what} {weakness}; production would refuse it");
    }
    Ok(key)
}

/// The HMAC secret: `jwt.secret`, or (outside production) the one kept in `jwt.secret_file`,
/// generated there with mode 0600 on first start.
fn hmac_secret(settings: &Settings, env: AppEnv) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt.secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    if env == AppEnv::Production {
        bail!(
            "jwt.secret is required in production: set AUTH__JWT__SECRET \
             (`auth-server gen-secret` prints a strong one)"
        );
    }
    let path = &settings.jwt.secret_file;
    if path.exists() {
        refuse_loose_permissions(path, "the JWT secret file (jwt.secret_file)")?;
        let secret = fs::read_to_string(path)
            .with_context(|| format!("cannot read the JWT secret file {}", path.display()))?;
        return Ok(secret.trim().as_bytes().to_vec());
    }
    let secret = generate_secret();
    write_private_file(path, &secret)
        .with_context(|| format!("cannot write the JWT secret file {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "generated a new JWT signing secret; set jwt.secret (AUTH__JWT__SECRET) in production"
    );
    Ok(secret.into_bytes())
}

/// The key that seals TOTP secrets: `mfa.encryption_key`, or (outside production) the one kept
/// in `mfa.encryption_key_file`, generated there with mode 0600 on first start. In production
/// the key is required and must not be guessable.
pub fn mfa_key(settings: &Settings, env: AppEnv) -> anyhow::Result<MfaKey> {
    const WHAT: &str = "mfa.encryption_key (AUTH__MFA__ENCRYPTION_KEY)";
    let malformed = || anyhow::anyhow!("{WHAT} must be 64 hexadecimal digits");
    if let Some(key) = &settings.mfa.encryption_key {
        let bits = estimated_bits(key.expose());
        if bits < MIN_HMAC_SECRET_BITS {
            let weakness = format!(
                "is too guessable: zxcvbn estimates about {bits:.0} bits, at least \
                 {MIN_HMAC_SECRET_BITS:.0} are needed; use 64 random hexadecimal digits \
                 (`openssl rand -hex 32`)"
            );
            if env == AppEnv::Production {
                bail!("{WHAT} {weakness}");
            }
            tracing::warn!("{WHAT} {weakness}; production would refuse it");
        }
        return MfaKey::from_hex(key.expose()).map_err(|_| malformed());
    }
    if env == AppEnv::Production {
        bail!(
            "{WHAT} is required in production: set it to 64 random hexadecimal digits \
             (`openssl rand -hex 32`); it seals the TOTP secrets in the database"
        );
    }
    let path = &settings.mfa.encryption_key_file;
    if path.exists() {
        refuse_loose_permissions(path, "the MFA key file (mfa.encryption_key_file)")?;
        let hex = fs::read_to_string(path)
            .with_context(|| format!("cannot read the MFA key file {}", path.display()))?;
        return MfaKey::from_hex(&hex).map_err(|_| {
            anyhow::anyhow!(
                "the MFA key file {} must hold 64 hexadecimal digits",
                path.display()
            )
        });
    }
    let hex = MfaKey::generate_hex();
    write_private_file(path, &hex)
        .with_context(|| format!("cannot write the MFA key file {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "generated a new MFA encryption key; set mfa.encryption_key (AUTH__MFA__ENCRYPTION_KEY) in production"
    );
    MfaKey::from_hex(&hex).map_err(|_| malformed())
}

/// Creates `dir` and any missing parents with mode 0700 (owner only); folders that already
/// exist keep their mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` (and its folder, 0700) readable by its owner only.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// The keys from the settings: the signing key (`jwt.algorithm` with `jwt.secret` or the key
/// files), the verify-only keys of `jwt.keys`, `iss`, `aud` and the leeway. `kid`s must be
/// unique.
pub fn token_keys(settings: &Settings, env: AppEnv) -> anyhow::Result<TokenKeys> {
    let jwt = &settings.jwt;
    let algorithm = parse_algorithm(&jwt.algorithm).context("jwt.algorithm")?;
    let signing = if is_hmac(algorithm) {
        hmac_key(algorithm, &hmac_secret(settings, env)?, "jwt.secret", env)?
    } else {
        let private = jwt.private_key_file.as_deref().with_context(|| {
            format!(
                "jwt.algorithm {} needs jwt.private_key_file \
                 (`auth-server gen-key --algorithm {}` writes one)",
                jwt.algorithm, jwt.algorithm
            )
        })?;
        asymmetric_key(
            algorithm,
            Some(private),
            jwt.public_key_file.as_deref(),
            "jwt",
        )?
    };
    let mut verify_only = Vec::new();
    for (index, extra) in jwt.keys.iter().enumerate() {
        let what = format!("jwt.keys[{index}]");
        if extra.verify_only == Some(false) {
            bail!(
                "{what}: only the key of jwt.algorithm signs; to sign with this key, make it the \
                 jwt.algorithm key and list the old one here (see docs/keys.md)"
            );
        }
        let algorithm = parse_algorithm(&extra.algorithm).with_context(|| what.clone())?;
        let key = if is_hmac(algorithm) {
            let secret = extra
                .secret
                .as_ref()
                .with_context(|| format!("{what}: an {algorithm:?} key needs a secret"))?;
            hmac_key(
                algorithm,
                secret.expose().as_bytes(),
                &format!("{what}.secret"),
                env,
            )?
        } else {
            asymmetric_key(
                algorithm,
                extra.private_key_file.as_deref(),
                extra.public_key_file.as_deref(),
                &what,
            )?
        };
        let key = match &extra.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        };
        verify_only.push(key.verify_only());
    }
    let mut kids: Vec<&str> = std::iter::once(&signing)
        .chain(&verify_only)
        .map(JwtKey::kid)
        .collect();
    kids.sort_unstable();
    if let Some(pair) = kids.windows(2).find(|pair| pair[0] == pair[1]) {
        bail!(
            "two jwt keys have the kid {:?}; kids must be unique",
            pair[0]
        );
    }
    Ok(TokenKeys::new(signing, &jwt.issuer, &jwt.audience)
        .context("jwt: the signing key cannot sign")?
        .with_verify_only(verify_only)
        .with_leeway(jwt.leeway_secs))
}

/// Writes a new key pair for `algorithm` into `dir`; returns the private and public paths.
pub fn write_key_pair(algorithm: Algorithm, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let pair = generate_key_pair(algorithm)?;
    let key = JwtKey::from_pem(algorithm, Some(pair.private_pem.as_bytes()), None)?;
    let stem = format!(
        "{}-{}",
        format!("{algorithm:?}").to_ascii_lowercase(),
        &key.kid()[..8.min(key.kid().len())]
    );
    let private = dir.join(format!("{stem}.private.pem"));
    let public = dir.join(format!("{stem}.public.pem"));
    write_private_file(&private, &pair.private_pem)
        .with_context(|| format!("cannot write {}", private.display()))?;
    fs::write(&public, &pair.public_pem)
        .with_context(|| format!("cannot write {}", public.display()))?;
    Ok((private, public))
}
