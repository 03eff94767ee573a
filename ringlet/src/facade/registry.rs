//! The facade's registry methods: sync, pin, inspect, and the background refresh check.

use super::Ringlet;
use crate::error::Result;
use crate::registry::{self, RegistryStatus, RegistrySyncReport, Settings, Store, SyncOptions};

impl Ringlet {
    fn registry_settings(&self) -> Settings {
        Settings::resolve(&self.inner.config)
    }

    /// Brings the registry snapshot up to date (docs/registry.md): asks the registry unless the
    /// snapshot is younger than the refresh age (or `force`), verifies the index's signature
    /// and every artifact's checksum, refuses a rollback below the highest serial accepted, and
    /// switches to the new snapshot atomically. Anything refused leaves the snapshot in use as
    /// it was. `offline` only reports it; a pin holds it.
    pub fn registry_sync(&self, options: &SyncOptions) -> Result<RegistrySyncReport> {
        registry::sync(
            &Store::new(self.paths()),
            &self.registry_settings(),
            options,
        )
    }

    /// Holds this machine at registry commit `commit` (a cached snapshot, or fetched from the
    /// registry's `commits/`, verified like a sync); syncs then leave it in place. `None`
    /// unpins: the next sync follows the channel again.
    pub fn registry_pin(&self, commit: Option<&str>) -> Result<RegistrySyncReport> {
        registry::pin(&Store::new(self.paths()), &self.registry_settings(), commit)
    }

    /// The registry's settings and the snapshot in use, its signature and checksums verified
    /// now, its artifacts, its age.
    pub fn registry_status(&self) -> Result<RegistryStatus> {
        registry::status(self.paths(), &self.registry_settings())
    }

    /// Whether the snapshot is stale and a background refresh should be started (never by a
    /// launch): the registry was synced before, is not pinned, auto-refresh is on, and neither
    /// the last sync nor the last attempt is younger than `[registry] max-age-hours`. Cheap: it
    /// reads two small files and never touches the network.
    pub fn registry_refresh_due(&self) -> bool {
        registry::refresh_due(self.paths(), &self.registry_settings())
    }
}
