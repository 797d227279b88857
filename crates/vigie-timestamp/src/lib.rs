//! RFC 3161 trusted time for Vigie's chain of custody.
//!
//! Vigie's custody chain proves that nothing was altered *after* an entry was written; a
//! time-stamp token from a Time-Stamp Authority (TSA) proves *when* the chain head existed.
//! This crate:
//! - builds a `TimeStampReq` for a SHA-256 digest, with a random nonce ([`request`]);
//! - posts it to a TSA over HTTP and checks the response's status, nonce and imprint
//!   ([`Authority::stamp`]);
//! - verifies a stored token against the TSA's CA certificates: the CMS signature and the
//!   certificate path (OpenSSL), the digest it covers, and returns the TSA's time
//!   ([`verify`]).
//!
//! Not for: deciding when to time-stamp, or storing tokens (the store and the CLI do that).
//!
//! ```no_run
//! use vigie_timestamp::{Authority, verify};
//! let digest = [0u8; 32];
//! let tsa = Authority::new("http://127.0.0.1:3161/tsa", std::time::Duration::from_secs(10));
//! let token = tsa.stamp(&digest).unwrap();
//! let ca = std::fs::read("tsa-ca.pem").unwrap();
//! let stamped = verify(&token, &digest, &ca).unwrap();
//! println!("digest existed at {}", stamped.time);
//! ```
#![deny(missing_docs)]

use std::io::Read;
use std::time::Duration;

use der::asn1::{Int, OctetString};
use der::oid::db::rfc5912::ID_SHA_256;
use der::{Decode, Encode};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509PurposeId, X509};
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// Largest TSA response read.
const MAX_RESPONSE: u64 = 1 << 20;

/// What went wrong, by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    /// The TSA could not be reached or answered with an HTTP error: try again later.
    #[error("time-stamp authority unreachable or failing: {0}")]
    Unavailable(String),
    /// The TSA answered, but refused or sent something invalid: fix the configuration.
    #[error("time-stamp authority refused or answered badly: {0}")]
    Refused(String),
    /// A token does not verify: the evidence or the token was altered, or the CA is wrong.
    #[error("time-stamp token invalid: {0}")]
    Invalid(String),
}

impl TimestampError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, TimestampError::Unavailable(_))
    }
}

/// A DER `TimeStampReq` for a SHA-256 digest, asking for the TSA certificate, with a nonce.
pub fn request(digest: &[u8; 32], nonce: u64) -> Result<Vec<u8>, TimestampError> {
    let bad = |e: der::Error| TimestampError::Refused(format!("building the request: {e}"));
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki_sha256(Some(der::Any::from(der::asn1::AnyRef::NULL))),
            hashed_message: OctetString::new(digest.to_vec()).map_err(bad)?,
        },
        req_policy: None,
        // Positive: the top bit is cleared, and a leading zero added by the encoder if needed.
        nonce: Some(Int::new(&(nonce >> 1).to_be_bytes()).map_err(bad)?),
        cert_req: true,
        extensions: None,
    };
    req.to_der().map_err(bad)
}

fn spki_sha256(parameters: Option<der::Any>) -> cms::cert::x509::spki::AlgorithmIdentifierOwned {
    cms::cert::x509::spki::AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters,
    }
}

/// A Time-Stamp Authority reached over HTTP(S).
#[derive(Debug, Clone)]
pub struct Authority {
    url: String,
    timeout: Duration,
}

impl Authority {
    /// A TSA at `url`; every request is bounded by `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Authority {
        Authority {
            url: url.to_string(),
            timeout,
        }
    }

    /// Asks the TSA to time-stamp `digest`; returns the DER token (a CMS `ContentInfo`) once
    /// its status, nonce and imprint are checked.
    pub fn stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, TimestampError> {
        let mut nonce_bytes = [0u8; 8];
        getrandom::getrandom(&mut nonce_bytes).map_err(|e| {
            TimestampError::Unavailable(format!("no randomness for the nonce: {e}"))
        })?;
        let nonce = u64::from_be_bytes(nonce_bytes);
        let body = request(digest, nonce)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            // https with the system TLS library and the system CA store (SSL_CERT_FILE or
            // update-ca-certificates add a hospital's internal CA).
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .send(&body[..])
            .map_err(|e| TimestampError::Unavailable(format!("{}: {e}", self.url)))?;
        let status = response.status();
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_RESPONSE)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                TimestampError::Unavailable(format!("{}: reading the response: {e}", self.url))
            })?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(TimestampError::Unavailable(format!(
                "{}: HTTP {status}",
                self.url
            )));
        }
        if !status.is_success() {
            return Err(TimestampError::Refused(format!(
                "{}: HTTP {status}",
                self.url
            )));
        }
        token_from_response(&bytes, digest, &(nonce >> 1).to_be_bytes())
    }
}

