//! [`SocketStream`]: a buffered byte stream over a [`Socket`] (Curio's
//! `SocketStream`), with `read`, `read_exactly`, `readline`, `readall`,
//! `write` and friends.
//!
//! Reads go through a buffer that outlives every call, so a read that is
//! cancelled or times out loses nothing: whatever arrived stays buffered
//! for the next read.
//!
//! ```
//! use curio::socket::{socketpair, Domain, Type};
//! use curio::stream::SocketStream;
//! use curio::Result;
//!
//! #[curio::task]
//! async fn demo() -> Result<Vec<Vec<u8>>> {
//!     let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
//!     let (a, b) = (SocketStream::new(a), SocketStream::new(b));
//!     a.write(b"one\ntwo\n".to_vec()).await?;
//!     a.close().await?;
//!     b.readlines().await
//! }
//! assert_eq!(curio::run(demo()).unwrap(), [b"one\n".to_vec(), b"two\n".to_vec()]);
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use crate::socket::Socket;
use crate::{Error, Result};

/// How much a buffered read asks the socket for at once.
const CHUNK: usize = 65536;

/// A buffered stream over a socket. Cheap to clone; clones share the
/// socket and the buffer.
#[derive(Clone)]
pub struct SocketStream {
    sock: Socket,
    buffer: Rc<RefCell<Vec<u8>>>,
}

#[crate::task]
impl SocketStream {
    /// A stream over `sock` (Curio's `sock.as_stream()`).
    pub fn new(sock: Socket) -> SocketStream {
        SocketStream {
            sock,
            buffer: Rc::default(),
        }
    }

    /// The socket underneath.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Reads more into the buffer; `false` at end of file.
    async fn fill(&self) -> Result<bool> {
        Ok(self.sock.recv_append(self.buffer.clone(), CHUNK).await? > 0)
    }

    /// Takes the first `n` buffered bytes.
    fn take(&self, n: usize) -> Vec<u8> {
        let mut buffer = self.buffer.borrow_mut();
        let n = n.min(buffer.len());
        buffer.drain(..n).collect()
    }

    /// Reads up to `maxbytes` (what is buffered, or one receive); empty at
    /// end of file.
    ///
    /// # Errors
    /// The socket's; a cancellation or timeout while waiting.
    pub async fn read(&self, maxbytes: usize) -> Result<Vec<u8>> {
        if self.buffer.borrow().is_empty() {
            let data = self.sock.recv(maxbytes).await?;
            return Ok(data);
        }
        Ok(self.take(maxbytes))
    }

    /// Reads exactly `n` bytes.
    ///
    /// # Errors
    /// [`Error::Io`] `UnexpectedEof` if the stream ends first (the bytes
    /// read stay buffered); the socket's errors; a cancellation or timeout
    /// (nothing is lost).
    pub async fn read_exactly(&self, n: usize) -> Result<Vec<u8>> {
        while self.buffer.borrow().len() < n {
            if !self.fill().await? {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "expected {n} bytes, the stream ended after {}",
                        self.buffer.borrow().len()
                    ),
                )
                .into());
            }
        }
        Ok(self.take(n))
    }

    /// Reads a line, newline included; at end of file, what is left
    /// (possibly nothing).
    ///
    /// # Errors
    /// The socket's; a cancellation or timeout (nothing is lost).
    pub async fn readline(&self) -> Result<Vec<u8>> {
        loop {
            let newline = self.buffer.borrow().iter().position(|&b| b == b'\n');
            if let Some(at) = newline {
                return Ok(self.take(at + 1));
            }
            if !self.fill().await? {
                let rest = self.buffer.borrow().len();
                return Ok(self.take(rest));
            }
        }
    }

    /// Reads every line until end of file.
    ///
    /// # Errors
    /// The socket's; on a cancellation or timeout, the lines read so far
    /// are put back in the buffer, so nothing is lost.
    pub async fn readlines(&self) -> Result<Vec<Vec<u8>>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        loop {
            match self.readline().await {
                Ok(line) if line.is_empty() => return Ok(lines),
                Ok(line) => lines.push(line),
                Err(e) => {
                    let mut buffer = self.buffer.borrow_mut();
                    let rest = std::mem::take(&mut *buffer);
                    *buffer = lines.concat();
                    buffer.extend_from_slice(&rest);
                    return Err(e);
                }
            }
        }
    }

    /// Reads until end of file.
    ///
    /// # Errors
    /// The socket's; a cancellation or timeout (what was read stays
    /// buffered).
    pub async fn readall(&self) -> Result<Vec<u8>> {
        while self.fill().await? {}
        let all = self.buffer.borrow().len();
        Ok(self.take(all))
    }

    /// Writes all of `data`.
    ///
    /// # Errors
    /// As [`Socket::sendall`].
    pub async fn write(&self, data: Vec<u8>) -> Result<()> {
        self.sock.sendall(data).await
    }

    /// Writes each line in turn.
    ///
    /// # Errors
    /// As [`Socket::sendall`]; the message counts the lines written.
    pub async fn writelines(&self, lines: Vec<Vec<u8>>) -> Result<()> {
        let mut written = 0;
        for line in lines {
            if let Err(e) = self.sock.sendall(line).await {
                return Err(Error::msg(format!(
                    "writelines stopped after {written} lines: {e}"
                )));
            }
            written += 1;
        }
        Ok(())
    }

    /// Nothing to do: writes are not buffered (Curio's `flush`).
    ///
    /// # Errors
    /// None; the signature matches Curio's.
    pub async fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// Closes the socket.
    ///
    /// # Errors
    /// As [`Socket::close`].
    pub async fn close(&self) -> Result<()> {
        self.sock.close().await
    }
}
