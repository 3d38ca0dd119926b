//! Page tokens: opaque to clients, signed by the server and bound to the list they page,
//! so a token that was altered, made up or taken from another list is 422, never a page
//! from somewhere else.
//!
//! A token is base64url(body ‖ tag), where the body is text naming the list and the
//! position, and the tag is the first 16 bytes of HMAC-SHA-256 over the body with a key
//! derived from the server secret (so tokens survive a restart, and every process behind
//! one PostgreSQL database reads the others' tokens).

use base64::Engine;

use crate::auth::refresh::hmac_sha256;
use crate::db::history::Position;
use crate::error::{ApiError, ApiResult};
use crate::model::{CampaignId, RecordId};
use crate::services::visits::VisitCursor;

/// Bytes of the tag kept in a token: 128 bits, far beyond guessing.
const TAG_BYTES: usize = 16;

/// Signs and opens page tokens.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(..)")
    }
}

fn bad() -> ApiError {
    ApiError::validation("page_token is not one this server gave for this list")
}

impl PageTokens {
    /// The key belonging to a server secret.
    pub fn from_secret(secret: &[u8]) -> PageTokens {
        PageTokens {
            key: hmac_sha256(secret, b"canvass page tokens v1"),
        }
    }

    fn seal(&self, body: &str) -> String {
        let tag = hmac_sha256(&self.key, body.as_bytes());
        let mut bytes = body.as_bytes().to_vec();
        bytes.extend_from_slice(&tag[..TAG_BYTES]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn open(&self, token: &str) -> ApiResult<String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| bad())?;
        if bytes.len() <= TAG_BYTES {
            return Err(bad());
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_BYTES);
        let expected = hmac_sha256(&self.key, body);
        // Compared in constant time: timing tells nothing about a forged tag.
        let differs = expected[..TAG_BYTES]
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differs != 0 {
            return Err(bad());
        }
        String::from_utf8(body.to_vec()).map_err(|_| bad())
    }

    /// The token of the visit list of `campaign` continuing after `cursor`.
    pub fn visits(&self, campaign: CampaignId, cursor: VisitCursor) -> String {
        self.seal(&format!(
            "visits|{campaign}|{}|{}",
            cursor.visited_at_us, cursor.id
        ))
    }

    /// Opens a visit-list token of `campaign` (422 for any other).
    pub fn open_visits(&self, campaign: CampaignId, token: &str) -> ApiResult<VisitCursor> {
        let body = self.open(token)?;
        let mut parts = body.split('|');
        let (Some("visits"), Some(c), Some(us), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        if c != campaign.to_string() {
            return Err(bad());
        }
        Ok(VisitCursor {
            visited_at_us: us.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }

    /// The token of `visit`'s history continuing after the entry at `after`.
    pub fn history(&self, visit: RecordId, after: Position) -> String {
        self.seal(&format!("history|{visit}|{}|{}", after.row, after.entry))
    }

    /// Opens a history token of `visit` (422 for any other). A token from before history
    /// was stored per change names a row only: that row is entry 0 of the same row now.
    pub fn open_history(&self, visit: RecordId, token: &str) -> ApiResult<Position> {
        let body = self.open(token)?;
        let mut parts = body.split('|');
        let (Some("history"), Some(v), Some(row), entry, None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        if v != visit.to_string() {
            return Err(bad());
        }
        Ok(Position {
            row: row.parse().map_err(|_| bad())?,
            entry: entry.map_or(Ok(0), str::parse).map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn keys() -> PageTokens {
        PageTokens::from_secret(b"a secret")
    }

    #[test]
    fn a_token_opens_for_its_own_list_only() {
        let visit = RecordId(Uuid::new_v4());
        let after = Position { row: 42, entry: 3 };
        let token = keys().history(visit, after);
        assert_eq!(keys().open_history(visit, &token).ok(), Some(after));
        assert!(keys()
            .open_history(RecordId(Uuid::new_v4()), &token)
            .is_err());
        let campaign = CampaignId(Uuid::new_v4());
        assert!(keys().open_visits(campaign, &token).is_err());
        let other_server = PageTokens::from_secret(b"another secret");
        assert!(other_server.open_history(visit, &token).is_err());
    }

    #[test]
    fn an_altered_token_is_refused() {
        let campaign = CampaignId(Uuid::new_v4());
        let cursor = VisitCursor {
            visited_at_us: 1_597_742_400_000_000,
            id: RecordId(Uuid::new_v4()),
        };
        let token = keys().visits(campaign, cursor);
        assert_eq!(keys().open_visits(campaign, &token).ok(), Some(cursor));
        let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            let altered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            assert!(keys().open_visits(campaign, &altered).is_err(), "byte {i}");
            bytes[i] ^= 1;
        }
        for junk in ["", "garbage", "AAAA", "!!"] {
            assert!(keys().open_visits(campaign, junk).is_err(), "{junk}");
        }
    }
}
