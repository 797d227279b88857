//! Conversions from raw TL values, built here as Telegram would send them.

use std::collections::HashMap;

use grammers_tl_types as tl;
use vigie_telegram::tl::{convert_history, convert_message};

fn channel_peer(id: i64) -> tl::enums::Peer {
    tl::enums::Peer::Channel(tl::types::PeerChannel { channel_id: id })
}

fn message(id: i32, text: &str) -> tl::types::Message {
    tl::types::Message {
        out: false,
        mentioned: false,
        media_unread: false,
        silent: false,
        post: true,
        from_scheduled: false,
        legacy: false,
        edit_hide: false,
        pinned: false,
        noforwards: false,
        invert_media: false,
        offline: false,
        video_processing_pending: false,
        paid_suggested_post_stars: false,
        paid_suggested_post_ton: false,
        id,
        from_id: None,
        from_boosts_applied: None,
        from_rank: None,
        peer_id: channel_peer(1001),
        saved_peer_id: None,
        fwd_from: None,
        via_bot_id: None,
        via_business_bot_id: None,
        guestchat_via_from: None,
        reply_to: None,
        date: 1_795_183_391,
        message: text.into(),
        media: None,
        reply_markup: None,
        entities: None,
        views: Some(4300),
        forwards: Some(12),
        replies: None,
        edit_date: None,
        post_author: Some("admin".into()),
        grouped_id: None,
        reactions: None,
        restriction_reason: None,
        ttl_period: None,
        quick_reply_shortcut_id: None,
        effect: None,
        factcheck: None,
        report_delivery_until_date: None,
        paid_message_stars: None,
        suggested_post: None,
        schedule_repeat_period: None,
        summary_from_language: None,
        rich_message: None,
    }
}

fn document(name: Option<&str>) -> tl::enums::MessageMedia {
    let mut attributes = vec![tl::enums::DocumentAttribute::Animated];
    if let Some(n) = name {
        attributes.push(tl::enums::DocumentAttribute::Filename(
            tl::types::DocumentAttributeFilename {
                file_name: n.into(),
            },
        ));
    }
    tl::enums::MessageMedia::Document(tl::types::MessageMediaDocument {
        nopremium: false,
        spoiler: false,
        video: false,
        round: false,
        voice: false,
        document: Some(tl::enums::Document::Document(tl::types::Document {
            id: 77,
            access_hash: -5,
            file_reference: vec![1, 2, 3],
            date: 1_795_183_391,
            mime_type: "text/csv".into(),
            size: 1_572_864,
            thumbs: None,
            video_thumbs: None,
            dc_id: 4,
            attributes,
        })),
        alt_documents: None,
        video_cover: None,
        video_timestamp: None,
        ttl_seconds: None,
    })
}

fn forward_from(peer: tl::enums::Peer) -> tl::enums::MessageFwdHeader {
    tl::enums::MessageFwdHeader::Header(tl::types::MessageFwdHeader {
        imported: false,
        saved_out: false,
        from_id: Some(peer),
        from_name: None,
        date: 1_795_000_000,
        channel_post: Some(9),
        post_author: None,
        saved_from_peer: None,
        saved_from_msg_id: None,
        saved_from_id: None,
        saved_from_name: None,
        saved_date: None,
        psa_type: None,
    })
}

