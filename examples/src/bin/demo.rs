//! The velocity-sync demo (grows with each issue).

fn main() {
    println!("velocity-sync {}", velocity_sync::VERSION);
}
