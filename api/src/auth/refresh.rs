//! Refresh tokens: 256 random bits, given to the phone once, stored only as a hash.
//!
//! The token that replaces a refresh token is not drawn at random but derived from it with
//! a server key, `HMAC-SHA-256(key, token)`. A phone that lost the answer to a refresh and
//! presents the same token again within the grace window is so answered with the very same
//! new refresh token, although only its hash is stored: a login's tokens form one chain
//! and can never fork into two (see `docs/decisions.md`).

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// A new random token (URL-safe base64 of 32 bytes).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    encode(&bytes)
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// HMAC-SHA-256 (RFC 2104).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The key that derives successor tokens, itself derived from the server secret so that
/// every process sharing the secret derives the same successors.
#[derive(Clone)]
pub struct SuccessorKey([u8; 32]);

impl SuccessorKey {
    /// The key belonging to a server secret.
    pub fn from_secret(secret: &[u8]) -> SuccessorKey {
        SuccessorKey(hmac_sha256(secret, b"canvass refresh-token successor v1"))
    }

    /// The token that replaces `token` when it is exchanged.
    pub fn successor(&self, token: &str) -> String {
        encode(&hmac_sha256(&self.0, token.as_bytes()))
    }
}

impl std::fmt::Debug for SuccessorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SuccessorKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_their_hash_is_not_the_token() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 64);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_the_rfc_4231_vectors() {
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // A key longer than the block is hashed first (test case 6).
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn successors_are_stable_per_key_and_differ_between_keys_and_tokens() {
        let key = SuccessorKey::from_secret(b"secret one");
        let other = SuccessorKey::from_secret(b"secret two");
        let token = new_token();
        assert_eq!(key.successor(&token), key.successor(&token));
        assert_eq!(key.successor(&token).len(), 43);
        assert_ne!(key.successor(&token), other.successor(&token));
        assert_ne!(key.successor(&token), key.successor(&new_token()));
        assert_ne!(key.successor(&token), token);
    }
}
