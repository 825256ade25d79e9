//! A hostile or buggy client cannot crash the server or corrupt the project:
//! random message sequences (bad ids, ops that do not fit, stale bases,
//! colliding paths, retries, presence for unknown files) never panic, and
//! afterwards the server's state is consistent and an honest client still
//! converges with it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use proptest::prelude::*;
use velocity_sync::protocol::{
    Bytes, ClientMessage, CreateRequest, Cursor, DeleteRequest, Edit, Hello, LegacyUpdate,
    PresenceRequest, RenameRequest, UpdateRequest,
};
use velocity_sync::{
    FileId, FilePath, Manifest, ProjectClient, ProjectServer, Role, ServerConfig, TextOp,
};

const PATHS: &[&str] = &[
    "a.ts",
    "A.ts",
    "src/a.ts",
    "src",
    "src/b.ts/c",
    "x (2).ts",
    "caf\u{e9}",
    "cafe\u{301}",
];

fn id(n: u8) -> FileId {
    FileId::from_u128(u128::from(n % 6) + 1)
}

fn op() -> impl Strategy<Value = TextOp> {
    (0usize..40, 0usize..6, "[a😀\r\n]{0,4}").prop_map(|(retain, delete, insert)| {
        let mut op = TextOp::new();
        op.retain(retain).insert(&insert).delete(delete);
        op
    })
}

fn message() -> impl Strategy<Value = ClientMessage> {
    let path = proptest::sample::select(PATHS).prop_map(|p| FilePath::parse(p).unwrap());
    prop_oneof![
        (any::<u8>(), 0u64..20, 0u64..30, op()).prop_map(|(f, seq, base, op)| {
            ClientMessage::Update(UpdateRequest {
                id: id(f),
                seq,
                base,
                edit: Edit::Op(op),
            })
        }),
        (
            any::<u8>(),
            0u64..20,
            0u64..30,
            proptest::collection::vec(any::<u8>(), 0..8)
        )
            .prop_map(|(f, seq, base, b)| {
                ClientMessage::Update(UpdateRequest {
                    id: id(f),
                    seq,
                    base,
                    edit: Edit::Content(Bytes::new(b)),
                })
            }),
        (
            any::<u8>(),
            path.clone(),
            0u64..20,
            any::<bool>(),
            "[ab\n]{0,6}"
        )
            .prop_map(|(f, path, seq, directory, text)| {
                ClientMessage::Create(CreateRequest {
                    id: id(f),
                    path,
                    seq,
                    directory,
                    executable: false,
                    content: (!directory).then(|| Bytes::new(text.into_bytes())),
                })
            }),
        (any::<u8>(), 0u64..20)
            .prop_map(|(f, seq)| ClientMessage::Delete(DeleteRequest { id: id(f), seq })),
        (any::<u8>(), path.clone(), 0u64..20).prop_map(|(f, to, seq)| ClientMessage::Rename(
            RenameRequest {
                id: Some(id(f)),
                directory: None,
                to,
                seq,
            }
        )),
        (path.clone(), path.clone(), 0u64..20).prop_map(|(from, to, seq)| ClientMessage::Rename(
            RenameRequest {
                id: None,
                directory: Some(from),
                to,
                seq,
            }
        )),
        (path.clone(), "[ab\n]{0,6}").prop_map(|(path, content)| ClientMessage::LegacyUpdate(
            LegacyUpdate { path, content }
        )),
        (any::<u8>(), 0u64..30, 0u64..50).prop_map(|(f, rev, at)| ClientMessage::Presence(
            PresenceRequest {
                id: id(f),
                rev,
                cursor: Some(Cursor {
                    head: at,
                    anchor: at / 2
                }),
            }
        )),
        (0u64..40).prop_map(|n| ClientMessage::Hello(Hello {
            client: 66,
            n: Some(n),
            manifest: None,
            have: vec![],
            binary: false
        })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_sequences_leave_a_consistent_project(messages in proptest::collection::vec(message(), 1..60)) {
        let config = ServerConfig { history_ops: 4, log_events: 8, ..ServerConfig::default() };
        let mut server = ProjectServer::new(config);
        server.connect(66, Role::Editor);
        for message in messages {
            server.handle(66, message);
            while server.poll_outbound().is_some() {}
        }
        server.checkpoint();
        while server.poll_outbound().is_some() {}
        // The manifest is a valid tree whose contents the server holds.
        let manifest = server.manifest().clone();
        let rebuilt = Manifest::from_entries(manifest.entries()).unwrap().with_header(manifest.version(), manifest.parent());
        prop_assert_eq!(rebuilt.id(), manifest.id());
        for entry in manifest.entries() {
            let content = server.content(&entry.id.unwrap()).unwrap();
            prop_assert!(entry.matches_content(&content) || !entry.kind.has_content(), "{}", entry.path);
        }
        // An honest client joining now reaches the same project.
        let mut honest = ProjectClient::new(7);
        server.connect(7, Role::Agent);
        honest.connect();
        loop {
            let mut moved = false;
            while let Some(message) = honest.poll_outbound() {
                server.handle(7, message);
                moved = true;
            }
            while let Some(out) = server.poll_outbound() {
                if matches!(out.to, velocity_sync::Recipient::Client(7) | velocity_sync::Recipient::All) {
                    honest.handle((*out.message).clone());
                }
                moved = true;
            }
            if !moved {
                break;
            }
        }
        prop_assert_eq!(honest.manifest().id(), manifest.id());
        for entry in manifest.entries() {
            let id = entry.id.unwrap();
            prop_assert_eq!(honest.content(&id), server.content(&id));
        }
    }
}
