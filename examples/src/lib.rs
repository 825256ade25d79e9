//! IO and fixtures around `velocity-sync`, shared by the runnable
//! participants (the demo, and later the sync server and container agent).

pub mod template;