#[test]
fn a_channel_post_with_a_document_and_a_forward() {
    let mut m = message(812, "VENTE base patients CHU de Nantes");
    m.media = Some(document(Some("echantillon.csv")));
    m.fwd_from = Some(forward_from(channel_peer(2002)));
    m.reply_to = Some(tl::enums::MessageReplyHeader::Header(
        tl::types::MessageReplyHeader {
            reply_to_scheduled: false,
            forum_topic: false,
            quote: false,
            reply_to_ephemeral: false,
            reply_to_msg_id: Some(800),
            reply_to_peer_id: None,
            reply_from: None,
            reply_media: None,
            reply_to_top_id: None,
            quote_text: None,
            quote_entities: None,
            quote_offset: None,
            todo_item_id: None,
            poll_option: None,
        },
    ));
    m.edit_date = Some(1_795_183_500);
    let names = HashMap::from([(2002, "pharma_dark".to_string())]);
    let c = convert_message("medleaks", &tl::enums::Message::Message(m), &names).unwrap();
    let msg = &c.message;
    assert_eq!(
        (msg.id, msg.date, msg.edited),
        (812, 1_795_183_391, Some(1_795_183_500))
    );
    assert_eq!(msg.text, "VENTE base patients CHU de Nantes");
    assert_eq!((msg.views, msg.forwards), (Some(4300), Some(12)));
    assert_eq!(msg.author.as_deref(), Some("admin"));
    assert_eq!(msg.forwarded_from.as_deref(), Some("pharma_dark"));
    // The forwarded post's id, apart from the channel.
    assert_eq!(msg.forwarded_message, Some(9));
    assert_eq!(msg.reply_to, Some(800));
    assert_eq!(msg.attachments.len(), 1);
    assert_eq!(
        msg.attachments[0].file_name.as_deref(),
        Some("echantillon.csv")
    );
    assert_eq!(msg.attachments[0].mime_type.as_deref(), Some("text/csv"));
    assert_eq!(msg.attachments[0].size, Some(1_572_864));
    assert_eq!(c.documents[0].id, 77);
    assert_eq!(c.documents[0].dc_id, 4);
}

#[test]
fn unknown_forward_sources_and_nameless_documents_still_convert() {
    let mut m = message(5, "");
    m.media = Some(document(None));
    m.fwd_from = Some(forward_from(channel_peer(3003)));
    let c = convert_message("medleaks", &tl::enums::Message::Message(m), &HashMap::new()).unwrap();
    assert_eq!(c.message.forwarded_from.as_deref(), Some("channel:3003"));
    assert_eq!(c.message.attachments[0].file_name, None);
    // Empty messages convert to nothing.
    let empty = tl::enums::Message::Empty(tl::types::MessageEmpty {
        id: 6,
        peer_id: None,
    });
    assert!(convert_message("medleaks", &empty, &HashMap::new()).is_none());
}

#[test]
fn a_history_answer_is_returned_oldest_first() {
    let raw = tl::enums::messages::Messages::Messages(tl::types::messages::Messages {
        messages: vec![
            tl::enums::Message::Message(message(12, "newest")),
            tl::enums::Message::Empty(tl::types::MessageEmpty {
                id: 11,
                peer_id: None,
            }),
            tl::enums::Message::Message(message(10, "oldest")),
        ],
        topics: vec![],
        chats: vec![],
        users: vec![],
    });
    let out = convert_history("medleaks", &raw);
    let ids: Vec<i64> = out.iter().map(|c| c.message.id).collect();
    assert_eq!(ids, vec![10, 12]);
    let not_modified =
        tl::enums::messages::Messages::NotModified(tl::types::messages::MessagesNotModified {
            count: 3,
        });
    assert!(convert_history("medleaks", &not_modified).is_empty());
}

