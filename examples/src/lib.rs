//! IO around `velocity-sync`: the runnable participants share this library.
