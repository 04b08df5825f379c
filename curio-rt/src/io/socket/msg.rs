//! `recvmsg` and `sendmsg` with ancillary data: the one place that builds
//! a `msghdr` and walks `cmsghdr`s by hand.
//!
//! Why not a crate: Curio's API passes ancillary messages as raw
//! `(level, type, data)` triples, and the crates that wrap these calls do
//! not. `nix` and `rustix` send and receive only the control messages they
//! know by type (`SCM_RIGHTS`, credentials, ...); `socket2`'s
//! `MsgHdrMut` keeps neither the received address's length (a Unix
//! datagram's sender path would come back padded with NULs) nor the raw
//! `msg_flags`. So the `msghdr` is filled here through `libc`, with the
//! field types that differ between systems (`msg_iovlen`,
//! `msg_controllen`, `cmsg_len`: `usize` on Linux, `u32`/`i32` on macOS)
//! converted in one place each.

use std::io;
use std::os::fd::AsRawFd;

use super::Socket;
use crate::error::{Error, Result};
use crate::io::fd::MAX_READ;
use socket2::SockAddr;

/// One ancillary (control) message of [`Socket::recvmsg`] and
/// [`Socket::sendmsg`]: Python's `(cmsg_level, cmsg_type, cmsg_data)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmsg {
    /// `cmsg_level`, such as `libc::SOL_SOCKET`.
    pub level: i32,
    /// `cmsg_type`, such as `libc::SCM_RIGHTS`.
    pub ty: i32,
    /// The payload (for `SCM_RIGHTS`, the fds as native-endian `i32`s).
    pub data: Vec<u8>,
}

/// What [`Socket::recvmsg`] received: Python's `(data, ancdata, msg_flags,
/// address)`.
#[derive(Debug, Clone)]
pub struct Message {
    /// The bytes received; empty at end of file.
    pub data: Vec<u8>,
    /// The ancillary messages.
    pub ancdata: Vec<Cmsg>,
    /// `msg_flags` (`libc::MSG_TRUNC`, `libc::MSG_CTRUNC`, ...).
    pub flags: i32,
    /// The sender, for unconnected sockets.
    pub address: Option<SockAddr>,
}

/// Received fds are close-on-exec, where the system can say so in the
/// call (elsewhere they are not: a child spawned at that moment would
/// inherit them).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const RECV_FLAGS: i32 = libc::MSG_CMSG_CLOEXEC;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
const RECV_FLAGS: i32 = 0;

/// A buffer for ancillary data, aligned for `cmsghdr`.
fn control_buffer(bytes: usize) -> Vec<u64> {
    vec![0; bytes.div_ceil(8)]
}

/// One `recvmsg` call.
pub(super) fn recvmsg_once(
    sock: &Socket,
    (bufsize, ancbufsize, flags): &mut (usize, usize, i32),
) -> io::Result<Message> {
    let (bufsize, ancbufsize) = ((*bufsize).min(MAX_READ), (*ancbufsize).min(MAX_READ));
    let mut data: Vec<u8> = Vec::with_capacity(bufsize);
    let mut control = control_buffer(ancbufsize);
    let mut storage = socket2::SockAddrStorage::zeroed();
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: bufsize,
    };
    // SAFETY: an all-zero `msghdr` is valid (no name, buffers or control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&raw mut storage).cast();
    msg.msg_namelen = storage.size_of();
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    if ancbufsize > 0 {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = ancbufsize as _;
    }
    let n = sock.io(|s| {
        // SAFETY: every pointer in `msg` points at a live buffer of the
        // length it claims.
        let n = unsafe { libc::recvmsg(s.as_raw_fd(), &raw mut msg, *flags | RECV_FLAGS) };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    })?;
    // SAFETY: `recvmsg` initialised the first `n` bytes.
    unsafe { data.set_len(n) };
    let mut ancdata = Vec::new();
    // SAFETY: `msg` describes the control buffer `recvmsg` filled in; the
    // CMSG_* macros walk it within `msg_controllen`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            let payload = libc::CMSG_DATA(cmsg);
            let len = (*cmsg).cmsg_len as usize - (payload as usize - cmsg as usize);
            ancdata.push(Cmsg {
                level: (*cmsg).cmsg_level,
                ty: (*cmsg).cmsg_type,
                data: std::slice::from_raw_parts(payload, len).to_vec(),
            });
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    let address = (msg.msg_namelen > 0).then(|| {
        // SAFETY: `recvmsg` wrote a `msg_namelen`-byte address to `storage`.
        unsafe { SockAddr::new(storage, msg.msg_namelen) }
    });
    Ok(Message {
        data,
        ancdata,
        flags: msg.msg_flags,
        address,
    })
}

/// What [`Socket::sendmsg`] sends.
pub(super) struct Outgoing {
    buffers: Vec<Vec<u8>>,
    /// The encoded ancillary messages.
    control: Vec<u64>,
    control_len: usize,
    flags: i32,
    address: Option<SockAddr>,
}

impl Outgoing {
    pub(super) fn new(
        buffers: Vec<Vec<u8>>,
        ancdata: &[Cmsg],
        flags: i32,
        address: Option<SockAddr>,
    ) -> Result<Outgoing> {
        let mut control_len = 0;
        for c in ancdata {
            let len = u32::try_from(c.data.len())
                .map_err(|_| Error::msg("sendmsg: ancillary data too long"))?;
            // SAFETY: CMSG_SPACE only computes a size.
            control_len += unsafe { libc::CMSG_SPACE(len) } as usize;
        }
        let mut control = control_buffer(control_len);
        if control_len > 0 {
            // SAFETY: a zeroed `msghdr` pointing at the control buffer lets
            // CMSG_FIRSTHDR/NXTHDR walk exactly the space computed above.
            unsafe {
                let mut msg: libc::msghdr = std::mem::zeroed();
                msg.msg_control = control.as_mut_ptr().cast();
                msg.msg_controllen = control_len as _;
                let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
                for c in ancdata {
                    (*cmsg).cmsg_level = c.level;
                    (*cmsg).cmsg_type = c.ty;
                    (*cmsg).cmsg_len = libc::CMSG_LEN(c.data.len() as u32) as _;
                    std::ptr::copy_nonoverlapping(
                        c.data.as_ptr(),
                        libc::CMSG_DATA(cmsg),
                        c.data.len(),
                    );
                    cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
                }
            }
        }
        Ok(Outgoing {
            buffers,
            control,
            control_len,
            flags,
            address,
        })
    }
}

/// One `sendmsg` call.
pub(super) fn sendmsg_once(sock: &Socket, out: &mut Outgoing) -> io::Result<usize> {
    let mut iovs: Vec<libc::iovec> = out
        .buffers
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    // SAFETY: an all-zero `msghdr` is valid (no name, buffers or control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    if let Some(addr) = &out.address {
        msg.msg_name = addr.as_ptr().cast_mut().cast();
        msg.msg_namelen = addr.len();
    }
    msg.msg_iov = iovs.as_mut_ptr();
    msg.msg_iovlen = iovs.len() as _;
    if out.control_len > 0 {
        msg.msg_control = out.control.as_mut_ptr().cast();
        msg.msg_controllen = out.control_len as _;
    }
    sock.io(|s| {
        // SAFETY: every pointer in `msg` points at a live buffer of the
        // length it claims; `sendmsg` only reads them.
        let n =
            unsafe { libc::sendmsg(s.as_raw_fd(), &raw const msg, out.flags | super::SEND_FLAGS) };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    })
}