/// Extracts the token from a DER `TimeStampResp`, checking status, imprint and nonce.
pub fn token_from_response(
    response: &[u8],
    digest: &[u8; 32],
    nonce: &[u8],
) -> Result<Vec<u8>, TimestampError> {
    let resp = TimeStampResp::from_der(response)
        .map_err(|e| TimestampError::Refused(format!("not a TimeStampResp: {e}")))?;
    let status = resp.status.status;
    if !matches!(
        status,
        cmpv2::status::PkiStatus::Accepted | cmpv2::status::PkiStatus::GrantedWithMods
    ) {
        return Err(TimestampError::Refused(format!("status {status:?}")));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| TimestampError::Refused("granted, but no token".into()))?
        .to_der()
        .map_err(|e| TimestampError::Refused(format!("token: {e}")))?;
    let info = tst_info_unverified(&token)?;
    if info.message_imprint.hashed_message.as_bytes() != digest {
        return Err(TimestampError::Refused(
            "the token covers another digest".into(),
        ));
    }
    let ours = trim_leading_zeros(nonce);
    match &info.nonce {
        Some(n) if trim_leading_zeros(n.as_bytes()) == ours => Ok(token),
        _ => Err(TimestampError::Refused(
            "the token's nonce is not ours (replayed response?)".into(),
        )),
    }
}

fn trim_leading_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[start..]
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    /// The TSA's time, as `YYYYMMDDhhmmssZ` (GeneralizedTime, UTC).
    pub time: String,
    /// The TSA's serial number for the token, hex.
    pub serial: String,
}

/// Verifies a token: the CMS signature and the TSA certificate's path to one of the PEM CA
/// certificates in `ca_pem` (for time-stamping use), and that it covers `digest`.
pub fn verify(token: &[u8], digest: &[u8; 32], ca_pem: &[u8]) -> Result<Stamped, TimestampError> {
    let invalid =
        |what: &str, e: &dyn std::fmt::Display| TimestampError::Invalid(format!("{what}: {e}"));
    let cas = X509::stack_from_pem(ca_pem).map_err(|e| invalid("CA certificates", &e))?;
    if cas.is_empty() {
        return Err(TimestampError::Invalid(
            "no CA certificate in the CA file".into(),
        ));
    }
    let mut store = X509StoreBuilder::new().map_err(|e| invalid("certificate store", &e))?;
    for ca in cas {
        store
            .add_cert(ca)
            .map_err(|e| invalid("CA certificate", &e))?;
    }
    store
        .set_purpose(X509PurposeId::TIMESTAMP_SIGN)
        .map_err(|e| invalid("certificate purpose", &e))?;
    let store = store.build();
    let mut cms = CmsContentInfo::from_der(token).map_err(|e| invalid("token", &e))?;
    let certs = Stack::new().map_err(|e| invalid("certificate stack", &e))?;
    let mut content = Vec::new();
    cms.verify(
        Some(&certs),
        Some(&store),
        None,
        Some(&mut content),
        CMSOptions::BINARY,
    )
    .map_err(|e| invalid("signature or certificate path", &e))?;
    let info = TstInfo::from_der(&content).map_err(|e| invalid("TSTInfo", &e))?;
    if info.message_imprint.hashed_message.as_bytes() != digest {
        return Err(TimestampError::Invalid(
            "the token covers another digest than the custody entry's".into(),
        ));
    }
    Ok(Stamped {
        time: gen_time(&info),
        serial: hex(info.serial_number.as_bytes()),
    })
}

/// The TSA's time in a token, in Unix seconds, read without checking the signature (to decide
/// when the next time-stamp is due, never as evidence).
pub fn token_unix_time(token: &[u8]) -> Option<i64> {
    let info = tst_info_unverified(token).ok()?;
    i64::try_from(info.gen_time.to_unix_duration().as_secs()).ok()
}

/// The TSTInfo of a token, with its signature checked but not the signer's certificate path
/// (to read the imprint, nonce and time; [`verify`] checks the path against the CA).
fn tst_info_unverified(token: &[u8]) -> Result<TstInfo, TimestampError> {
    let refused =
        |e: &dyn std::fmt::Display| TimestampError::Refused(format!("token content: {e}"));
    let mut cms = CmsContentInfo::from_der(token).map_err(|e| refused(&e))?;
    let mut content = Vec::new();
    cms.verify(
        None,
        None,
        None,
        Some(&mut content),
        CMSOptions::BINARY | CMSOptions::NOVERIFY,
    )
    .map_err(|e| refused(&e))?;
    TstInfo::from_der(&content).map_err(|e| refused(&e))
}

fn gen_time(info: &TstInfo) -> String {
    let dt = info.gen_time.to_date_time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minutes(),
        dt.seconds()
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_valid_der_with_imprint_and_nonce() {
        let digest = [7u8; 32];
        let der = request(&digest, 0xffff_0000_1234_5678).unwrap();
        let back = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(back.message_imprint.hashed_message.as_bytes(), &digest);
        assert_eq!(back.message_imprint.hash_algorithm.oid, ID_SHA_256);
        assert!(back.cert_req);
        assert!(back.nonce.is_some());
    }

    #[test]
    fn garbage_responses_and_tokens_are_errors() {
        let digest = [0u8; 32];
        assert!(matches!(
            token_from_response(b"not der", &digest, &[1]),
            Err(TimestampError::Refused(_))
        ));
        assert!(matches!(
            verify(b"not der", &digest, b""),
            Err(TimestampError::Invalid(_))
        ));
        assert!(!TimestampError::Invalid("x".into()).is_transient());
        assert!(TimestampError::Unavailable("x".into()).is_transient());
    }

    #[test]
    fn unreachable_authority_is_transient() {
        // Port 9 on loopback: nothing listens there.
        let tsa = Authority::new("http://127.0.0.1:9/tsa", Duration::from_secs(2));
        let err = tsa.stamp(&[0u8; 32]).unwrap_err();
        assert!(err.is_transient(), "{err}");
    }
}
