//! COMPRESS=DEFLATE (RFC 4978): once the server's OK is out, every byte both ways goes through
//! raw deflate (RFC 1951, no zlib header).
//!
//! Written on flate2's streaming `Compress`/`Decompress` rather than with async-compression:
//! the session's stream both reads and writes, and each flush must end the deflate data with a
//! sync flush (RFC 4978 §4), so that every response reaches the client whole instead of
//! waiting in the compressor for more. This adapter is that, and nothing else.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Deflated bytes waiting for the socket past which `poll_write` waits instead of taking more.
const MAX_PENDING_OUTPUT: usize = 64 * 1024;

/// A stream whose bytes are deflated on the way out and inflated on the way in.
pub(crate) struct Deflated<S> {
    inner: S,
    compress: Compress,
    decompress: Decompress,
    /// Compressed bytes read from `inner` and not inflated yet: `input[start..end]`.
    input: Box<[u8]>,
    start: usize,
    end: usize,
    /// `inner` has no more bytes, or the client ended its deflate stream.
    input_done: bool,
    /// Deflated bytes not written to `inner` yet: `output[written..]`.
    output: Vec<u8>,
    written: usize,
    /// A flush has ended the deflate data and is now writing it out.
    flushing: bool,
}

impl<S> Deflated<S> {
    pub(crate) fn new(inner: S) -> Deflated<S> {
        Deflated {
            inner,
            // Level 5: most of level 9's gain on mail text for much less CPU.
            compress: Compress::new(Compression::new(5), false),
            decompress: Decompress::new(false),
            input: vec![0; 16 * 1024].into_boxed_slice(),
            start: 0,
            end: 0,
            input_done: false,
            output: Vec::new(),
            written: 0,
            flushing: false,
        }
    }

    /// Deflates `data` (all of it) into `output`, with `flush`.
    fn deflate(&mut self, data: &[u8], flush: FlushCompress) -> io::Result<()> {
        let mut consumed = 0;
        loop {
            self.output.reserve(data.len() - consumed + 1024);
            let before_in = self.compress.total_in();
            let before_out = self.output.len();
            self.compress.compress_vec(&data[consumed..], &mut self.output, flush).map_err(io::Error::other)?;
            consumed += (self.compress.total_in() - before_in) as usize;
            // Done when everything is in and the compressor did not fill the room it had.
            if consumed == data.len() && self.output.len() < self.output.capacity() {
                return Ok(());
            }
            if consumed < data.len() && self.output.len() == before_out && self.compress.total_in() == before_in {
                return Err(io::Error::other("deflate made no progress"));
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Deflated<S> {
    /// Writes the pending deflated bytes to `inner`.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.output.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.output[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.output.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deflated<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            // Also with no input left: when `buf` was too small for what the last input gave,
            // the rest waits inside the decompressor, and the peer will send nothing more
            // until it is answered.
            let (before_in, before_out) = (this.decompress.total_in(), this.decompress.total_out());
            let status = this
                .decompress
                .decompress(&this.input[this.start..this.end], buf.initialize_unfilled(), FlushDecompress::None)
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
            this.start += (this.decompress.total_in() - before_in) as usize;
            let produced = (this.decompress.total_out() - before_out) as usize;
            if status == Status::StreamEnd {
                this.input_done = true;
            }
            if produced > 0 {
                buf.advance(produced);
                return Poll::Ready(Ok(()));
            }
            if this.input_done {
                return Poll::Ready(Ok(()));
            }
            if this.start < this.end && this.start > 0 {
                this.input.copy_within(this.start..this.end, 0);
            }
            (this.start, this.end) = (0, this.end - this.start);
            let mut read = ReadBuf::new(&mut this.input[this.end..]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            let n = read.filled().len();
            if n == 0 {
                this.input_done = true;
            }
            this.end += n;
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deflated<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.output.len() - this.written > MAX_PENDING_OUTPUT {
            ready!(this.drain(cx))?;
        }
        this.deflate(data, FlushCompress::None)?;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.flushing {
            this.deflate(&[], FlushCompress::Sync)?;
            this.flushing = true;
        }
        ready!(this.drain(cx))?;
        this.flushing = false;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Both ways through a pipe, with a flush per message as the session does: each side reads
    /// back exactly what the other wrote, in pieces, large and small.
    #[tokio::test]
    async fn bytes_come_out_as_they_went_in() {
        let (a, b) = tokio::io::duplex(1024);
        let (mut a, mut b) = (Deflated::new(a), Deflated::new(b));
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8 ^ (i / 1000) as u8).collect();
        let writer = tokio::spawn(async move {
            a.write_all(b"* OK hello\r\n").await.unwrap();
            a.flush().await.unwrap();
            a.write_all(&big).await.unwrap();
            a.flush().await.unwrap();
            let mut back = [0u8; 5];
            a.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"DONE\n");
            big
        });
        let mut first = [0u8; 12];
        b.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"* OK hello\r\n");
        let mut rest = vec![0u8; 300_000];
        b.read_exact(&mut rest).await.unwrap();
        b.write_all(b"DONE\n").await.unwrap();
        b.flush().await.unwrap();
        assert_eq!(rest, writer.await.unwrap());
    }

    /// Review finding (mbsync hung on a 68-byte SELECT once an idle session read 64 bytes at a
    /// time): output the decompressor holds beyond a small read buffer comes out on the next
    /// read, without waiting for more input.
    #[tokio::test]
    async fn output_held_back_by_a_small_buffer_comes_without_more_input() {
        let (a, b) = tokio::io::duplex(1024);
        let (mut a, mut b) = (Deflated::new(a), Deflated::new(b));
        let command = format!("29 SELECT \"{}\"\r\n", "Long/".repeat(40));
        a.write_all(command.as_bytes()).await.unwrap();
        a.flush().await.unwrap();
        let mut received = Vec::new();
        while received.len() < command.len() {
            let mut small = [0u8; 16];
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), b.read(&mut small))
                .await
                .expect("no hang")
                .unwrap();
            received.extend_from_slice(&small[..n]);
        }
        assert_eq!(received, command.as_bytes());
    }

    /// What a client sends that is not deflate data is an error, not a hang or a panic.
    #[tokio::test]
    async fn garbage_in_is_an_error() {
        let (mut plain, compressed) = tokio::io::duplex(1024);
        let mut compressed = Deflated::new(compressed);
        plain.write_all(&[0xff; 64]).await.unwrap();
        let mut buffer = [0u8; 64];
        let error = compressed.read(&mut buffer).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
