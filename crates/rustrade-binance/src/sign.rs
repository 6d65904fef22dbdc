//! Request signing: [`Credentials`] (API key plus an HMAC-SHA256 or Ed25519 [`Signer`]) and the
//! payload rules of the REST API and the WebSocket API.
//!
//! REST signs the query string followed directly by the body, byte for byte as sent, with every
//! value percent-encoded ([`encode_query`]). The WebSocket API signs its parameters sorted by name
//! and joined as `k=v&…` in raw UTF-8 ([`ws_payload`]). HMAC signatures are lowercase hex;
//! Ed25519 signatures are base64 (and percent-encoded when they travel in a query string).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

use crate::{BinanceError, Secret};

/// An API key with the private half that signs its requests.
///
/// `Debug` shows the key type only, never the key or the secret.
#[derive(Clone)]
pub struct Credentials {
    api_key: Secret,
    signer: Signer,
}

/// The private half of a key: what turns a payload into a signature.
#[derive(Clone)]
pub enum Signer {
    /// An HMAC-SHA256 secret (Binance calls this key type deprecated, but it still works
    /// everywhere except `session.logon`).
    Hmac(Secret),
    /// An Ed25519 private key (the recommended key type; the only one `session.logon` accepts).
    Ed25519(Ed25519Key),
}

/// An Ed25519 signing key whose `Debug` never shows the seed.
#[derive(Clone)]
pub struct Ed25519Key(ed25519_dalek::SigningKey);

impl Credentials {
    /// An HMAC-SHA256 key pair as Binance shows it on key creation.
    pub fn hmac(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_key: Secret::new(api_key),
            signer: Signer::Hmac(Secret::new(secret)),
        }
    }

    /// An Ed25519 key from its 32-byte private seed.
    pub fn ed25519_from_seed(api_key: impl Into<String>, seed: [u8; 32]) -> Self {
        Self {
            api_key: Secret::new(api_key),
            signer: Signer::Ed25519(Ed25519Key(ed25519_dalek::SigningKey::from_bytes(&seed))),
        }
    }

    /// An Ed25519 key from the PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`) that
    /// `openssl genpkey -algorithm ed25519` writes and Binance's key set-up asks for.
    pub fn ed25519_from_pem(api_key: impl Into<String>, pem: &str) -> Result<Self, BinanceError> {
        Ok(Self::ed25519_from_seed(api_key, seed_from_pkcs8_pem(pem)?))
    }

    /// The API key, sent in the `X-MBX-APIKEY` header.
    pub fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// The signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Whether this is an Ed25519 key (which may log a WebSocket API session on).
    pub fn is_ed25519(&self) -> bool {
        matches!(self.signer, Signer::Ed25519(_))
    }
}

impl Signer {
    /// The signature of `payload` as the key type encodes it: lowercase hex for HMAC, base64 for
    /// Ed25519. This is the form a WebSocket API request carries.
    pub fn sign(&self, payload: &str) -> String {
        match self {
            Self::Hmac(secret) => hmac_sha256_hex(secret.expose().as_bytes(), payload.as_bytes()),
            Self::Ed25519(key) => BASE64.encode(key.0.sign(payload.as_bytes()).to_bytes()),
        }
    }

    /// The signature of `payload` ready to append to a query string as `signature=…`
    /// (base64 is percent-encoded; hex needs no encoding).
    pub fn sign_for_query(&self, payload: &str) -> String {
        let sig = self.sign(payload);
        match self {
            Self::Hmac(_) => sig,
            Self::Ed25519(_) => encode_value(&sig),
        }
    }
}

/// Characters kept as they are in a query value: RFC 3986 unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one query value (non-ASCII as UTF-8 bytes, reserved characters escaped).
pub fn encode_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// `k=v&…` in the given order with every value percent-encoded: the exact REST payload to sign
/// and send.
pub fn encode_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in params {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&encode_value(v));
    }
    out
}

/// The parameters of a query string, percent-decoded (invalid UTF-8 replaced), the last value
/// of a repeated name kept: what the venue side reads of a request `encode_query` wrote, before
/// it checks the signature.
pub fn decode_query(raw: &str) -> std::collections::BTreeMap<String, String> {
    raw.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            (k.to_owned(), v)
        })
        .collect()
}

/// The WebSocket API payload: parameters sorted by name, `k=v&…`, raw UTF-8, `signature`
/// excluded.
pub fn ws_payload<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, _)| *k != "signature")
        .collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (k, v) in sorted {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// HMAC-SHA256 of `payload` under `key`, lowercase hex.
pub fn hmac_sha256_hex(key: &[u8], payload: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("signer", &self.signer)
            .finish()
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hmac(_) => f.write_str("Hmac([REDACTED])"),
            Self::Ed25519(_) => f.write_str("Ed25519([REDACTED])"),
        }
    }
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Key([REDACTED])")
    }
}

