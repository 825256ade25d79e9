pub mod net;
pub mod sim;
