//! The page shapes issue 15 names, in the markup the engines' default templates render
//! (phpBB 3.3 prosilver `viewtopic_body.html`, MyBB 1.8 default theme `showthread`,
//! `postbit_classic`, `header_welcomeblock_guest`): each test fails on the reader Vigie had.

use time::macros::datetime;
use vigie_pages::forum::{detect, read_forum_page, Engine};
use vigie_pages::PageContext;

fn ctx(url: &str) -> PageContext {
    let mut c = PageContext::new(url::Url::parse(url).unwrap());
    c.fetched_at = datetime!(2024-03-11 15:30:00 UTC);
    c
}

fn parse(html: &str) -> scraper::Html {
    vigie_html::parse_document(html, vigie_html::DEFAULT_MAX_DEPTH).unwrap()
}

/// phpBB 3.3 prosilver: the "Post" icon link comes before the author, the author is shown in
/// a group colour, the date is a `<time>`, code boxes hold tab-delimited rows, every link
/// carries `sid=`, and the theme's header has its own heading.
const PHPBB33: &str = r##"<!DOCTYPE html><html dir="ltr" lang="en-gb"><head>
<title>Vente base patients - Board</title></head>
<body id="phpbb" class="nojs notouch section-viewtopic ltr">
<div id="wrap" class="wrap"><div id="page-header"><div class="headerbar" role="banner">
<div class="inner"><div id="site-description" class="site-description">
<h1>Board</h1><p>Welcome</p></div></div></div></div>
<div id="page-body" class="page-body" role="main">
<h2 class="topic-title"><a href="./viewtopic.php?t=12&amp;sid=0123456789abcdef0123456789abcdef">Vente base patients</a></h2>
<div class="action-bar bar-top"><div class="pagination">2 posts &bull; Page <strong>1</strong> of <strong>2</strong>
<ul><li class="active"><span>1</span></li><li><a class="button" href="./viewtopic.php?t=12&amp;sid=0123456789abcdef0123456789abcdef&amp;start=20" role="button">2</a></li>
<li class="arrow next"><a class="button button-icon-only" href="./viewtopic.php?t=12&amp;sid=0123456789abcdef0123456789abcdef&amp;start=20" rel="next" role="button">Next</a></li></ul></div></div>
<div id="p101" class="post has-profile bg2"><div class="inner">
<dl class="postprofile" id="profile101"><dt class="has-profile-rank has-avatar">
<div class="avatar-container"><a href="./memberlist.php?mode=viewprofile&amp;u=2&amp;sid=0123456789abcdef0123456789abcdef" class="avatar"><img class="avatar" src="./download/file.php?avatar=2.png" alt="User avatar" /></a></div>
<a href="./memberlist.php?mode=viewprofile&amp;u=2&amp;sid=0123456789abcdef0123456789abcdef" style="color: #AA0000;" class="username-coloured">vendeur</a></dt>
<dd class="profile-rank">Site Admin</dd><dd class="profile-posts"><strong>Posts:</strong> 7</dd></dl>
<div class="postbody"><div id="post_content101">
<h3 class="first"><a href="./viewtopic.php?p=101&amp;sid=0123456789abcdef0123456789abcdef#p101">Vente base patients</a></h3>
<p class="author"><a class="unread" href="./viewtopic.php?p=101&amp;sid=0123456789abcdef0123456789abcdef#p101" title="Post"><i class="icon fa-file fa-fw icon-lightgray icon-md" aria-hidden="true"></i><span class="sr-only">Post</span></a>
<span class="responsive-hide">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=2&amp;sid=0123456789abcdef0123456789abcdef" style="color: #AA0000;" class="username-coloured">vendeur</a></strong> &raquo; </span><time datetime="2024-03-10T21:03:00+00:00">Sun Mar 10, 2024 9:03 pm</time></p>
<div class="content">Echantillon :<br><div class="codebox"><p>Code: <a href="#" onclick="selectCode(this); return false;">Select all</a></p><pre><code>nir	nom	ville
185057800608436	DUPONT	Lyon
269054958815780	MARTIN	Paris</code></pre></div>Contact en MP.</div>
<div id="sig101" class="signature">Ma signature ici</div>
</div></div></div></div>
<div id="p102" class="post has-profile bg1"><div class="inner">
<dl class="postprofile" id="profile102"><dt class="has-profile-rank no-avatar"><div class="avatar-container"></div>
<a href="./memberlist.php?mode=viewprofile&amp;u=9" class="username">acheteur</a></dt></dl>
<div class="postbody"><div id="post_content102">
<p class="author"><a class="unread" href="./viewtopic.php?p=102#p102" title="Post"><span class="sr-only">Post</span></a>
<span class="responsive-hide">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=9" class="username">acheteur</a></strong> &raquo; </span><time datetime="2024-03-11T08:15:00+00:00">Mon Mar 11, 2024 8:15 am</time></p>
<div class="content"><blockquote cite="./viewtopic.php?p=101#p101"><div><cite><a href="./memberlist.php?u=2">vendeur</a> wrote: <a href="./viewtopic.php?p=101#p101">&#8593;</a><span class="responsive-hide">Sun Mar 10, 2024 9:03 pm</span></cite>Echantillon : 185057800608436</div></blockquote>Interesse, prix ?</div>
</div></div></div></div>
</div><div id="page-footer" class="page-footer"><div class="copyright">Powered by <a href="https://www.phpbb.com/">phpBB</a>&reg; Forum Software &copy; phpBB Limited
<span class="footer-info"> All times are <span title="UTC">UTC</span></span></div></div></div></body></html>"##;

