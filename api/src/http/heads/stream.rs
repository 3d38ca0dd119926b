//! The connection as actix-http reads it: request heads held back until judged, bodies
//! passed through as their framing says, refused heads replaced by a stand-in request.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Sleep};

use super::chunked::{ChunkedBody, Progress};
use super::judge::{judge, Framing, Judgement};
use super::Refusal;

/// How much is read from the socket at a time.
const READ_SIZE: usize = 8 * 1024;

/// A connection whose request heads are judged before actix-http reads them.
pub struct GuardedStream<IO> {
    io: IO,
    /// Bytes read from the socket that actix-http has not been given.
    inbox: Vec<u8>,
    /// How many bytes at the front of `inbox` are judged and may be given.
    cleared: usize,
    phase: Phase,
    head_timeout: Duration,
    /// Runs while a head is awaited: from the connection's start for the first request,
    /// from a later head's first byte for the others (an idle kept-alive connection is
    /// actix-http's to close).
    deadline: Option<Pin<Box<Sleep>>>,
}

enum Phase {
    Head,
    Body {
        left: u64,
    },
    Chunked(ChunkedBody),
    /// Everything from here on is actix-http's, unjudged.
    Opaque,
    /// A stand-in request to give, from `given` on; then nothing more is read.
    StandIn {
        request: Vec<u8>,
        given: usize,
    },
    /// The socket reached its end, or a stand-in was given.
    Finished {
        eof: bool,
    },
}

impl<IO> GuardedStream<IO> {
    /// Guards a freshly accepted connection; its first head must arrive within
    /// `head_timeout` (zero: no limit).
    pub fn new(io: IO, head_timeout: Duration) -> Self {
        let mut stream = GuardedStream {
            io,
            inbox: Vec::new(),
            cleared: 0,
            phase: Phase::Head,
            head_timeout,
            deadline: None,
        };
        stream.start_deadline();
        stream
    }

    fn start_deadline(&mut self) {
        if !self.head_timeout.is_zero() && self.deadline.is_none() {
            self.deadline = Some(Box::pin(sleep(self.head_timeout)));
        }
    }

    /// Moves the phase on over the bytes in `inbox` past `cleared`; returns whether it
    /// needs more bytes from the socket to go on.
    fn judge_inbox(&mut self) -> bool {
        let unjudged = &self.inbox[self.cleared..];
        match &mut self.phase {
            Phase::Head if unjudged.is_empty() => true,
            Phase::Head => match judge(unjudged) {
                Judgement::Incomplete => {
                    self.start_deadline();
                    true
                }
                Judgement::Sound { head_len, framing } => {
                    self.cleared += head_len;
                    self.deadline = None;
                    self.phase = match framing {
                        Framing::None => Phase::Head,
                        Framing::Length(left) => Phase::Body { left },
                        Framing::Chunked => Phase::Chunked(ChunkedBody::new()),
                        Framing::Opaque => Phase::Opaque,
                    };
                    false
                }
                Judgement::Refused(refusal) => {
                    self.refuse(refusal);
                    false
                }
            },
            Phase::Body { left } => {
                let take = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(unjudged.len());
                self.cleared += take;
                *left -= take as u64;
                if *left == 0 {
                    self.phase = Phase::Head;
                }
                take == 0
            }
            Phase::Chunked(body) => match body.follow(unjudged) {
                Progress::Continues => {
                    self.cleared = self.inbox.len();
                    true
                }
                Progress::Ended { consumed } => {
                    self.cleared += consumed;
                    self.phase = Phase::Head;
                    false
                }
                // actix-http decodes the body too and answers the broken part itself.
                Progress::Broken => {
                    self.phase = Phase::Opaque;
                    false
                }
            },
            Phase::Opaque => {
                self.cleared = self.inbox.len();
                unjudged.is_empty()
            }
            Phase::StandIn { .. } | Phase::Finished { .. } => false,
        }
    }

    fn refuse(&mut self, refusal: Refusal) {
        // Whatever else the client sent is never read: the stand-in closes the connection.
        self.inbox.truncate(self.cleared);
        self.deadline = None;
        self.phase = Phase::StandIn {
            request: refusal.stand_in_request(),
            given: 0,
        };
    }

    /// Gives cleared bytes, or the stand-in, into `buf`; whether anything was given.
    fn give(&mut self, buf: &mut ReadBuf<'_>) -> bool {
        if self.cleared > 0 {
            let n = self.cleared.min(buf.remaining());
            buf.put_slice(&self.inbox[..n]);
            self.inbox.drain(..n);
            self.cleared -= n;
            return true;
        }
        if let Phase::StandIn { request, given } = &mut self.phase {
            let n = (request.len() - *given).min(buf.remaining());
            buf.put_slice(&request[*given..*given + n]);
            *given += n;
            if *given == request.len() {
                self.phase = Phase::Finished { eof: false };
            }
            return true;
        }
        false
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for GuardedStream<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.give(buf) {
                return Poll::Ready(Ok(()));
            }
            match this.phase {
                // After a stand-in the application closes the connection; nothing wakes
                // this read again.
                Phase::Finished { eof: false } => return Poll::Pending,
                Phase::Finished { eof: true } => return Poll::Ready(Ok(())),
                _ => {}
            }
            let needs_bytes = this.judge_inbox();
            if !needs_bytes || this.cleared > 0 {
                continue;
            }
            if let Some(deadline) = this.deadline.as_mut() {
                if deadline.as_mut().poll(cx).is_ready() {
                    this.refuse(Refusal::Slow);
                    continue;
                }
            }
            let mut chunk = [0u8; READ_SIZE];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut chunk_buf))?;
            let read = chunk_buf.filled();
            if read.is_empty() {
                // The client closed its side. A half-sent head is dropped; a body cut
                // short is actix-http's to notice.
                this.inbox.truncate(this.cleared);
                this.phase = Phase::Finished { eof: true };
                continue;
            }
            this.inbox.extend_from_slice(read);
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for GuardedStream<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
