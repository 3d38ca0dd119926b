//! Who is calling: passwords, access tokens, refresh tokens, login throttling, and the
//! extractor that turns a bearer token into a [`Caller`].

pub mod caller;
pub mod jwt;
pub mod password;
pub mod refresh;
pub mod throttle;

pub use caller::Caller;
