//! IO and fixtures around `velocity-sync`, shared by the runnable
//! participants: the demo, the sync server ([`server`]) and later the
//! container agent.

pub mod agent;
pub mod server;
pub mod template;
