//! The web preview parser on a page in t.me's real markup: entity markup flattened, line
//! breaks kept, documents listed, forwards, views, offsets in dates, service posts, broken
//! ids and other channels' embedded posts skipped, and the older-page link.

use vigie_telegram::parse_preview;

#[test]
fn a_real_preview_page_is_read() {
    let html = include_str!("../../../tests/fixtures/telegram/preview/medleaks_page.html");
    let page = parse_preview(html, "medleaks");
    let ids: Vec<i64> = page.messages.iter().map(|m| m.id).collect();
    // 814 is a service message ("Channel photo updated"): recognised, not a post.
    assert_eq!(ids, vec![812, 813, 815]);
    assert_eq!(page.service, 1);
    assert_eq!(page.older, Some(812));
    // `not-a-number` and the block without data-post.
    assert_eq!(page.unreadable, 2);

    let sale = &page.messages[0];
    assert_eq!(
        sale.text,
        "🔥 VENTE base patients #CHU de Nantes\n480 000 lignes, NIR + téléphone + mutuelle.\nPrix 8000 USD, @nantes_dumps"
    );
    assert_eq!(sale.views, Some(4300));
    assert_eq!(sale.date, 1_795_183_391);
    assert_eq!(sale.author.as_deref(), Some("Med Leaks"));

    let sample = &page.messages[1];
    assert_eq!(sample.attachments.len(), 1);
    assert_eq!(
        sample.attachments[0].file_name.as_deref(),
        Some("echantillon_nantes.csv")
    );
    // The size as shown, never a byte count the page does not give.
    assert_eq!(sample.attachments[0].size, None);
    assert_eq!(sample.attachments[0].size_shown.as_deref(), Some("1.5 MB"));
    assert!(sample
        .document()
        .contains("attachment: echantillon_nantes.csv (unknown type, size shown 1.5 MB)"));

    let forwarded = &page.messages[2];
    assert_eq!(forwarded.forwarded_from.as_deref(), Some("pharma_dark"));
    assert!(forwarded
        .text
        .starts_with("Ozempic sans ordonnance livraison 48h"));
    assert!(forwarded.text.contains("nested deep"));
    // 09:00 at +01:00 is 08:00 UTC.
    assert_eq!(forwarded.date % 86_400, 8 * 3600);
}

#[test]
fn hostile_pages_give_nothing_rather_than_panicking() {
    let deep = "<div>".repeat(50_000);
    for html in [
        "",
        "<html>",
        "<div class=\"tgme_widget_message\" data-post=\"medleaks/\">",
        "<div class=\"tgme_widget_message\" data-post=\"/12\"></div>",
        deep.as_str(),
        "<div class=\"tgme_widget_message\" data-post=\"medleaks/99999999999999999999999\">x</div>",
    ] {
        let page = parse_preview(html, "medleaks");
        assert!(page.messages.is_empty(), "{html:.60}");
    }
}

#[test]
fn generated_hostile_pages_are_bounded() {
    for case in vigie_html::hostile::cases(128 * 1024) {
        let page = parse_preview(&case.html, "leaks");
        // No post block in any case: nothing read, and a refused page counts as unreadable.
        assert!(page.messages.is_empty(), "{}", case.name);
        assert!(page.unreadable <= 1, "{}", case.name);
    }
    let ignored = "<div></x>".repeat(200_000);
    assert_eq!(parse_preview(&ignored, "leaks").unreadable, 1);
}