#[test]
fn phpbb_33_author_date_code_rows_quotes_and_sessions() {
    let doc = parse(PHPBB33);
    assert_eq!(detect(&doc), Some(Engine::PhpBb));
    let page = read_forum_page(&doc, None, &ctx("http://forum.onion/viewtopic.php?t=12"));
    assert_eq!(page.thread_title, "Vente base patients");
    // The theme's header (h1, description) is not a post.
    assert_eq!(page.posts.len(), 2);
    let p = &page.posts[0];
    assert_eq!(p.id, "p101");
    // Not "Post" (the icon link first in `p.author`), not empty.
    assert_eq!(p.author, "vendeur");
    assert_eq!(p.date.as_deref(), Some("2024-03-10T21:03:00Z"));
    // The code box's rows stay tab-delimited rows; its caption and the signature are not
    // the post's words.
    assert!(
        p.body
            .contains("185057800608436\tDUPONT\tLyon\n269054958815780\tMARTIN\tParis"),
        "{:?}",
        p.body
    );
    assert!(!p.body.contains("Select all"), "{:?}", p.body);
    assert!(!p.body.contains("signature"), "{:?}", p.body);
    let q = &page.posts[1];
    assert_eq!(q.author, "acheteur");
    // Quoting the sale is not a new offer: the quote is apart from the reply's own text.
    assert_eq!(q.body, "Interesse, prix ?");
    assert_eq!(q.quoted.len(), 1);
    assert!(q.quoted[0].contains("185057800608436"));
    // No session parameter in anything written out.
    let next = page.next_page.expect("next page").to_string();
    assert_eq!(next, "http://forum.onion/viewtopic.php?t=12&start=20");
    for p in &page.posts {
        for l in p.links.iter().chain(p.detail_link.iter()) {
            assert!(!l.contains("sid="), "{l}");
        }
    }
}

