//! Judging a buffered request head by the rules actix-http applies (so that what it is
//! handed never makes it answer on its own), and reading the body's framing from it.

use actix_web::http::{Method, Uri};

use super::Refusal;

/// The most header fields a request may carry (actix-http's own limit is 96).
pub const MAX_HEADERS: usize = 64;
/// The most bytes a request line and its header fields may take (actix-http's own limit
/// is 128 KiB, answered 431).
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// How the body after a sound head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body: the next request starts right after the head.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// A protocol switch (`CONNECT`, WebSocket upgrade): everything after the head belongs
    /// to actix-http, unjudged.
    Opaque,
}

/// What the bytes buffered so far amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum Judgement {
    /// The head has not fully arrived.
    Incomplete,
    /// A sound head of `head_len` bytes.
    Sound { head_len: usize, framing: Framing },
    /// A head actix-http must not see.
    Refused(Refusal),
}

/// Judges the bytes at the start of a request.
pub fn judge(buffered: &[u8]) -> Judgement {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(buffered) {
        Ok(httparse::Status::Partial) if buffered.len() >= MAX_HEAD_BYTES => {
            Judgement::Refused(Refusal::TooLarge)
        }
        Ok(httparse::Status::Partial) => Judgement::Incomplete,
        Ok(httparse::Status::Complete(head_len)) if head_len > MAX_HEAD_BYTES => {
            Judgement::Refused(Refusal::TooLarge)
        }
        Ok(httparse::Status::Complete(head_len)) => match framing(&request) {
            Some(framing) => Judgement::Sound { head_len, framing },
            None => Judgement::Refused(Refusal::Malformed),
        },
        Err(httparse::Error::TooManyHeaders) => Judgement::Refused(Refusal::TooManyHeaders),
        Err(_) => Judgement::Refused(Refusal::Malformed),
    }
}

/// The body's framing, or `None` where actix-http would answer 400 (its `set_headers` and
/// `decode` checks: one Host, one Content-Length of plain digits, Transfer-Encoding only
/// `chunked` on HTTP/1.1 and never with Content-Length, a Host on HTTP/1.1, a length on an
/// HTTP/1.0 POST).
fn framing(request: &httparse::Request<'_, '_>) -> Option<Framing> {
    let method = Method::from_bytes(request.method?.as_bytes()).ok()?;
    Uri::try_from(request.path?).ok()?;
    let http11 = request.version? == 1;
    let mut content_length: Option<u64> = None;
    let mut transfer_encodings = 0;
    let mut chunked = false;
    let mut hosts = 0;
    let mut websocket = false;
    for field in request.headers.iter() {
        let value = std::str::from_utf8(field.value).ok().map(str::trim);
        if field.name.eq_ignore_ascii_case("content-length") {
            let value = value?;
            if content_length.is_some() || value.starts_with('+') {
                return None;
            }
            content_length = Some(value.parse().ok()?);
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encodings += 1;
            chunked = value?.eq_ignore_ascii_case("chunked");
        } else if field.name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if field.name.eq_ignore_ascii_case("upgrade") {
            websocket = value.is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        }
    }
    let transfer_encoding_ok =
        transfer_encodings == 0 || (transfer_encodings == 1 && http11 && chunked);
    if hosts > 1
        || (http11 && hosts == 0)
        || !transfer_encoding_ok
        || (chunked && content_length.is_some())
        || (!http11 && method == Method::POST && content_length.is_none())
    {
        return None;
    }
    Some(if method == Method::CONNECT || websocket {
        Framing::Opaque
    } else if chunked {
        Framing::Chunked
    } else {
        match content_length {
            Some(0) | None => Framing::None,
            Some(length) => Framing::Length(length),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sound(head: &str) -> Framing {
        match judge(head.as_bytes()) {
            Judgement::Sound { head_len, framing } => {
                assert_eq!(head_len, head.len());
                framing
            }
            other => panic!("{head:?} was judged {other:?}"),
        }
    }

    fn refused(head: &[u8]) -> Refusal {
        match judge(head) {
            Judgement::Refused(refusal) => refusal,
            other => panic!("{:?} was judged {other:?}", String::from_utf8_lossy(head)),
        }
    }

    #[test]
    fn ordinary_requests_are_sound_with_their_framing() {
        assert_eq!(
            sound("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
            Framing::None
        );
        assert_eq!(
            sound("POST /api/v1/sync/push HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n"),
            Framing::Length(12)
        );
        assert_eq!(
            sound("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Framing::Chunked
        );
        assert_eq!(sound("GET / HTTP/1.0\r\n\r\n"), Framing::None);
        assert_eq!(
            sound(
                "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
            ),
            Framing::Opaque
        );
    }

    #[test]
    fn a_head_still_arriving_is_incomplete() {
        assert_eq!(judge(b""), Judgement::Incomplete);
        assert_eq!(judge(b"GET /healthz HTTP/1.1\r\nHo"), Judgement::Incomplete);
    }

    #[test]
    fn what_actix_http_would_refuse_is_malformed() {
        for head in [
            &b"GARBAGE\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: five\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.0\r\n\r\n",
        ] {
            assert_eq!(refused(head), Refusal::Malformed);
        }
    }

    #[test]
    fn too_many_fields_and_too_many_bytes_are_told_apart() {
        let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        for i in 0..MAX_HEADERS {
            many.push_str(&format!("X-{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(refused(many.as_bytes()), Refusal::TooManyHeaders);

        let filler = "a".repeat(MAX_HEAD_BYTES);
        let large = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\n\r\n");
        assert_eq!(refused(large.as_bytes()), Refusal::TooLarge);
        assert_eq!(
            refused(&large.as_bytes()[..MAX_HEAD_BYTES]),
            Refusal::TooLarge
        );
    }
}
