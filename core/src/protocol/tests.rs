use proptest::prelude::*;

use super::*;
use crate::TextOp;
use crate::entry::FileId;
use crate::hash::ContentHash;

fn id(n: u128) -> FileId {
    FileId::from_u128(n)
}

fn limits() -> ProtocolLimits {
    ProtocolLimits::default()
}

fn client_round_trip(message: ClientMessage) {
    let json = message.to_json();
    let back = decode_client(json.as_bytes(), &limits()).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(back, message, "{json}");
}

#[test]
fn client_messages_round_trip() {
    let op = TextOp::from_splice(3, 3, 0, "😀\r\n").unwrap();
    client_round_trip(ClientMessage::Hello(Hello {
        client: MAX_CLIENT_ID,
        n: Some(7),
        manifest: None,
        have: vec![ContentHash::of(b"x")],
        binary: true,
    }));
    client_round_trip(ClientMessage::Update(UpdateRequest {
        id: id(1),
        seq: 4,
        base: 9,
        edit: Edit::Op(op),
    }));
    client_round_trip(ClientMessage::Update(UpdateRequest {
        id: id(1),
        seq: 5,
        base: 0,
        edit: Edit::Content(Bytes::new(vec![0u8, 159, 146, 150])),
    }));
    client_round_trip(ClientMessage::Create(CreateRequest {
        id: id(2),
        path: FilePath::parse("src/new.ts").unwrap(),
        seq: 1,
        directory: false,
        executable: true,
        content: Some(Bytes::new(b"export {}\n".to_vec())),
    }));
    client_round_trip(ClientMessage::Delete(DeleteRequest { id: id(2), seq: 2 }));
    client_round_trip(ClientMessage::Rename(RenameRequest {
        id: None,
        directory: Some(FilePath::parse("src").unwrap()),
        to: FilePath::parse("lib").unwrap(),
        seq: 3,
    }));
    client_round_trip(ClientMessage::Presence(PresenceRequest {
        id: id(1),
        rev: 3,
        cursor: Some(Cursor { head: 4, anchor: 1 }),
    }));
    client_round_trip(ClientMessage::LegacyUpdate(LegacyUpdate {
        path: FilePath::parse("src/a.ts").unwrap(),
        content: "x".into(),
    }));
}

#[test]
fn the_wire_form_is_the_documented_one() {
    let message = ClientMessage::Update(UpdateRequest {
        id: id(1),
        seq: 4,
        base: 9,
        edit: Edit::Op(TextOp::from_splice(6, 5, 1, "ab").unwrap()),
    });
    assert_eq!(
        message.to_json(),
        r#"{"v":1,"event":"file:update","payload":{"id":"00000000-0000-0000-0000-000000000001","seq":4,"base":9,"op":[5,"ab",-1]}}"#
    );
}

