//! `vigie telegram login`: signs the account in, interactively, and writes its session file.
//! The account's source (`[[telegram_channel]]`) is `vigie_telegram::source::LiveChannels`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use vigie_telegram::live::LiveSource;

use crate::config::{Config, TelegramConfig};
use crate::Outcome;

fn api_id(t: &TelegramConfig) -> Result<i32> {
    Ok(t.api_id()?)
}

fn session_path(t: &TelegramConfig, store_dir: &Path) -> PathBuf {
    t.session_path(store_dir)
}

/// The account's runtime: one thread, driving the connection, the updates stream and the
/// collector's calls together.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the Telegram runtime")
}

/// `vigie telegram login`: interactive; the session file is written 0600.
pub fn login(config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let Some(t) = &config.telegram else {
        bail!("no [telegram] section in the config (api_id, api_hash_env)");
    };
    let id = api_id(t)?;
    let hash = std::env::var(&t.api_hash_env).with_context(|| {
        format!(
            "the api_hash is read from ${}, which is not set",
            t.api_hash_env
        )
    })?;
    let dir = config.store_dir(store_flag);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = session_path(t, &dir);
    let rt = runtime()?;
    rt.block_on(async {
        let source = LiveSource::connect(&path, id)?;
        if source.is_authorized().await? {
            println!("already signed in (session {})", path.display());
            return Ok(Outcome::Success);
        }
        let name = source
            .login(&hash, |question, secret| {
                if secret {
                    rpassword::prompt_password(question)
                } else {
                    print!("{question}");
                    std::io::stdout().flush()?;
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    Ok(line)
                }
            })
            .await?;
        println!(
            "signed in as {name}; session saved to {} (mode 0600)",
            path.display()
        );
        Ok(Outcome::Success)
    })
}
