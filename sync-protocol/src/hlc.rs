//! Hybrid logical clock timestamps (contract §6): their text form, parsing and order.
//!
//! The clock that issues them lives in [`crate::clock`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a text or a set of parts is not a valid [`Hlc`].
///
/// Parsing never panics: every malformed input maps to one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    /// The text does not have the three `ms-counter-node` parts.
    #[error("an HLC has three parts, ms-counter-node")]
    MissingParts,
    /// The `ms` part is not exactly 13 decimal digits.
    #[error("the ms part of an HLC is exactly 13 decimal digits")]
    BadMs,
    /// The `ms` value is above [`Hlc::MAX_MS`].
    #[error("the ms of an HLC is at most 9999999999999")]
    MsOutOfRange,
    /// The `counter` part is not exactly 4 lowercase hexadecimal digits.
    #[error("the counter part of an HLC is exactly 4 lowercase hexadecimal digits")]
    BadCounter,
    /// The node is empty, longer than 64 characters, or holds a character that is
    /// not printable ASCII or is a space.
    #[error("the node of an HLC is 1 to 64 printable ASCII characters without spaces")]
    BadNode,
    /// `server`, the server's own node, given to a phone's replica.
    #[error("the device id server is reserved for the server's own stamps")]
    ReservedNode,
}

/// A hybrid logical clock timestamp: wall-clock milliseconds, a counter, and the writer's node.
///
/// Text form `"{ms:013}-{counter:04x}-{node}"`; the order is by `ms`, then `counter`, then
/// `node` byte-wise. Serialized as that text.
///
/// ```
/// use sync_protocol::Hlc;
///
/// let a: Hlc = "1597742400000-0000-phone-7".parse()?;
/// assert_eq!((a.ms(), a.counter(), a.node()), (1_597_742_400_000, 0, "phone-7"));
/// assert_eq!(a.to_string(), "1597742400000-0000-phone-7");
///
/// let b = Hlc::new(1_597_742_400_000, 1, "phone-2")?;
/// assert!(a < b, "the counter decides before the node");
/// assert!("1597742400000-000A-x".parse::<Hlc>().is_err(), "hex digits are lowercase");
/// # Ok::<(), sync_protocol::HlcError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hlc {
    ms: u64,
    counter: u16,
    node: String,
}

impl Hlc {
    /// The largest `ms` a 13-digit text can carry.
    pub const MAX_MS: u64 = 9_999_999_999_999;
    /// The longest node, in characters.
    pub const MAX_NODE_LEN: usize = 64;

    /// Builds an HLC from its parts, checking the bounds of `ms` and the node's characters.
    pub fn new(ms: u64, counter: u16, node: &str) -> Result<Hlc, HlcError> {
        if ms > Self::MAX_MS {
            return Err(HlcError::MsOutOfRange);
        }
        check_node(node)?;
        Ok(Hlc {
            ms,
            counter,
            node: node.to_owned(),
        })
    }

    /// Unix milliseconds of the writer's hybrid clock.
    pub fn ms(&self) -> u64 {
        self.ms
    }

    /// The logical counter that orders events within one millisecond.
    pub fn counter(&self) -> u16 {
        self.counter
    }

    /// The writer's node (its `device_id`, or `"server"`).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Builds an HLC from parts already known to be valid (used by the clock).
    pub(crate) fn from_checked_parts(ms: u64, counter: u16, node: &str) -> Hlc {
        Hlc {
            ms,
            counter,
            node: node.to_owned(),
        }
    }
}

/// Checks a node: 1–64 characters, each printable ASCII other than the space.
pub(crate) fn check_node(node: &str) -> Result<(), HlcError> {
    let ok = !node.is_empty()
        && node.len() <= Hlc::MAX_NODE_LEN
        && node.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(HlcError::BadNode)
    }
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        self.ms
            .cmp(&other.ms)
            .then(self.counter.cmp(&other.counter))
            .then_with(|| self.node.as_bytes().cmp(other.node.as_bytes()))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:013}-{:04x}-{}", self.ms, self.counter, self.node)
    }
}

impl FromStr for Hlc {
    type Err = HlcError;

    fn from_str(text: &str) -> Result<Hlc, HlcError> {
        let mut parts = text.splitn(3, '-');
        let (Some(ms), Some(counter), Some(node)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(HlcError::MissingParts);
        };
        if ms.len() != 13 || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HlcError::BadMs);
        }
        let is_lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if counter.len() != 4 || !counter.bytes().all(is_lower_hex) {
            return Err(HlcError::BadCounter);
        }
        let ms = ms.parse::<u64>().map_err(|_| HlcError::BadMs)?;
        let counter = u16::from_str_radix(counter, 16).map_err(|_| HlcError::BadCounter)?;
        Hlc::new(ms, counter, node)
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hlc, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