/// MyBB 1.8 default theme, guest view: the welcome block and a "Login" box come before the
/// posts, each post's author block starts with the avatar link, and the post-number link
/// `#1` sits next to the date.
const MYBB18: &str = r##"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xml:lang="en" lang="en" xmlns="http://www.w3.org/1999/xhtml"><head><title>Acces VPN CHU</title>
<script type="text/javascript" src="http://forum.onion/jscripts/general.js?ver=1827"></script></head><body>
<div id="container"><a name="top" id="top"></a><div id="header"><div id="logo"><div class="wrapper">
<a href="http://forum.onion/index.php"><img src="images/logo.png" alt="Forum" title="Forum" /></a>
<ul class="menu top_links"><li><a href="search.php" class="search">Search</a></li></ul></div></div>
<div id="panel"><div class="upper"><div class="wrapper">
<span class="welcome">Hello There, Guest! <a href="member.php?action=login" onclick="$('#quick_login').modal({ fadeDuration: 250, keepelement: true, zIndex: (typeof modal_zindex !== 'undefined' ? modal_zindex : 9999) }); return false;" class="login">Login</a> <a href="member.php?action=register" class="register">Register</a></span>
</div></div></div></div>
<div class="modal" id="quick_login" style="display: none;"><form method="post" action="member.php">
<table width="100%" cellspacing="0" cellpadding="5" border="0" class="tborder"><tr><td class="thead" colspan="2"><strong>Login</strong></td></tr>
<tr><td class="trow1" width="25%"><strong>Username:</strong></td><td class="trow1"><input name="quick_username" class="textbox" type="text" /></td></tr>
</table></form></div>
<div id="content"><div class="wrapper">
<div class="navigation"><a href="http://forum.onion/index.php">Forum</a> &rsaquo; <a href="forumdisplay.php?fid=2">Ventes</a> &rsaquo; <span class="active">Acces VPN CHU</span></div>
<table border="0" cellspacing="0" cellpadding="5" class="tborder tfixed clear">
<tr><td class="thead"><div><strong>Acces VPN CHU</strong></div></td></tr>
<tr><td id="posts_container"><div id="posts">
<a name="pid7" id="pid7"></a>
<div class="post " style="" id="post_7">
<div class="post_author">
<div class="author_avatar"><a href="member.php?action=profile&amp;uid=3"><img src="images/default_avatar.png" alt="" width="55" height="55" /></a></div>
<div class="author_information"><strong><span class="largetext"><a href="member.php?action=profile&amp;uid=3"><span style="color: #CC00CC;"><strong>rootkit</strong></span></a></span></strong><br />
<span class="smalltext">Administrator<br /></span></div>
<div class="author_statistics">Posts: 41<br />Joined: Jan 2024</div></div>
<div class="post_content"><div class="post_head">
<div class="float_right" style="vertical-align: top"><strong><a href="showthread.php?tid=5&amp;pid=7#pid7" title="Acces VPN CHU">#1</a></strong></div>
<span class="post_date">03-10-2024, 09:03 PM <span class="post_edit" id="edited_by_7"><span class="edited_post">(This post was last modified: 03-10-2024, 09:30 PM by rootkit.)</span></span></span>
</div>
<div class="post_body scaleimages" id="pid_7">Acces VPN d'un CHU, 2000 comptes.<br />
<div class="codeblock"><div class="title">Code:<br />
</div><div class="body" dir="ltr"><code>login&nbsp;&nbsp;mdp<br />
jdupont	Azerty123<br />
</code></div></div></div>
<div class="post_meta" id="post_meta_7"></div></div>
<div class="post_controls"><div class="postbit_buttons author_buttons float_left"><a href="member.php?action=profile&amp;uid=3" title="Find all posts by this user" class="postbit_find"><span>Find</span></a></div></div>
</div>
<a name="pid8" id="pid8"></a>
<div class="post " style="" id="post_8">
<div class="post_author"><div class="author_avatar"><a href="member.php?action=profile&amp;uid=4"><img src="images/default_avatar.png" alt="" /></a></div>
<div class="author_information"><strong><span class="largetext"><a href="member.php?action=profile&amp;uid=4">h4x</a></span></strong></div></div>
<div class="post_content"><div class="post_head">
<div class="float_right" style="vertical-align: top"><strong><a href="showthread.php?tid=5&amp;pid=8#pid8" title="RE: Acces VPN CHU">#2</a></strong></div>
<span class="post_date">Yesterday, 11:15 PM</span></div>
<div class="post_body scaleimages" id="pid_8"><blockquote class="mycode_quote"><cite><span> (03-10-2024, 09:03 PM)</span>rootkit Wrote:  <a href="http://forum.onion/showthread.php?pid=7#pid7" class="quick_jump"></a></cite>Acces VPN d'un CHU, 2000 comptes.</blockquote><br />
PM sent.</div>
<div class="signature scaleimages"><hr size="1" width="25%" align="left" />h4x - since 2019</div>
</div></div>
</div></div></td></tr></table>
<div class="float_left"><div class="pagination"><span class="pages">Pages (2):</span>
<span class="pagination_current">1</span><a href="showthread.php?tid=5&amp;page=2" class="pagination_page">2</a>
<a href="showthread.php?tid=5&amp;page=2" class="pagination_next">Next &raquo;</a></div></div>
</div></div></div></body></html>"##;

