//! The proxy between an agent and its providers (docs/proxy.md).

pub mod routing;
pub mod translate;
