//! Static assets compiled into the binary, served under names that carry their hash (so a
//! year-long immutable cache is safe: a new version has a new name).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const HTMX: &[u8] = include_bytes!("../assets/htmx.min.js");
const CSS: &[u8] = include_bytes!("../assets/console.css");
const JS: &[u8] = include_bytes!("../assets/console.js");

struct Asset {
    name: String,
    bytes: &'static [u8],
    mime: &'static str,
}

fn hashed(stem: &str, ext: &str, bytes: &'static [u8], mime: &'static str) -> Asset {
    let hash = hex::encode(Sha256::digest(bytes));
    Asset {
        name: format!("{stem}-{}.{ext}", &hash[..16]),
        bytes,
        mime,
    }
}

fn all() -> &'static [Asset; 3] {
    static ASSETS: OnceLock<[Asset; 3]> = OnceLock::new();
    ASSETS.get_or_init(|| {
        [
            hashed("htmx", "min.js", HTMX, "text/javascript; charset=utf-8"),
            hashed("console", "css", CSS, "text/css; charset=utf-8"),
            hashed("console", "js", JS, "text/javascript; charset=utf-8"),
        ]
    })
}

/// The URL of the vendored htmx.
pub fn htmx_url() -> String {
    format!("/assets/{}", all()[0].name)
}

/// The URL of the style sheet.
pub fn css_url() -> String {
    format!("/assets/{}", all()[1].name)
}

/// The URL of the console's own script (no inline script anywhere).
pub fn js_url() -> String {
    format!("/assets/{}", all()[2].name)
}

pub async fn serve(Path(name): Path<String>) -> Response {
    match all().iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.mime),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
