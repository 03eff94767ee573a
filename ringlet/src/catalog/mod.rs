//! The catalogue: what ringlet knows about agents and providers — their manifests (built-in and
//! from `agents.d/` / `providers.d/`), the wire shapes they speak, agent detection, and the
//! catalogue that joins them and negotiates compatibility.

pub(crate) mod agent;
pub(crate) mod builtin;
pub(crate) mod catalogue;
pub(crate) mod manifest;
pub(crate) mod provider;
pub(crate) mod wire;