#[test]
fn mybb_guest_page_login_box_avatar_first_and_post_numbers() {
    let doc = parse(MYBB18);
    assert_eq!(detect(&doc), Some(Engine::MyBb));
    let page = read_forum_page(&doc, None, &ctx("http://forum.onion/showthread.php?tid=5"));
    // Not "Login": the guest login box comes first.
    assert_eq!(page.thread_title, "Acces VPN CHU");
    assert_eq!(page.posts.len(), 2, "{:#?}", page.posts);
    let p = &page.posts[0];
    assert_eq!(p.id, "post_7");
    // Not empty (the avatar link comes first), not "#1".
    assert_eq!(p.author, "rootkit");
    // The edit note's date is not the post's date.
    assert_eq!(p.date.as_deref(), Some("2024-03-10T21:03:00Z"));
    assert!(p.body.contains("jdupont\tAzerty123"), "{:?}", p.body);
    assert!(!p.body.contains("Code:"), "{:?}", p.body);
    let q = &page.posts[1];
    assert_eq!(q.author, "h4x");
    // "Yesterday, 11:15 PM" against the fetch time (2024-03-11 15:30 UTC).
    assert_eq!(q.date.as_deref(), Some("2024-03-10T23:15:00Z"));
    assert_eq!(q.body, "PM sent.");
    assert_eq!(q.quoted.len(), 1);
    assert!(!q.body.contains("since 2019"));
    assert_eq!(
        page.next_page.map(|u| u.to_string()).as_deref(),
        Some("http://forum.onion/showthread.php?tid=5&page=2")
    );
}

/// Pages that are not forum pages, or forum pages without posts, give no posts.
#[test]
fn login_walls_and_blank_pages_give_no_posts() {
    for html in [
        "<html><body><form action=\"ucp.php?mode=login\"><input name=username></form></body></html>",
        "<html><body><h1>404 Not Found</h1></body></html>",
        "",
    ] {
        let doc = parse(html);
        let page = read_forum_page(&doc, Some(Engine::PhpBb), &ctx("http://forum.onion/"));
        assert!(page.posts.is_empty());
        assert!(page.threads.is_empty());
    }
    assert_eq!(
        detect(&parse("<html><body><p>Hello</p></body></html>")),
        None
    );
}

/// A forum index: sub-forums and threads with what changes when someone posts.
#[test]
fn xenforo_2_listing_threads_last_post_and_subforums() {
    let html = r##"<!DOCTYPE html><html id="XF" lang="en-US" dir="LTR" data-app="public" data-template="forum_view">
<head><title>Marketplace | Board</title><link rel="next" href="/forums/marketplace.4/page-2" /></head><body>
<div class="block-body"><div class="node node--forum"><div class="node-main"><h3 class="node-title">
<a href="/forums/databases.9/" data-xf-init="element-tooltip">Databases</a></h3></div></div></div>
<div class="structItemContainer">
<div class="structItem structItem--thread js-inlineModContainer" data-author="seller">
<div class="structItem-cell structItem-cell--main"><div class="structItem-title">
<a href="/forums/marketplace.4/?prefix_id=2" class="labelLink"><span class="label">WTS</span></a>
<a href="/threads/hospital-db.55/" data-tp-primary="on">Hospital DB</a></div></div>
<div class="structItem-cell structItem-cell--meta"><dl class="pairs pairs--justified"><dt>Replies</dt><dd>14</dd></dl></div>
<div class="structItem-cell structItem-cell--latest"><a href="/threads/hospital-db.55/latest" rel="nofollow">
<time class="structItem-latestDate u-dt" dir="auto" datetime="2024-03-10T21:03:00+0000" data-time="1710104580">Mar 10, 2024</time></a></div>
</div></div></body></html>"##;
    let doc = parse(html);
    assert_eq!(detect(&doc), Some(Engine::XenForo));
    let page = read_forum_page(
        &doc,
        None,
        &ctx("http://market.onion/forums/marketplace.4/"),
    );
    assert!(page.posts.is_empty());
    assert_eq!(page.threads.len(), 1, "{:#?}", page.threads);
    let t = &page.threads[0];
    assert_eq!(
        t.url.as_str(),
        "http://market.onion/threads/hospital-db.55/"
    );
    assert_eq!(t.title, "Hospital DB");
    assert!(
        t.last_post.contains("2024-03-10T21:03:00+0000"),
        "{}",
        t.last_post
    );
    assert!(t.last_post.contains("14"), "{}", t.last_post);
    assert_eq!(
        page.subforums
            .iter()
            .map(|u| u.as_str())
            .collect::<Vec<_>>(),
        ["http://market.onion/forums/databases.9/"]
    );
    assert_eq!(
        page.next_page.map(|u| u.to_string()).as_deref(),
        Some("http://market.onion/forums/marketplace.4/page-2")
    );
}

/// The engine named in a config wins over what the page looks like.
#[test]
fn forced_engine_and_generator_meta() {
    let doc = parse(
        "<html><head><meta name=\"generator\" content=\"vBulletin 4.2.5\" /></head><body></body></html>",
    );
    assert_eq!(detect(&doc), Some(Engine::VBulletin));
    let page = read_forum_page(&doc, Some(Engine::Smf), &ctx("http://f.onion/"));
    assert_eq!(page.engine, Some(Engine::Smf));
}

