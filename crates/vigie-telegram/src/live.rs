//! The thin adapter to Telegram's MTProto API through `grammers-client`: login, the session
//! file, the four calls of [`TelegramSource`], and the updates stream. Everything it receives goes through the
//! pure conversions of [`crate::tl`]; everything it decides is in [`crate::collector`]. No test
//! talks to Telegram: this file is kept to calls and error mapping.
// Reads Telegram's answers: no arithmetic or slicing may panic.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use grammers_client::session::storages::MemorySession;
use grammers_client::session::types::DcOption;
use grammers_client::session::{Session, SessionData};
use grammers_client::{tl, Client, InvocationError, SenderPool, SignInError};
use grammers_mtsender::{ConnectionParams, NoRetries, UpdatesConfiguration};
use grammers_session::updates::UpdatesLike;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::collector::{PeerRef, SourceError, SourceMessage, TelegramSource};
use crate::tl::{convert_history, convert_update, history_parts, ChannelUpdate, RemoteDocument};
use crate::TelegramError;

/// What Vigie persists of a grammers session: the home data centre and the data-centre
/// options with their authorisation keys. Written with mode 0600, never logged.
#[derive(Serialize, Deserialize)]
struct SavedSession {
    home_dc: i32,
    dc_options: Vec<DcOption>,
}

/// A connected client and where its session lives.
pub struct LiveSource {
    client: Client,
    session: Arc<MemorySession>,
    path: PathBuf,
    updates: Option<mpsc::Receiver<UpdatesLike>>,
}

/// Updates waiting for the run loop at most; beyond, they are dropped with a warning (the
/// next history read fills in).
const UPDATE_QUEUE: usize = 10_000;

