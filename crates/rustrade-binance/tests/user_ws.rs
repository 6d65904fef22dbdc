//! The user-data stream against a local WebSocket API server that checks the subscription's
//! signature (HMAC and Ed25519 logon), then pushes reports and a termination.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use rustrade_binance::{
    BinanceUserStream, Credentials, ServerClock, UserStreamConfig, hmac_sha256_hex, ws_payload,
};
use rustrade_core::{ExchangeError, ExecutionReport, FillSource};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const REPORT: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"b-1-1","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","x":"TRADE","X":"FILLED","r":"NONE","i":4293153,"l":"1.00000000","z":"1.00000000","L":"0.10264410","n":"0.00100000","N":"ETH","T":1499405658657,"t":77,"m":false,"C":""}}"#;

/// How the server checks a signed request's params.
type Verify = Box<dyn Fn(&Value) -> bool + Send>;

/// Serves one connection: answers each request (200 if `verify` accepts a signed one), and after
/// the subscription pushes `REPORT` and `eventStreamTerminated`. Records the methods seen.
async fn server(verify: Verify) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws-api/v3", listener.local_addr().unwrap());
    let methods = Arc::new(Mutex::new(Vec::new()));
    let m = Arc::clone(&methods);
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        while let Some(Ok(Message::Text(t))) = ws.next().await {
            let req: Value = serde_json::from_str(&t).unwrap();
            let method = req["method"].as_str().unwrap().to_owned();
            m.lock().unwrap().push(method.clone());
            let ok = method == "userDataStream.subscribe" || verify(&req["params"]);
            let answer = if ok {
                json!({"id": req["id"], "status": 200, "result": {}})
            } else {
                json!({"id": req["id"], "status": 400, "error": {"code": -1022, "msg": "Signature for this request is not valid."}})
            };
            ws.send(Message::text(answer.to_string())).await.unwrap();
            if ok && method.starts_with("userDataStream.subscribe") {
                ws.send(Message::text(REPORT)).await.unwrap();
                ws.send(Message::text(
                    r#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1}}"#,
                ))
                .await
                .unwrap();
            }
        }
    });
    (url, methods)
}

fn payload(params: &Value) -> String {
    let map = params.as_object().unwrap();
    let pairs: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    ws_payload(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[tokio::test]
async fn hmac_subscription_by_signature_streams_reports_then_ends() {
    let verify: Verify = Box::new(|p| {
        p["apiKey"] == "k" && p["signature"] == hmac_sha256_hex(b"s", payload(p).as_bytes())
    });
    let (url, methods) = server(verify).await;
    let mut s = BinanceUserStream::new(
        UserStreamConfig::new(url, Credentials::hmac("k", "s")),
        Arc::new(ServerClock::new()),
    );
    s.connect().await.unwrap();
    let Some(ExecutionReport::Fill(f)) = s.next_report().await.unwrap() else {
        panic!("expected a fill");
    };
    assert_eq!(f.fill_id.as_str(), "ETHBTC-77");
    assert_eq!(f.client_id.unwrap().as_str(), "b-1-1");
    let e = s.next_report().await.unwrap_err();
    assert!(
        matches!(&e, ExchangeError::Closed(m) if m.contains("catch up")),
        "{e}"
    );
    assert_eq!(
        *methods.lock().unwrap(),
        ["userDataStream.subscribe.signature"]
    );
}

#[tokio::test]
async fn ed25519_logs_on_then_subscribes_and_a_bad_signature_is_an_auth_error() {
    let seed = [7u8; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let verify: Verify = Box::new(move |p| {
        use base64::Engine as _;
        let Ok(sig) =
            base64::engine::general_purpose::STANDARD.decode(p["signature"].as_str().unwrap_or(""))
        else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig) else {
            return false;
        };
        public.verify_strict(payload(p).as_bytes(), &sig).is_ok()
    });
    let (url, methods) = server(verify).await;
    let mut s = BinanceUserStream::new(
        UserStreamConfig::new(url, Credentials::ed25519_from_seed("k", seed)),
        Arc::new(ServerClock::new()),
    );
    s.connect().await.unwrap();
    assert!(matches!(
        s.next_report().await.unwrap(),
        Some(ExecutionReport::Fill(_))
    ));
    assert_eq!(
        *methods.lock().unwrap(),
        ["session.logon", "userDataStream.subscribe"]
    );

    // The wrong key: the venue's -1022 comes back as an authentication failure.
    let verify: Verify = Box::new(|_| false);
    let (url, _) = server(verify).await;
    let mut s = BinanceUserStream::new(
        UserStreamConfig::new(url, Credentials::hmac("k", "wrong")),
        Arc::new(ServerClock::new()),
    );
    let e = s.connect().await.unwrap_err();
    assert!(matches!(e, ExchangeError::Auth(_)), "{e}");
}