/// phpBB 3.0 subsilver2 (`styles/subsilver2/template/viewtopic_body.html`): one table per
/// post, the author in `b.postauthor`, the id only in `<a name="p…">`, the date after
/// "Posted:", quotes as `quotetitle` + `quotecontent`, the signature in a second `postbody`.
const SUBSILVER2: &str = r##"<html><head><title>Board &bull; View topic - Dump CHU</title></head><body>
<div id="wrapheader"><h1>Board</h1></div>
<div id="wrapcentre">
<div id="pageheader"><h2><a class="titles" href="./viewtopic.php?f=2&amp;t=9&amp;sid=0123456789abcdef0123456789abcdef">Dump CHU</a></h2></div>
<table class="tablebg" width="100%" cellspacing="1">
<tr><th>Author</th><th>Message</th></tr>
<tr class="row1">
<td align="center" valign="middle"><a name="p31"></a><b class="postauthor" style="color: #AA0000">seller</b></td>
<td width="100%" height="25"><table width="100%" cellspacing="0"><tr>
<td class="gensmall" width="100%"><div style="float: left;">&nbsp;<b>Post subject:</b> <a href="#p31">Dump CHU 12/05/2019</a></div><div style="float: right;"><a href="./viewtopic.php?p=31#p31" class="imageset"><img src="./styles/subsilver2/imageset/icon_post_target.gif" alt="Post" /></a><b>Posted:</b> Tue Jan 29, 2013 3:04 pm&nbsp;</div></td>
</tr></table></td></tr>
<tr class="row1"><td valign="top" class="profile"><table cellspacing="4" align="center" width="150"><tr><td class="postdetails">Site Admin</td></tr></table>
<span class="postdetails"><br /><b>Joined:</b> Mon Jan 07, 2013 1:00 pm<br /><b>Posts:</b> 12</span></td>
<td valign="top"><table width="100%" cellspacing="5"><tr><td>
<div class="postbody">Lignes :<br /><div class="codetitle"><b>Code:</b></div><div class="codecontent">185057800608436&nbsp;DUPONT<br />269054958815780&nbsp;MARTIN</div></div>
<div class="postbody"><br />_________________<br />sig of seller</div>
</td></tr></table></td></tr>
</table>
<table class="tablebg" width="100%" cellspacing="1">
<tr class="row2">
<td align="center" valign="middle"><a name="p32"></a><b class="postauthor">buyer</b></td>
<td width="100%" height="25"><table width="100%" cellspacing="0"><tr>
<td class="gensmall" width="100%"><div style="float: left;">&nbsp;<b>Post subject:</b> <a href="#p32">Re: Dump CHU</a></div><div style="float: right;"><b>Posted:</b> Tue Jan 29, 2013 5:10 pm&nbsp;</div></td>
</tr></table></td></tr>
<tr class="row2"><td valign="top" class="profile"></td>
<td valign="top"><table width="100%" cellspacing="5"><tr><td>
<div class="postbody"><div class="quotetitle">seller wrote:</div><div class="quotecontent">Lignes : 185057800608436</div>How much?</div>
</td></tr></table></td></tr>
</table>
<table width="100%" cellspacing="1" class="tablebg"><tr align="center"><td class="cat"><form name="viewtopic" method="post" action="./viewtopic.php?f=2&amp;t=9"><span class="gensmall">Display posts from previous:</span></form></td></tr></table>
</div></body></html>"##;

#[test]
fn phpbb_subsilver2_tables_anchor_ids_and_posted_dates() {
    let doc = parse(SUBSILVER2);
    assert_eq!(detect(&doc), Some(Engine::PhpBb));
    let page = read_forum_page(&doc, None, &ctx("http://forum.onion/viewtopic.php?t=9"));
    assert_eq!(page.thread_title, "Dump CHU");
    // The sort-options table is not a post.
    assert_eq!(page.posts.len(), 2, "{:#?}", page.posts);
    let p = &page.posts[0];
    assert_eq!((p.id.as_str(), p.author.as_str()), ("p31", "seller"));
    // Not the date-like text of the subject.
    assert_eq!(p.date.as_deref(), Some("2013-01-29T15:04:00Z"));
    assert!(
        p.body
            .contains("185057800608436 DUPONT\n269054958815780 MARTIN"),
        "{:?}",
        p.body
    );
    assert!(
        !p.body.contains("Code:") && !p.body.contains("sig of seller"),
        "{:?}",
        p.body
    );
    let q = &page.posts[1];
    assert_eq!((q.id.as_str(), q.author.as_str()), ("p32", "buyer"));
    assert_eq!(q.body, "How much?");
    assert_eq!(q.quoted, ["Lignes : 185057800608436"]);
}

