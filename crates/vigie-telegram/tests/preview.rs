//! The web preview parser on a page in t.me's real markup: entity markup flattened, line
//! breaks kept, documents listed, forwards, views, offsets in dates, service posts, broken
//! ids and other channels' embedded posts skipped, and the older-page link.

use vigie_telegram::parse_preview;

#[test]
fn a_real_preview_page_is_read() {
    let html = include_str!("../../../tests/fixtures/telegram/preview/medleaks_page.html");
    let page = parse_preview(html, "medleaks");
    let ids: Vec<i64> = page.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![812, 813, 814, 815]);
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
    assert_eq!(sample.attachments[0].size, Some(1_572_864));
    assert!(sample
        .document()
        .contains("attachment: echantillon_nantes.csv"));

    let forwarded = &page.messages[3];
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