/// A reply, a linked forward, a signature, links behind words and buttons, an invite, a poll,
/// a document and an album, in t.me's markup (written for this test after the real pages'
/// classes; the real pages in `tests/fixtures/real/telegram/` have no reply, forward, poll
/// or document).
const PARTS: &str = r#"<html><body><section class="tgme_channel_history js-message_history">
<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="medleaks/900">
<div class="tgme_widget_message_bubble"><div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/medleaks"><span dir="auto">Med Leaks</span></a></div>
<a class="tgme_widget_message_reply" href="https://t.me/medleaks/812"><div class="tgme_widget_message_author accent_color"><span class="tgme_widget_message_author_name" dir="auto">Med Leaks</span></div><div class="tgme_widget_message_text js-message_reply_text" dir="auto">🔥 VENTE base patients #CHU de Nantes</div></a>
<div class="tgme_widget_message_text js-message_text" dir="auto">Toujours dispo, écrire <a href="https://t.me/+AbCdEfGh12345678" target="_blank">ici</a> ou <a href="https://t.me/nantes_dumps">@nantes_dumps</a> <a href="?q=%23CHU">#CHU</a></div>
<div class="tgme_widget_message_inline_keyboard"><div class="tgme_widget_message_inline_row"><a class="tgme_widget_message_inline_button url_button" href="https://example.org/buy"><div class="tgme_widget_message_inline_button_text">Acheter</div></a></div></div>
<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short js-message_info"><span class="tgme_widget_message_views">1.2K</span><span class="tgme_widget_message_meta"><span class="tgme_widget_message_from_author" dir="auto">Admin Nico</span>, <a class="tgme_widget_message_date" href="https://t.me/medleaks/900"><time datetime="2026-11-22T10:00:00+00:00" class="time">10:00</time></a></span></div></div>
</div></div></div>
<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="medleaks/901">
<div class="tgme_widget_message_bubble"><div class="tgme_widget_message_forwarded_from accent_color">Forwarded from <a class="tgme_widget_message_forwarded_from_name" href="https://t.me/pharma_dark/1066"><span dir="auto">Pharma Dark</span></a></div>
<div class="tgme_widget_message_poll"><div class="tgme_widget_message_poll_question">Prochaine base ?</div><div class="tgme_widget_message_poll_type">Anonymous poll</div><div class="tgme_widget_message_poll_options"><div class="tgme_widget_message_poll_option"><div class="tgme_widget_message_poll_option_percent">62%</div><div class="tgme_widget_message_poll_option_value"><div class="tgme_widget_message_poll_option_text">CHU Lyon</div></div></div><div class="tgme_widget_message_poll_option"><div class="tgme_widget_message_poll_option_percent">38%</div><div class="tgme_widget_message_poll_option_value"><div class="tgme_widget_message_poll_option_text">AP-HP</div></div></div></div></div>
<div class="tgme_widget_message_footer"><a class="tgme_widget_message_date" href="https://t.me/medleaks/901"><time datetime="2026-11-22T11:00:00+00:00">11:00</time></a></div>
</div></div></div>
<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="medleaks/902">
<div class="tgme_widget_message_bubble"><a class="tgme_widget_message_document_wrap" href="https://t.me/medleaks/902"><div class="tgme_widget_message_document"><div class="tgme_widget_message_document_title accent_color" dir="auto">dump_lyon.zip</div><div class="tgme_widget_message_document_extra" dir="auto">2.1 MB</div></div></a>
<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap"><div class="tgme_widget_message_grouped js-message_grouped"><div class="tgme_widget_message_grouped_layer js-message_grouped_layer">
<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo" href="https://t.me/medleaks/903?single"></a>
<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo" href="https://t.me/medleaks/904?single"></a>
<a class="tgme_widget_message_video_player grouped_media_wrap blured js-message_video_player" href="https://t.me/medleaks/905?single"></a>
</div></div></div>
<div class="tgme_widget_message_text js-message_text" dir="auto">échantillon + captures</div>
<a class="tgme_widget_message_link_preview" href="https://example.org/leak"><div class="link_preview_site_name accent_color" dir="auto">Example</div><div class="link_preview_title" dir="auto">Fuite CHU</div><div class="link_preview_description" dir="auto">480 000 lignes</div></a>
</div></div></div>
</section></body></html>"#;

#[test]
fn own_words_reply_forward_signature_links_poll_document_album() {
    use vigie_telegram::LinkKind;
    let page = parse_preview(PARTS, "medleaks");
    let ids: Vec<i64> = page.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, [900, 901, 902]);

    let reply = &page.messages[0];
    // The reply's own words, never the quoted parent's (same text class, placed first).
    assert_eq!(
        reply.text,
        "Toujours dispo, écrire ici ou @nantes_dumps #CHU"
    );
    assert_eq!(reply.reply_to, Some(812));
    assert_eq!(reply.reply_channel.as_deref(), Some("medleaks"));
    // The signature, not the channel title.
    assert_eq!(reply.author.as_deref(), Some("Admin Nico"));
    let links: Vec<(LinkKind, &str, Option<&str>)> = reply
        .links
        .iter()
        .map(|l| (l.kind, l.url.as_str(), l.title.as_deref()))
        .collect();
    assert_eq!(
        links,
        [
            (
                LinkKind::Text,
                "https://t.me/+AbCdEfGh12345678",
                Some("ici")
            ),
            (
                LinkKind::Text,
                "https://t.me/nantes_dumps",
                Some("@nantes_dumps")
            ),
            (LinkKind::Button, "https://example.org/buy", Some("Acheter")),
        ]
    );
    assert!(reply
        .document()
        .contains("link: https://t.me/+AbCdEfGh12345678 \"ici\""));

    let forward = &page.messages[1];
    // The channel, and the message id apart: never "forwarded from: 1066".
    assert_eq!(forward.forwarded_from.as_deref(), Some("pharma_dark"));
    assert_eq!(forward.forwarded_message, Some(1066));
    let poll = forward.poll.as_ref().unwrap();
    assert_eq!(poll.question, "Prochaine base ?");
    assert_eq!(poll.options, ["CHU Lyon", "AP-HP"]);
    // The poll's words are the post's text: the matcher reads them.
    assert_eq!(forward.text, "Prochaine base ?\nCHU Lyon\nAP-HP");

    let album = &page.messages[2];
    assert_eq!(album.attachments.len(), 1);
    assert_eq!(
        album.attachments[0].file_name.as_deref(),
        Some("dump_lyon.zip")
    );
    assert_eq!(album.attachments[0].size_shown.as_deref(), Some("2.1 MB"));
    assert_eq!(album.attachments[0].size, None);
    let media: Vec<(&str, Option<&str>)> = album
        .media
        .iter()
        .map(|m| (m.kind.as_str(), m.url.as_deref()))
        .collect();
    assert_eq!(
        media,
        [
            ("photo", Some("https://t.me/medleaks/903?single")),
            ("photo", Some("https://t.me/medleaks/904?single")),
            ("video", Some("https://t.me/medleaks/905?single")),
        ]
    );
    let preview = album.links.last().unwrap();
    assert_eq!(preview.kind, LinkKind::Preview);
    assert_eq!(preview.title.as_deref(), Some("Fuite CHU"));
    assert_eq!(preview.description.as_deref(), Some("480 000 lignes"));
    assert_eq!(album.text, "échantillon + captures");
}
