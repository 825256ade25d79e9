//! Operational transform for text: the live layer of the editor.
//!
//! Every keystroke becomes a [`TextOp`]; the server's [`TextDocument`] orders
//! ops from all participants, transforming each against what was applied
//! since its author last heard from the server; each participant runs a
//! [`TextClient`] that keeps its own unacknowledged edits and transforms incoming
//! ones against them. [`UndoManager`] undoes only the local user's edits.
//!
//! - [`TextOp`]: normalised retain / insert / delete runs; `apply`,
//!   `compose`, `transform` (TP1), `invert`, `transform_position`; built from
//!   splices, from a diff ([`TextOp::diff`]), from editor changes with UTF-16
//!   offsets ([`Utf16Change`]) and from ot.js JSON ([`TextOp::from_json`]).
//! - [`TextDocument`]: the server side, in a rope, with a bounded history.
//! - [`TextClient`]: the classic three-state client (synchronised, awaiting ack,
//!   awaiting ack with a buffer).
//!
//! Lengths and positions count Unicode scalar values; `"\r\n"` is two of them
//! and is kept byte for byte. An op that does not fit a text is an
//! [`OtError`] and changes nothing.
//!
//! A server and two clients converging:
//!
//! ```
//! use velocity_sync::{TextClient, TextDocument, TextOp};
//! # fn main() -> Result<(), velocity_sync::OtError> {
//! let mut server = TextDocument::from_text("ab");
//! let (mut alice, mut bob) = (TextClient::new(1, 0), TextClient::new(2, 0));
//! let (mut alice_text, mut bob_text) = (String::from("ab"), String::from("ab"));
//!
//! // Both type at once.
//! let edit = TextOp::from_splice(2, 0, 0, "A")?;
//! alice_text = edit.apply(&alice_text)?;
//! let from_alice = alice.local_edit(edit)?.expect("synchronised: sent at once");
//! let edit = TextOp::from_splice(2, 2, 0, "B")?;
//! bob_text = edit.apply(&bob_text)?;
//! let from_bob = bob.local_edit(edit)?.expect("synchronised: sent at once");
//!
//! // The server orders Alice first, then Bob.
//! let a = server.submit(from_alice.client, from_alice.seq, from_alice.base_rev, from_alice.op)?;
//! let b = server.submit(from_bob.client, from_bob.seq, from_bob.base_rev, from_bob.op)?;
//!
//! // Everyone hears both, in server order.
//! alice.ack(a.rev)?;
//! bob_text = bob.remote(a.rev, &a.op)?.apply(&bob_text)?;
//! alice_text = alice.remote(b.rev, &b.op)?.apply(&alice_text)?;
//! bob.ack(b.rev)?;
//!
//! assert_eq!(server.text(), "AabB");
//! assert_eq!(alice_text, server.text());
//! assert_eq!(bob_text, server.text());
//! # Ok(())
//! # }
//! ```
//!
//! [`TextOp`]: crate::TextOp
//! [`TextOp::diff`]: crate::TextOp::diff
//! [`TextOp::from_json`]: crate::TextOp::from_json
//! [`TextDocument`]: crate::TextDocument
//! [`TextClient`]: crate::TextClient
//! [`OtError`]: crate::OtError

mod body;
pub(crate) mod client;
mod diff;
pub(crate) mod document;
pub(crate) mod error;
mod json;
mod live;
pub(crate) mod op;
mod undo;
mod utf16;
mod window;

pub use client::{Resynced, Submission, TextClientState};
pub use document::{ClientId, DEFAULT_HISTORY, Submitted};
pub use error::StaleRevision;
pub(crate) use live::LiveText;
pub use op::{Bias, Component, Side};
pub use undo::UndoManager;
pub use utf16::{Utf16Change, Utf16Index};