#[test]
fn every_rejection_has_its_code() {
    let big = format!(
        r#"{{"event":"file:update","payload":{{"path":"a","content":"{}"}}}}"#,
        "x".repeat(800 << 10)
    );
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "protocol.bad_json"),
        (r#"{"v":1,"event":"file:nope","payload":{}}"#.into(), "protocol.unknown_event"),
        (r#"{"v":2,"event":"file:delete","payload":{}}"#.into(), "protocol.unsupported_version"),
        (r#"{"event":"file:delete","payload":{}}"#.into(), "protocol.unsupported_version"),
        (r#"{"v":1,"event":"file:delete","payload":{"id":"x","seq":1}}"#.into(), "protocol.bad_payload"),
        (
            r#"{"v":1,"event":"file:create","payload":{"id":"00000000-0000-0000-0000-000000000001","path":"../x","seq":1}}"#.into(),
            "protocol.bad_payload",
        ),
        (
            r#"{"v":1,"event":"sync:hello","payload":{"client":9007199254740992}}"#.into(),
            "protocol.client_id_too_large",
        ),
        (
            r#"{"v":1,"event":"file:rename","payload":{"to":"a","seq":1}}"#.into(),
            "protocol.bad_payload",
        ),
        (
            r#"{"v":1,"event":"file:update","payload":{"id":"00000000-0000-0000-0000-000000000001","seq":1,"base":0,"op":[1],"extra":1}}"#.into(),
            "protocol.bad_payload",
        ),
        (r#"{"event":"file:update","payload":{"path":"/../x","content":""}}"#.into(), "protocol.bad_payload"),
        (big, "protocol.content_too_large"),
    ];
    for (input, code) in cases {
        let err = decode_client(input.as_bytes(), &limits()).unwrap_err();
        assert_eq!(err.code(), code, "{}", &input[..input.len().min(120)]);
    }
    let tight = ProtocolLimits {
        max_message_bytes: 10,
        ..limits()
    };
    let err = decode_client(br#"{"v":1,"event":"x","payload":{}}"#, &tight).unwrap_err();
    assert_eq!(
        err,
        ProtocolError::MessageTooLarge {
            bytes: 32,
            limit: 10
        }
    );
    assert_eq!(
        err.to_string(),
        "message of 32 bytes exceeds the limit of 10"
    );
    let ops = ProtocolLimits {
        max_op_components: 2,
        ..limits()
    };
    let err = decode_client(
        br#"{"v":1,"event":"file:update","payload":{"id":"00000000-0000-0000-0000-000000000001","seq":1,"base":0,"op":[1,"a",-1]}}"#,
        &ops,
    )
    .unwrap_err();
    assert_eq!(err.code(), "protocol.op_too_long");
    let have = ProtocolLimits {
        max_have: 0,
        ..limits()
    };
    let hello = ClientMessage::Hello(Hello {
        client: 1,
        n: None,
        manifest: None,
        have: vec![ContentHash::of(b"")],
        binary: false,
    });
    assert_eq!(
        decode_client(hello.to_json().as_bytes(), &have)
            .unwrap_err()
            .code(),
        "protocol.too_many_hashes"
    );
}

#[test]
fn server_messages_round_trip() {
    let messages = vec![
        ServerMessage::Event(Event {
            n: 3,
            client: Some(2),
            seq: Some(1),
            change: EventChange::Text {
                id: id(1),
                rev: 5,
                op: TextOp::from_splice(1, 1, 0, "x").unwrap(),
            },
        }),
        ServerMessage::Ack(Ack {
            seq: 1,
            id: Some(id(1)),
            n: Some(3),
            rev: Some(5),
        }),
        ServerMessage::Error(ErrorMessage {
            code: "sync.read_only".into(),
            message: "m".into(),
            seq: Some(1),
            id: None,
        }),
        ServerMessage::ResyncRequired(ResyncRequired { reason: "r".into() }),
        ServerMessage::Presence(PresenceEvent {
            client: 1,
            id: id(1),
            rev: 2,
            cursor: None,
        }),
    ];
    for message in messages {
        let json = message.to_json();
        assert_eq!(
            decode_server(json.as_bytes(), &limits()).unwrap(),
            message,
            "{json}"
        );
    }
    assert_eq!(
        decode_server(br#"{"event":"ack","payload":{"seq":1}}"#, &limits())
            .unwrap_err()
            .code(),
        "protocol.unsupported_version"
    );
}

proptest! {
    #[test]
    fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_client(&bytes, &limits());
        let _ = decode_server(&bytes, &limits());
    }

    #[test]
    fn decoding_mangled_messages_never_panics(cut in 0usize..200, byte in any::<u8>()) {
        let json = ClientMessage::Update(UpdateRequest {
            id: id(1), seq: 4, base: 9, edit: Edit::Op(TextOp::from_splice(2, 2, 0, "é").unwrap()),
        }).to_json();
        let mut bytes = json.into_bytes();
        let at = cut % bytes.len();
        bytes[at] = byte;
        let _ = decode_client(&bytes, &limits());
    }
}