#[test]
fn channel_updates_become_new_edited_or_gap_events_and_the_rest_is_ignored() {
    use vigie_telegram::tl::{convert_update, ChannelUpdate};
    let new = tl::enums::Update::NewChannelMessage(tl::types::UpdateNewChannelMessage {
        message: tl::enums::Message::Message(message(13, "Vente base patients CHU, échantillon")),
        pts: 20,
        pts_count: 1,
    });
    let (channel, event) = convert_update(&new, &HashMap::new()).unwrap();
    assert_eq!(channel, 1001);
    let ChannelUpdate::New(c) = event else {
        panic!("{event:?}")
    };
    assert_eq!((c.message.id, c.message.views), (13, Some(4300)));
    assert!(c.message.text.contains("Vente base"));
    // A forward names its channel from the update's peers (a candidate source for analysts).
    let mut fwd = message(14, "repost");
    fwd.fwd_from = Some(forward_from(channel_peer(2002)));
    let forwarded = tl::enums::Update::NewChannelMessage(tl::types::UpdateNewChannelMessage {
        message: tl::enums::Message::Message(fwd),
        pts: 21,
        pts_count: 1,
    });
    let names = HashMap::from([(2002, "pharma_dark".to_string())]);
    let Some((1001, ChannelUpdate::New(c))) = convert_update(&forwarded, &names) else {
        panic!("forward not converted")
    };
    assert_eq!(c.message.forwarded_from.as_deref(), Some("pharma_dark"));

    let mut edited = message(13, "Vente base patients CHU — prix baissé");
    edited.edit_date = Some(1_795_190_000);
    let edit = tl::enums::Update::EditChannelMessage(tl::types::UpdateEditChannelMessage {
        message: tl::enums::Message::Message(edited),
        pts: 21,
        pts_count: 1,
    });
    let Some((1001, ChannelUpdate::Edited(c))) = convert_update(&edit, &HashMap::new()) else {
        panic!("edit not converted")
    };
    assert_eq!(c.message.edited, Some(1_795_190_000));

    let too_long = tl::enums::Update::ChannelTooLong(tl::types::UpdateChannelTooLong {
        channel_id: 1001,
        pts: Some(30),
    });
    assert_eq!(
        convert_update(&too_long, &HashMap::new()),
        Some((1001, ChannelUpdate::Gap))
    );

    // A private chat's message and a service message are not channel posts to record.
    let mut private = message(5, "hello");
    private.peer_id = tl::enums::Peer::User(tl::types::PeerUser { user_id: 7 });
    let dm = tl::enums::Update::NewChannelMessage(tl::types::UpdateNewChannelMessage {
        message: tl::enums::Message::Message(private),
        pts: 1,
        pts_count: 1,
    });
    assert_eq!(convert_update(&dm, &HashMap::new()), None);
    let service = tl::enums::Update::NewChannelMessage(tl::types::UpdateNewChannelMessage {
        message: tl::enums::Message::Empty(tl::types::MessageEmpty {
            id: 14,
            peer_id: Some(channel_peer(1001)),
        }),
        pts: 22,
        pts_count: 1,
    });
    assert_eq!(convert_update(&service, &HashMap::new()), None);
    let typing = tl::enums::Update::ChannelReadMessagesContents(
        tl::types::UpdateChannelReadMessagesContents {
            channel_id: 1001,
            top_msg_id: None,
            saved_peer_id: None,
            messages: vec![13],
        },
    );
    assert_eq!(convert_update(&typing, &HashMap::new()), None);
}

#[test]
fn links_behind_words_in_the_text_and_under_buttons_are_kept() {
    use vigie_telegram::LinkKind;
    // "écrire ici" then a URL; offsets count UTF-16 units (the emoji is two).
    let text = "🔥 écrire ici https://t.me/+AbCdEfGh12345678";
    let mut m = message(900, text);
    m.entities = Some(vec![
        tl::enums::MessageEntity::TextUrl(tl::types::MessageEntityTextUrl {
            offset: 10,
            length: 3,
            url: "https://t.me/nantes_dumps".into(),
        }),
        tl::enums::MessageEntity::Url(tl::types::MessageEntityUrl {
            offset: 14,
            length: 30,
        }),
        // Out of the text: ignored, not a panic.
        tl::enums::MessageEntity::Url(tl::types::MessageEntityUrl {
            offset: 40,
            length: 900,
        }),
    ]);
    m.reply_markup = Some(tl::enums::ReplyMarkup::ReplyInlineMarkup(
        tl::types::ReplyInlineMarkup {
            force_reply: false,
            rows: vec![tl::enums::KeyboardInlineButtonRow::Row(
                tl::types::KeyboardInlineButtonRow {
                    buttons: vec![tl::enums::KeyboardInlineButton::Button(
                        tl::types::KeyboardInlineButton {
                            style: None,
                            text: "Acheter".into(),
                            r#type: tl::enums::InlineButtonType::Url(
                                tl::types::InlineButtonTypeUrl {
                                    url: "https://example.org/buy".into(),
                                },
                            ),
                        },
                    )],
                },
            )],
        },
    ));
    let c = convert_message("medleaks", &tl::enums::Message::Message(m), &HashMap::new()).unwrap();
    let links: Vec<(LinkKind, &str, Option<&str>)> = c
        .message
        .links
        .iter()
        .map(|l| (l.kind, l.url.as_str(), l.title.as_deref()))
        .collect();
    assert_eq!(
        links,
        [
            (LinkKind::Text, "https://t.me/nantes_dumps", Some("ici")),
            (LinkKind::Text, "https://t.me/+AbCdEfGh12345678", None),
            (LinkKind::Button, "https://example.org/buy", Some("Acheter")),
        ]
    );
}
