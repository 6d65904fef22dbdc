//! The client connects to the local server and refuses bad URLs before connecting.

use rustrade_nats::{NatsError, NatsOptions, connect, testing};

#[tokio::test]
async fn a_url_with_credentials_is_refused_without_showing_them() {
    let err = connect(&NatsOptions::new("nats://bob:hunter2@127.0.0.1:4222", "t"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, NatsError::InvalidOption { field: "url", .. }),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn a_url_of_another_scheme_is_refused_naming_it() {
    let err = connect(&NatsOptions::new("http://127.0.0.1:4222", "t"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("http://127.0.0.1:4222"), "{err}");
}

#[tokio::test]
async fn the_local_server_stores_a_message_in_a_jetstream_stream() {
    let Some(client) = testing::client_or_skip("jetstream_stores").await else {
        return;
    };
    let js = async_nats::jetstream::new(client);
    let name = testing::unique_name("connect");
    let mut stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![format!("{name}.>")],
            ..Default::default()
        })
        .await
        .expect("JetStream enabled on the server");
    let ack = js
        .publish(format!("{name}.x"), "hello".into())
        .await
        .expect("published")
        .await
        .expect("acknowledged");
    assert_eq!(ack.sequence, 1);
    assert_eq!(stream.info().await.expect("info").state.messages, 1);
    js.delete_stream(&name).await.expect("deleted");
}
