//! IO and fixtures around `velocity-sync`, shared by the runnable
//! participants: the demo, the sync server ([`server`]), its load tool
//! ([`load`]) and the preview-container agent ([`agent`]).

pub mod agent;
pub mod load;
pub mod server;
pub mod template;
