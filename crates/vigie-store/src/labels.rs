//! How stored places and source kinds are shown to people (alerts, digest, console): here,
//! beside the types, so that every report says them the same way.

use vigie_core::{defang, Language};

use crate::model::{Locator, SourceKind};

/// The source kind label in a language.
pub fn source_kind_label(kind: SourceKind, lang: Language) -> &'static str {
    match (kind, lang) {
        (SourceKind::TorForum, Language::Fr) => "forum Tor",
        (SourceKind::TorForum, Language::En) => "Tor forum",
        (SourceKind::LeakSite, Language::Fr) => "site de fuite rançongiciel",
        (SourceKind::LeakSite, Language::En) => "ransomware leak site",
        (SourceKind::Telegram, _) => "Telegram",
        (SourceKind::Web, _) => "web",
        (SourceKind::File, Language::Fr) => "fichier importé",
        (SourceKind::File, Language::En) => "imported file",
    }
}

/// Where something was seen, as it may be shared: a defanged URL, `channel/message`, or
/// `file:NAME` (only the file name: local paths can say more than the CERT means to share).
pub fn place(locator: &Locator) -> String {
    match locator {
        Locator::Url { url } => defang(url),
        Locator::Message {
            channel,
            message_id,
        } => format!("{channel}/{message_id}"),
        Locator::File { path } => {
            let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
            format!("file:{name}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_defanged_and_local_paths_cut_to_the_name() {
        let url = Locator::Url {
            url: "http://abc.onion/t/1".into(),
        };
        assert_eq!(place(&url), "hxxp://abc[.]onion/t/1");
        let msg = Locator::Message {
            channel: "leaks".into(),
            message_id: 42,
        };
        assert_eq!(place(&msg), "leaks/42");
        let file = Locator::File {
            path: "/home/cert/cases/dump.csv".into(),
        };
        assert_eq!(place(&file), "file:dump.csv");
        let win = Locator::File {
            path: r"C:\cases\dump.csv".into(),
        };
        assert_eq!(place(&win), "file:dump.csv");
    }

    #[test]
    fn kind_labels_in_both_languages() {
        assert_eq!(
            source_kind_label(SourceKind::LeakSite, Language::Fr),
            "site de fuite rançongiciel"
        );
        assert_eq!(
            source_kind_label(SourceKind::TorForum, Language::En),
            "Tor forum"
        );
        assert_eq!(
            source_kind_label(SourceKind::Telegram, Language::Fr),
            "Telegram"
        );
    }
}
