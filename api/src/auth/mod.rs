//! Who is calling: passwords, access tokens, refresh tokens, login throttling, and the
//! extractor that turns a bearer token into a [`Caller`].

pub mod caller;
pub mod client_addr;
pub mod hash_slots;
pub mod jwt;
pub mod password;
pub mod refresh;
pub mod sessions;
pub mod throttle;
pub mod username;

pub use caller::Caller;