/// Many post-like blocks (each holding a post text element) are all read, nested ones
/// skipped, within a time bound (a smoke test: 20,000 posts take about 5 s in a debug build).
#[test]
fn many_posts_are_read_in_linear_time() {
    let post = "<div class=\"post\" id=\"p1\"><p class=\"author\">by <strong>x</strong> &raquo; \
                Tue Jan 29, 2013 3:04 pm</p><div class=\"content\">t<div class=\"post\">\
                <div class=\"content\">nested</div></div></div></div>";
    let html = format!(
        "<html><body id=\"phpbb\">{}</body></html>",
        post.repeat(20_000)
    );
    let doc = parse(&html);
    let started = std::time::Instant::now();
    let page = read_forum_page(&doc, Some(Engine::PhpBb), &ctx("http://f.onion/"));
    assert_eq!(page.posts.len(), 20_000);
    // Generous bound: a debug build on a shared machine.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

/// SMF 2.1 (`Themes/default/Display.template.php`): a `windowbg` per message, the post
/// number `#1` next to the date link, `PHPSESSID` on every link for a guest.
const SMF21: &str = r##"<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8">
<title>Vente comptes ENT</title><script src="https://f.onion/Themes/default/scripts/script.js?smf21"></script></head><body>
<div id="footerfix"><div id="top_section"><div class="inner_wrap"><ul class="floatleft welcome"><li>Welcome, <strong>Guest</strong>. Please <a href="https://f.onion/index.php?PHPSESSID=abcdef0123;action=login">login</a>.</li></ul></div></div>
<div id="content_section"><div id="main_content_section">
<div id="forumposts"><form action="https://f.onion/index.php?action=quickmod2;topic=4.0" method="post" name="quickModForm" id="quickModForm">
<div class="windowbg" id="msg41"><div class="post_wrapper">
<div class="poster"><h4><span class="off" title="Offline"></span><a href="https://f.onion/index.php?PHPSESSID=abcdef0123;action=profile;u=2" title="View the profile of vendor">vendor</a></h4>
<ul class="user_info"><li class="membergroup">Newbie</li><li class="postcount">Posts: 3</li></ul></div>
<div class="postarea"><div class="keyinfo">
<div id="subject_41" class="subject_title subject_hidden"><a href="https://f.onion/index.php?PHPSESSID=abcdef0123;msg=41">Vente comptes ENT</a></div>
<span class="page_number floatright">#1</span>
<div class="postinfo"><a href="https://f.onion/index.php?PHPSESSID=abcdef0123;msg=41" title="Vente comptes ENT" class="smalltext">March 10, 2024, 09:03:41 PM</a><span class="smalltext modified floatright" id="modified_41"></span></div>
</div>
<div class="post"><div class="inner" data-msgid="41" id="msg_41">Comptes ENT du CHU.<br><blockquote class="bbc_standard_quote"><cite><a href="https://f.onion/index.php?topic=3.msg30#msg30">Quote from: admin on March 9, 2024, 10:00:00 AM</a></cite>No sales here.</blockquote>Contact in PM.</div></div>
</div>
<div class="moderatorbar"><div class="signature" id="msg_41_signature">vendor's sig</div></div>
</div></div>
</form></div>
</div></div></div></body></html>"##;

#[test]
fn smf_21_post_number_date_link_and_quotes() {
    let doc = parse(SMF21);
    assert_eq!(detect(&doc), Some(Engine::Smf));
    let page = read_forum_page(&doc, None, &ctx("https://f.onion/index.php?topic=4.0"));
    assert_eq!(page.thread_title, "Vente comptes ENT");
    assert_eq!(page.posts.len(), 1, "{:#?}", page.posts);
    let p = &page.posts[0];
    assert_eq!((p.id.as_str(), p.author.as_str()), ("msg41", "vendor"));
    assert_eq!(p.date.as_deref(), Some("2024-03-10T21:03:41Z"));
    assert_eq!(p.body, "Comptes ENT du CHU.\nContact in PM.");
    assert_eq!(p.quoted.len(), 1);
    assert!(p.quoted[0].contains("No sales here."));
}
