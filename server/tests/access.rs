//! Tokens: each bad token is refused before anything is applied, and a
//! read-only role cannot write.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use futures_util::{SinkExt, StreamExt};
use support::{
    Backend, InProcess, Peer, SECRET, client_token, now_secs, open, options, path, token,
};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;
use velocity_sync::ProjectClient;
use velocity_sync_server::auth::{Claims, sign};

fn signed(project: Uuid, role: &str, exp: u64, secret: &[u8]) -> String {
    let claims = Claims {
        project_id: project.to_string(),
        role: role.to_owned(),
        exp,
        sub: None,
        sync_role: None,
        client_id: Some(1),
    };
    sign(&claims, secret).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_with_a_reason() {
    bad_tokens(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_with_a_reason_on_postgres() {
    bad_tokens(Backend::Postgres).await;
}

async fn bad_tokens(backend: Backend) {
    let Some((server, _db)) = support::start(backend, "tokens", options()).await else {
        return;
    };
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

/// The first frame the server sends on `ws`, as text; None when it closes.
async fn first_reply(ws: &mut support::Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(support::WAIT, ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(text))) => return Some(text.to_string()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_binds_its_client_id() {
    let server = InProcess::start("client-id", options()).await;
    let project = Uuid::from_u128(0xA4);
    let hello = |client: u64| {
        Message::text(format!(
            r#"{{"v":1,"event":"sync:hello","payload":{{"client":{client}}}}}"#
        ))
    };
    // A token for client 5 cannot say hello as client 6, and one naming no
    // client cannot say hello. (The database's own client id, u64::MAX, is
    // above 2^53 - 1, which the protocol refuses in any hello.)
    for (token, client, code) in [
        (client_token(project, "editor", 5), 6, "auth.wrong_client"),
        (token(project, "editor"), 5, "auth.no_client"),
    ] {
        let mut ws = open(server.addr, project, &token).await.unwrap();
        ws.send(hello(client)).await.unwrap();
        let reply = first_reply(&mut ws).await.unwrap();
        let json: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(json["event"], "error", "{reply}");
        assert_eq!(json["payload"]["code"], code, "{reply}");
        assert_eq!(first_reply(&mut ws).await, None, "the socket closes");
    }
    // A Supabase access token with our claims: role "authenticated", the
    // sync role and client id beside it.
    let supabase = sign(
        &Claims {
            project_id: project.to_string(),
            role: "authenticated".to_owned(),
            exp: now_secs() + 60,
            sub: Some("6f1c8a52-8d0e-4c55-b4b4-5c0f3f2f7f10".to_owned()),
            sync_role: Some("editor".to_owned()),
            client_id: Some(5),
        },
        SECRET,
    )
    .unwrap();
    let mut editor =
        Peer::rejoin_with(server.addr, project, &supabase, ProjectClient::new(5)).await;
    editor.client.create(path("a.ts"), Some(b"x".to_vec()));
    editor.settle().await;
    assert!(editor.rejections.is_empty() && editor.errors.is_empty());
    // Nothing of the refused hellos was applied.
    assert_eq!(editor.client.event_number(), 1);
}
