//! The proxy's listener: 127.0.0.1 only, on an ephemeral port or the first free one of a
//! configured range (`[proxy] ports` in config.toml).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use crate::error::{Error, Result};

/// Binds 127.0.0.1: an ephemeral port when `range` is `None`, else the first free port of the
/// inclusive range.
pub fn bind_loopback(range: Option<(u16, u16)>) -> Result<TcpListener> {
    let bind = |port| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    match range {
        None => bind(0).map_err(|e| Error::Proxy {
            message: format!("cannot listen on 127.0.0.1: {e}"),
        }),
        Some((lo, hi)) => (lo..=hi).find_map(|p| bind(p).ok()).ok_or_else(|| Error::Proxy {
            message: format!(
                "every port of [proxy] ports = \"{lo}-{hi}\" in config.toml is taken; widen the range, or remove it for an ephemeral port"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listens_on_loopback_only_and_skips_taken_ports() {
        let first = bind_loopback(None).expect("binds");
        let addr = first.local_addr().expect("addr");
        assert!(addr.ip().is_loopback(), "{addr}");
        let port = addr.port();
        // The taken port is skipped when the range allows another.
        if let Some(next) = port.checked_add(1)
            && let Ok(second) = bind_loopback(Some((port, next)))
        {
            assert_eq!(second.local_addr().expect("addr").port(), next);
        }
        let err = bind_loopback(Some((port, port))).expect_err("taken");
        assert!(err.to_string().contains("is taken"), "{err}");
    }
}
