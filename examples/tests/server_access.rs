//! Tokens: each bad token is refused before anything is applied, and a
//! read-only role cannot write.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

mod support;

use support::{InProcess, Peer, SECRET, now_secs, open, options, path, token};
use uuid::Uuid;
use velocity_sync_examples::server::auth::{Claims, sign};

fn signed(project: Uuid, role: &str, exp: u64, secret: &[u8]) -> String {
    let claims = Claims {
        project_id: project.to_string(),
        role: role.to_owned(),
        exp,
        sub: None,
    };
    sign(&claims, secret).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_with_a_reason() {
    let server = InProcess::start("tokens", options()).await;
    let project = Uuid::from_u128(0xA1);
    let other = Uuid::from_u128(0xA2);
    let later = now_secs() + 3600;
    let cases = [
        (
            signed(other, "editor", later, SECRET),
            403,
            "auth.wrong_project",
        ),
        (
            signed(project, "editor", now_secs() - 3600, SECRET),
            401,
            "auth.expired",
        ),
        (
            signed(project, "editor", later, b"another secret"),
            401,
            "auth.bad_signature",
        ),
        ("not-a-jwt".to_owned(), 401, "auth.malformed"),
        ("".to_owned(), 401, "auth.malformed"),
        (
            signed(project, "owner", later, SECRET),
            403,
            "auth.unknown_role",
        ),
    ];
    for (token, status, code) in cases {
        let (got, body) = open(server.addr, project, &token).await.err().unwrap();
        assert_eq!(got, status, "{code}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], code, "{body}");
        assert!(!json["message"].as_str().unwrap().is_empty());
    }
    // No token at all; a bearer header works like the query.
    let url = format!("ws://{}/projects/{project}/ws", server.addr);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401)
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            url.as_str(),
        )
        .unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", token(project, "viewer"))
            .parse()
            .unwrap(),
    );
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());

    // Nothing was applied: a fresh editor sees an empty project.
    let editor = Peer::join(server.addr, project, "editor", 9).await;
    assert!(editor.client.manifest().is_empty());
    assert_eq!(editor.client.event_number(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_cannot_write() {
    let server = InProcess::start("readonly", options()).await;
    let project = Uuid::from_u128(0xA3);
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    editor.client.create(path("a.ts"), Some(b"x".to_vec()));
    editor.settle().await;
    let mut agent = Peer::join(server.addr, project, "agent", 2).await;
    agent.until_text("a.ts", "x").await;
    agent.client.create(path("evil.ts"), Some(b"y".to_vec()));
    let n = editor.client.event_number();
    let deadline = tokio::time::Instant::now() + support::WAIT;
    while agent.rejections.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no rejection");
        agent.step(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(agent.rejections, ["sync.read_only"]);
    // The editor's next change lands right after its own last event: the
    // agent's create took no event number.
    editor.client.create(path("b.ts"), Some(b"z".to_vec()));
    editor.settle().await;
    assert_eq!(editor.client.event_number(), n + 1);
    assert!(editor.id_at("evil.ts").is_none());
}
