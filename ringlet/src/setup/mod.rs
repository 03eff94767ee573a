//! A setup that travels, and the daily-driver conveniences around profiles (docs/setup.md):
//!
//! - `document.rs`: the portable setup document `ringlet export` writes and `ringlet import`
//!   reads (versioned; settings only, never secrets or machine-local state);
//! - `merge.rs`: merging an imported `config.toml` table into this machine's, leaf by leaf;
//! - `shim.rs`: the small executables `ringlet aliases install` writes (`claude-work`);
//! - `mapping.rs`: `[[directory-mapping]]` and `RINGLET_DEFAULT_PROFILE`, which pick the profile
//!   `ringlet profiles run` without an alias runs;
//! - `task.rs`: supervised setup tasks (`[tasks.NAME]` in an agent manifest or a profile), run
//!   only by `ringlet env setup`.
//!
//! The facade's `setup.rs`, `aliases.rs` and `tasks.rs` use them.

pub(crate) mod document;
pub(crate) mod mapping;
pub(crate) mod merge;
pub(crate) mod shim;
pub(crate) mod task;

pub use document::{
    KeyRef, PortableProfile, PortableRemote, SETUP_FORMAT, SETUP_VERSION, SetupDocument,
};
pub use mapping::{DEFAULT_PROFILE_ENV, DirectoryMapping, ProfileChoice, ProfileChoiceSource};
pub use shim::{SHIM_MARKER, Shim};
pub use task::{SetupTask, TaskInfo, TaskOrigin, TaskRunReport};