/// The DER prefix of a PKCS#8 v1 Ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn seed_from_pkcs8_pem(pem: &str) -> Result<[u8; 32], BinanceError> {
    let bad = |why: &str| BinanceError::Config(format!("ed25519 private key PEM: {why}"));
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "-----BEGIN PRIVATE KEY-----")
        .skip(1)
        .take_while(|l| *l != "-----END PRIVATE KEY-----")
        .collect();
    if body.is_empty() {
        return Err(bad("no -----BEGIN PRIVATE KEY----- block"));
    }
    let der = BASE64
        .decode(body.as_bytes())
        .map_err(|_| bad("the block is not base64"))?;
    match der.strip_prefix(&PKCS8_ED25519_PREFIX[..]) {
        Some(seed) if seed.len() == 32 => {
            let mut out = [0u8; 32];
            out.copy_from_slice(seed);
            Ok(out)
        }
        _ => Err(bad("not a PKCS#8 Ed25519 private key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";

    fn hmac() -> Signer {
        Signer::Hmac(Secret::new(SECRET))
    }

    #[test]
    fn decode_query_reads_back_what_encode_query_wrote() {
        let params = [
            ("symbol", "BTCUSDT"),
            ("newClientOrderId", "bot-0-1"),
            ("note", "a b&c=d/é"),
        ];
        let decoded = decode_query(&encode_query(params));
        let expected: std::collections::BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn rest_vector() {
        let q = encode_query([
            ("symbol", "LTCBTC"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
            ("recvWindow", "5000"),
            ("timestamp", "1499827319559"),
        ]);
        assert_eq!(
            q,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            hmac().sign(&q),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn rest_non_ascii_vector_is_signed_percent_encoded() {
        let q = encode_query([
            ("symbol", "１２３４５６"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
            ("recvWindow", "5000"),
            ("timestamp", "1499827319559"),
        ]);
        assert!(q.starts_with("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&"));
        assert_eq!(
            hmac().sign_for_query(&q),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    #[test]
    fn ws_api_vectors_sort_and_keep_raw_utf8() {
        let p = ws_payload([
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01000000"),
            ("price", "52000.00"),
            ("recvWindow", "100"),
            ("timestamp", "1645423376532"),
            ("apiKey", API_KEY),
            ("signature", "ignored"),
        ]);
        assert!(p.starts_with("apiKey=vmPU"));
        assert_eq!(
            hmac().sign(&p),
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
        );
        let p = ws_payload([
            ("symbol", "１２３４５６"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1.00000000"),
            ("price", "0.10000000"),
            ("recvWindow", "5000"),
            ("timestamp", "1645423376532"),
            ("apiKey", API_KEY),
        ]);
        assert!(p.contains("symbol=１２３４５６&"));
        assert_eq!(
            hmac().sign(&p),
            "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
        );
    }

    #[test]
    fn minimal_vector() {
        assert_eq!(
            hmac().sign("timestamp=1578963600000"),
            "d84e6641b1e328e7b418fff030caed655c266299c9355e36ce801ed14631eed4"
        );
    }

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// RFC 8032 §7.1, tests 1–3: seed, public key, message, signature.
    const RFC8032: [(&str, &str, &str, &str); 3] = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];

    #[test]
    fn ed25519_rfc8032_vectors() {
        for (seed, public, msg, sig) in RFC8032 {
            let key = ed25519_dalek::SigningKey::from_bytes(&unhex::<32>(seed));
            assert_eq!(hex::encode(key.verifying_key().to_bytes()), public);
            let msg = hex::decode(msg).unwrap();
            assert_eq!(hex::encode(key.sign(&msg).to_bytes()), sig);
        }
        // Through our signer: the same bytes, base64 encoded (test 2's message is "r").
        let creds = Credentials::ed25519_from_seed("k", unhex::<32>(RFC8032[1].0));
        let b64 = creds.signer().sign("r");
        assert_eq!(hex::encode(BASE64.decode(&b64).unwrap()), RFC8032[1].3);
        let q = creds.signer().sign_for_query("r");
        assert!(
            !q.contains('+') && !q.contains('/') && !q.contains('='),
            "{q}"
        );
        assert_eq!(q, encode_value(&b64));
    }

    #[test]
    fn pem_round_trip_and_errors() {
        let seed = unhex::<32>(RFC8032[0].0);
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            BASE64.encode(&der)
        );
        let creds = Credentials::ed25519_from_pem("k", &pem).unwrap();
        assert!(creds.is_ed25519());
        let direct = Credentials::ed25519_from_seed("k", seed);
        assert_eq!(creds.signer().sign("x"), direct.signer().sign("x"));
        for bad in [
            "",
            "-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----",
        ] {
            let e = Credentials::ed25519_from_pem("k", bad).unwrap_err();
            assert!(e.to_string().contains("ed25519 private key PEM"), "{e}");
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let seed = unhex::<32>(RFC8032[0].0);
        for creds in [
            Credentials::hmac(API_KEY, SECRET),
            Credentials::ed25519_from_seed(API_KEY, seed),
        ] {
            let shown = format!("{creds:?} {creds:#?}");
            assert!(
                !shown.contains(API_KEY) && !shown.contains(SECRET),
                "{shown}"
            );
            assert!(!shown.contains(&RFC8032[0].0[..16]), "{shown}");
            assert!(!shown.contains("157, 97"), "seed bytes leaked: {shown}");
        }
    }
}
