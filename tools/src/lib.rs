//! Tools around `velocity-sync`, not published: the load tool ([`load`]),
//! `agent-bench`, the template project the demo and tests start from
//! ([`template`]), and the test kit the products' tests share
//! ([`testkit`]: scratch databases, tokens, servers in-process, peers over
//! real sockets).

pub mod load;
pub mod template;
pub mod testkit;