fn load_session(path: &Path) -> Result<MemorySession, TelegramError> {
    let mut data = SessionData::default();
    match std::fs::read(path) {
        Ok(bytes) => {
            // A file made by hand or copied in with a wider mode: the keys are the account's.
            make_private(path)
                .map_err(|e| TelegramError::Session(format!("{}: {e}", path.display())))?;
            let saved: SavedSession = serde_json::from_slice(&bytes).map_err(|e| {
                TelegramError::Session(format!("{}: not a Vigie session file: {e}", path.display()))
            })?;
            data.home_dc = saved.home_dc;
            for dc in saved.dc_options {
                data.dc_options.insert(dc.id, dc);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(TelegramError::Session(format!("{}: {e}", path.display()))),
    }
    Ok(MemorySession::from(data))
}

impl LiveSource {
    /// Connects with the session at `path` (created at the first login). Must run inside a
    /// tokio runtime: the connection's I/O task is spawned on it.
    pub fn connect(path: &Path, api_id: i32) -> Result<LiveSource, TelegramError> {
        let session = Arc::new(load_session(path)?);
        // No automatic retries: every FLOOD_WAIT reaches the collector, which logs it and
        // honours it under the account's budget (grammers would otherwise sleep through
        // waits under a minute silently).
        let params = ConnectionParams {
            retry_policy: Box::new(NoRetries),
            ..ConnectionParams::default()
        };
        let pool = SenderPool::with_configuration(Arc::clone(&session), api_id, params);
        let client = Client::new(pool.handle);
        tokio::spawn(pool.runner.run());
        Ok(LiveSource {
            client,
            session,
            path: path.to_path_buf(),
            updates: Some(pool.updates),
        })
    }

    /// Follows the updates stream: a task on the current runtime turns each update about a
    /// channel into a [`ChannelUpdate`] on the returned queue. Updates sent while Vigie was
    /// offline are not replayed; the collector's history read fills that gap.
    pub async fn follow_updates(
        &mut self,
    ) -> Result<mpsc::Receiver<(i64, ChannelUpdate)>, TelegramError> {
        let raw = self.updates.take().ok_or_else(|| {
            TelegramError::Session("the updates stream is already followed".into())
        })?;
        let mut stream = self
            .client
            .stream_updates(raw, UpdatesConfiguration { catch_up: false })
            .await
            .map_err(|e| TelegramError::Api(format!("updates stream: {e}")))?;
        let (tx, rx) = mpsc::channel(UPDATE_QUEUE);
        tokio::spawn(async move {
            loop {
                match stream.next_raw().await {
                    Ok((update, _, peers)) => {
                        // Channel usernames (or titles) of the update's peers, for forwards.
                        let names: HashMap<i64, String> = peers
                            .iter_peers()
                            .filter_map(|p| match p {
                                grammers_client::peer::Peer::Channel(c) => Some((
                                    c.id().bare_id_unchecked(),
                                    c.username().unwrap_or(c.title()).to_string(),
                                )),
                                _ => None,
                            })
                            .collect();
                        let Some(event) = convert_update(&update, &names) else {
                            continue;
                        };
                        match tx.try_send(event) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                warn!("update queue full; the next history read fills in")
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => return,
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "updates stream interrupted; history fills the gap");
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    }
                }
            }
        });
        Ok(rx)
    }

    /// Whether the session is signed in.
    pub async fn is_authorized(&self) -> Result<bool, TelegramError> {
        self.client.is_authorized().await.map_err(rpc_error)
    }

    /// Writes the session file (mode 0600, replaced atomically).
    pub fn save_session(&self) -> Result<(), TelegramError> {
        let err = |e: String| TelegramError::Session(format!("{}: {e}", self.path.display()));
        let home_dc = self.session.home_dc_id().map_err(|e| err(e.to_string()))?;
        let mut dc_options = Vec::new();
        for id in 1..=5 {
            if let Some(dc) = self.session.dc_option(id).map_err(|e| err(e.to_string()))? {
                dc_options.push(dc);
            }
        }
        let bytes = serde_json::to_vec(&SavedSession {
            home_dc,
            dc_options,
        })
        .map_err(|e| err(e.to_string()))?;
        let tmp = self.path.with_extension("tmp");
        write_private(&tmp, &bytes).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| err(e.to_string()))
    }

    /// Interactive login: phone, the code Telegram sends, and the 2FA password if set.
    /// `ask(question, secret)` reads an answer from the operator. Returns the account's name.
    pub async fn login(
        &self,
        api_hash: &str,
        mut ask: impl FnMut(&str, bool) -> std::io::Result<String>,
    ) -> Result<String, TelegramError> {
        let io = |e: std::io::Error| TelegramError::Session(e.to_string());
        let phone = ask("Phone number (international format): ", false).map_err(io)?;
        let token = self
            .client
            .request_login_code(phone.trim(), api_hash)
            .await
            .map_err(rpc_error)?;
        let code = ask("Code Telegram sent: ", false).map_err(io)?;
        let user = match self.client.sign_in(&token, code.trim()).await {
            Ok(user) => user,
            Err(SignInError::PasswordRequired(password)) => {
                let question = match password.hint() {
                    Some(h) => format!("Two-step password (hint: {h}): "),
                    None => "Two-step password: ".to_string(),
                };
                let pw = ask(&question, true).map_err(io)?;
                self.client
                    .check_password(password, pw.trim())
                    .await
                    .map_err(|e| TelegramError::Session(format!("sign-in refused: {e}")))?
            }
            Err(e) => return Err(TelegramError::Session(format!("sign-in refused: {e}"))),
        };
        self.save_session()?;
        let name = user.first_name().unwrap_or("account").to_string();
        info!("signed in; session saved");
        Ok(name)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies to a new file only: a leftover one keeps its own until set here.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Mode 0600 on an existing file, when it allows more.
#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        warn!(path = %path.display(), "session file was readable by others; mode set to 0600");
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// `GetHistory`'s (offset_id, add_offset, limit, min_id) for the `limit` messages just above
/// `after`: offset at it, pulled forward by `limit`. `None` when no id can be above `after`
/// (ids are `i32`; a checkpoint at the top must not wrap to the bottom).
fn after_window(after: i64, limit: usize) -> Option<(i32, i32, i32, i32)> {
    let limit = i32::try_from(limit.min(100)).ok()?;
    let after = i32::try_from(after.max(0)).ok()?;
    Some((after.checked_add(1)?, limit.checked_neg()?, limit, after))
}

fn rpc_error(e: InvocationError) -> TelegramError {
    TelegramError::Api(e.to_string())
}

/// Maps a client error to what the collector should do.
pub fn source_error(e: InvocationError) -> SourceError {
    match &e {
        InvocationError::Rpc(rpc) if rpc.code == 420 => SourceError::FloodWait(
            std::time::Duration::from_secs(u64::from(rpc.value.unwrap_or(60))),
        ),
        InvocationError::Rpc(rpc)
            if matches!(
                rpc.name.as_str(),
                "CHANNEL_INVALID" | "PEER_ID_INVALID" | "CHANNEL_ID_INVALID"
            ) =>
        {
            SourceError::PeerInvalid(rpc.name.clone())
        }
        InvocationError::Rpc(rpc) if rpc.code >= 500 => SourceError::Transient(e.to_string()),
        InvocationError::Rpc(_) => SourceError::Fatal(e.to_string()),
        _ => SourceError::Transient(e.to_string()),
    }
}

fn input_peer(peer: PeerRef) -> tl::enums::InputPeer {
    tl::enums::InputPeer::Channel(tl::types::InputPeerChannel {
        channel_id: peer.id,
        access_hash: peer.access_hash,
    })
}

fn channel_ref(chats: &[tl::enums::Chat], id: Option<i64>) -> Option<PeerRef> {
    chats.iter().find_map(|c| match c {
        tl::enums::Chat::Channel(ch) if id.is_none_or(|i| i == ch.id) => Some(PeerRef {
            id: ch.id,
            access_hash: ch.access_hash.unwrap_or(0),
        }),
        _ => None,
    })
}

/// The invite hash of `https://t.me/+HASH` or `https://t.me/joinchat/HASH`.
pub fn invite_hash(spec: &str) -> Option<&str> {
    let rest = spec
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .strip_prefix("t.me/")?;
    rest.strip_prefix('+')
        .or_else(|| rest.strip_prefix("joinchat/"))
        .filter(|h| !h.is_empty())
}

impl LiveSource {
    /// Caches channels seen in an answer in the session: the updates stream needs them to
    /// resolve its own gaps (`updates.getChannelDifference`). Costs no call.
    async fn remember(&self, chats: &[tl::enums::Chat]) {
        for chat in chats {
            if let Err(e) = self
                .session
                .cache_peer(grammers_session::types::PeerInfo::from(chat))
                .await
            {
                warn!(error = %e, "could not cache a channel in the session");
            }
        }
    }

    async fn history(
        &self,
        peer: PeerRef,
        offset_id: i32,
        add_offset: i32,
        limit: i32,
        min_id: i32,
    ) -> Result<Vec<SourceMessage>, SourceError> {
        let raw = self
            .client
            .invoke(&tl::functions::messages::GetHistory {
                peer: input_peer(peer),
                offset_id,
                offset_date: 0,
                add_offset,
                limit,
                max_id: 0,
                min_id,
                hash: 0,
            })
            .await
            .map_err(source_error)?;
        self.remember(history_parts(&raw).1).await;
        let channel = format!("channel:{}", peer.id);
        Ok(convert_history(&channel, &raw))
    }
}

impl TelegramSource for LiveSource {
    async fn resolve(&mut self, spec: &str) -> Result<PeerRef, SourceError> {
        if let Some(hash) = invite_hash(spec) {
            let invite = self
                .client
                .invoke(&tl::functions::messages::CheckChatInvite {
                    hash: hash.to_string(),
                })
                .await
                .map_err(source_error)?;
            return match invite {
                tl::enums::ChatInvite::Already(a) => {
                    self.remember(std::slice::from_ref(&a.chat)).await;
                    channel_ref(std::slice::from_ref(&a.chat), None)
                        .ok_or_else(|| SourceError::Fatal("the invite is not for a channel".into()))
                }
                _ => Err(SourceError::Fatal(
                    "this account is not a member: join the channel with it first".into(),
                )),
            };
        }
        let username = spec.trim_start_matches('@');
        let resolved = self
            .client
            .invoke(&tl::functions::contacts::ResolveUsername {
                username: username.to_string(),
                referer: None,
            })
            .await
            .map_err(source_error)?;
        let tl::enums::contacts::ResolvedPeer::Peer(r) = resolved;
        self.remember(&r.chats).await;
        let id = match r.peer {
            tl::enums::Peer::Channel(c) => Some(c.channel_id),
            _ => return Err(SourceError::Fatal(format!("@{username} is not a channel"))),
        };
        channel_ref(&r.chats, id)
            .ok_or_else(|| SourceError::Fatal(format!("@{username} not found")))
    }

    async fn before(
        &mut self,
        peer: PeerRef,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SourceMessage>, SourceError> {
        // offset_id: messages below it (0: from the newest).
        let offset = before.map_or(0, |b| i32::try_from(b).unwrap_or(i32::MAX));
        self.history(peer, offset, 0, limit.min(100) as i32, 0)
            .await
    }

    async fn after(
        &mut self,
        peer: PeerRef,
        after: i64,
        limit: usize,
    ) -> Result<Vec<SourceMessage>, SourceError> {
        let Some((offset, add_offset, limit, min_id)) = after_window(after, limit) else {
            return Ok(Vec::new());
        };
        self.history(peer, offset, add_offset, limit, min_id).await
    }

    async fn download(
        &mut self,
        document: &RemoteDocument,
        cap: u64,
    ) -> Result<(Vec<u8>, bool), SourceError> {
        let Some(media) = document.media.clone() else {
            return Err(SourceError::Fatal("no downloadable media".into()));
        };
        let doc = grammers_client::media::Document::from_raw_media(media);
        let mut chunks = self.client.iter_download(&doc);
        let mut bytes = Vec::new();
        while let Some(chunk) = chunks.next().await.map_err(source_error)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 >= cap {
                bytes.truncate(cap as usize);
                return Ok((bytes, true));
            }
        }
        Ok((bytes, false))
    }
}

/// Channel names by id, for messages converted with numeric channel labels.
pub type ChannelNames = HashMap<i64, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_links_and_errors_are_classified() {
        assert_eq!(invite_hash("https://t.me/+AbCdEf123"), Some("AbCdEf123"));
        assert_eq!(invite_hash("t.me/joinchat/XyZ"), Some("XyZ"));
        assert_eq!(invite_hash("medleaks"), None);
        assert_eq!(invite_hash("https://t.me/medleaks"), None);
        let flood = InvocationError::Rpc(grammers_client::sender::RpcError {
            code: 420,
            name: "FLOOD_WAIT".into(),
            value: Some(37),
            caused_by: None,
        });
        assert_eq!(
            source_error(flood),
            SourceError::FloodWait(std::time::Duration::from_secs(37))
        );
        let invalid = InvocationError::Rpc(grammers_client::sender::RpcError {
            code: 400,
            name: "CHANNEL_INVALID".into(),
            value: None,
            caused_by: None,
        });
        assert!(matches!(source_error(invalid), SourceError::PeerInvalid(_)));
    }

    #[test]
    fn a_checkpoint_at_the_top_of_the_id_range_asks_for_nothing() {
        assert_eq!(after_window(41, 20), Some((42, -20, 20, 41)));
        assert_eq!(after_window(41, 1_000), Some((42, -100, 100, 41)));
        assert_eq!(after_window(-7, 20), Some((1, -20, 20, 0)));
        // `after + 1` overflowed here (a panic in debug, a wrap to the bottom in release).
        assert_eq!(after_window(i64::from(i32::MAX), 20), None);
        assert_eq!(after_window(i64::MAX, 20), None);
    }

    #[cfg(unix)]
    #[test]
    fn session_files_end_up_owner_only_even_when_they_existed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // An existing session file readable by all is narrowed when loaded.
        let existing = dir.path().join("telegram.session");
        std::fs::write(&existing, br#"{"home_dc": 2, "dc_options": []}"#).unwrap();
        std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
        load_session(&existing).unwrap();
        assert_eq!(mode(existing.as_path()), 0o600);
        // A leftover temporary file of a save is narrowed before the keys go in.
        let leftover = dir.path().join("telegram.tmp");
        std::fs::write(&leftover, b"").unwrap();
        std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&leftover, b"keys").unwrap();
        assert_eq!(mode(leftover.as_path()), 0o600);
    }

    #[test]
    fn a_missing_session_file_starts_empty_and_a_foreign_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_session(&dir.path().join("none.session")).is_ok());
        let bad = dir.path().join("bad.session");
        std::fs::write(&bad, b"SQLite format 3\0").unwrap();
        let err = load_session(&bad).err().unwrap().to_string();
        assert!(err.contains("not a Vigie session file"), "{err}");
    }
}
