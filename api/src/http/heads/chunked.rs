//! Following a chunked body (RFC 9112 section 7.1) byte by byte, only to know where it
//! ends and the next request head begins; actix-http decodes it.

/// The longest chunk-size line or trailer line followed before giving up.
const MAX_LINE: usize = 4096;

/// Where in a chunked body the bytes seen so far end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkedBody {
    /// In a chunk-size line (with any extensions), `size` read so far.
    SizeLine {
        size: u64,
        digits: usize,
        in_extension: bool,
        length: usize,
    },
    /// In chunk data, `left` bytes to go.
    Data { left: u64 },
    /// After chunk data, expecting CRLF; `cr` once the CR is seen.
    DataEnd { cr: bool },
    /// In the trailer section after the last chunk; `length` of the current line.
    Trailer { length: usize },
}

/// What a run of bytes did to the body.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// All of the bytes belong to the body, which goes on.
    Continues,
    /// The body ended after `consumed` bytes; the rest is the next request.
    Ended { consumed: usize },
    /// The bytes do not follow the chunked grammar.
    Broken,
}

impl ChunkedBody {
    /// At the start of a body.
    pub fn new() -> Self {
        ChunkedBody::SizeLine {
            size: 0,
            digits: 0,
            in_extension: false,
            length: 0,
        }
    }

    /// Follows `bytes`, the next bytes of the body.
    pub fn follow(&mut self, bytes: &[u8]) -> Progress {
        let mut at = 0;
        while at < bytes.len() {
            if let ChunkedBody::Data { left } = self {
                let take = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len() - at);
                at += take;
                *left -= take as u64;
                if *left == 0 {
                    *self = ChunkedBody::DataEnd { cr: false };
                }
                continue;
            }
            let byte = bytes[at];
            at += 1;
            match self.step(byte) {
                Step::On => {}
                Step::Ended => return Progress::Ended { consumed: at },
                Step::Broken => return Progress::Broken,
            }
        }
        Progress::Continues
    }

    fn step(&mut self, byte: u8) -> Step {
        match self {
            ChunkedBody::SizeLine {
                size,
                digits,
                in_extension,
                length,
            } => {
                *length += 1;
                if *length > MAX_LINE {
                    return Step::Broken;
                }
                match byte {
                    b'\n' if *digits == 0 => return Step::Broken,
                    b'\n' if *size == 0 => *self = ChunkedBody::Trailer { length: 0 },
                    b'\n' => *self = ChunkedBody::Data { left: *size },
                    b'\r' => {}
                    _ if *in_extension => {}
                    b';' | b' ' | b'\t' if *digits > 0 => *in_extension = true,
                    _ => {
                        let Some(digit) = (byte as char).to_digit(16) else {
                            return Step::Broken;
                        };
                        *digits += 1;
                        if *digits > 16 {
                            return Step::Broken;
                        }
                        *size = *size * 16 + u64::from(digit);
                    }
                }
            }
            ChunkedBody::DataEnd { cr } => match byte {
                b'\r' if !*cr => *cr = true,
                b'\n' => *self = ChunkedBody::new(),
                _ => return Step::Broken,
            },
            ChunkedBody::Trailer { length } => match byte {
                b'\n' if *length == 0 => return Step::Ended,
                b'\n' => *length = 0,
                b'\r' if *length == 0 => {}
                _ => {
                    *length += 1;
                    if *length > MAX_LINE {
                        return Step::Broken;
                    }
                }
            },
            ChunkedBody::Data { .. } => {}
        }
        Step::On
    }
}

enum Step {
    On,
    Ended,
    Broken,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow_in_pieces(body: &[u8], piece: usize) -> Progress {
        let mut chunked = ChunkedBody::new();
        let mut seen = 0;
        for part in body.chunks(piece) {
            match chunked.follow(part) {
                Progress::Continues => seen += part.len(),
                Progress::Ended { consumed } => {
                    return Progress::Ended {
                        consumed: seen + consumed,
                    }
                }
                Progress::Broken => return Progress::Broken,
            }
        }
        Progress::Continues
    }

    #[test]
    fn the_end_of_a_body_is_found_however_it_arrives() {
        let body = b"5\r\nhello\r\n1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let next = b"GET / HTTP/1.1\r\n";
        let stream = [&body[..], &next[..]].concat();
        for piece in 1..=stream.len() {
            assert_eq!(
                follow_in_pieces(&stream, piece),
                Progress::Ended {
                    consumed: body.len()
                },
                "in pieces of {piece}"
            );
        }
    }

    #[test]
    fn a_body_cut_short_goes_on() {
        assert_eq!(follow_in_pieces(b"5\r\nhel", 3), Progress::Continues);
        assert_eq!(follow_in_pieces(b"0\r\n", 1), Progress::Continues);
    }

    #[test]
    fn what_breaks_the_grammar_is_broken() {
        for body in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"5\r\nhelloXX",
            b"11111111111111111\r\n",
        ] {
            assert_eq!(follow_in_pieces(body, 64), Progress::Broken, "{body:?}");
        }
    }
}
