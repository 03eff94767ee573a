//! What a finished agent cost the machine: peak resident memory and CPU time, read from the
//! kernel's accounting of waited-for children (`getrusage(RUSAGE_CHILDREN)`), so it works with
//! any [`Launcher`](crate::Launcher) that runs the agent as a child of this process.

/// A reading of this process's waited-for children's resource use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChildUsage {
    /// The largest peak RSS of any waited-for child, bytes.
    pub max_rss_bytes: u64,
    /// User CPU time of all waited-for children, milliseconds.
    pub user_ms: u64,
    /// System CPU time of all waited-for children, milliseconds.
    pub system_ms: u64,
}

/// What one run used, as far as two readings can tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RunResources {
    pub peak_rss_bytes: Option<u64>,
    pub cpu_user_ms: Option<u64>,
    pub cpu_system_ms: Option<u64>,
}

impl ChildUsage {
    /// The current totals; `None` where the platform has no such accounting.
    pub fn now() -> Option<Self> {
        #[cfg(unix)]
        {
            use nix::sys::resource::{UsageWho, getrusage};
            use nix::sys::time::TimeValLike;
            let u = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
            let ms =
                |tv: nix::sys::time::TimeVal| u64::try_from(tv.num_milliseconds()).unwrap_or(0);
            let rss = u64::try_from(u.max_rss()).unwrap_or(0);
            // Linux and the BSDs count kilobytes; macOS counts bytes.
            let max_rss_bytes = if cfg!(any(target_os = "macos", target_os = "ios")) {
                rss
            } else {
                rss.saturating_mul(1024)
            };
            Some(Self {
                max_rss_bytes,
                user_ms: ms(u.user_time()),
                system_ms: ms(u.system_time()),
            })
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// What was used between `before` and `self`. CPU times are sums, so their difference is
    /// exactly the children waited for in between. The peak RSS is a maximum over all children
    /// ever waited for: it identifies the new child's peak only when it rose, or when no child
    /// had been waited for before (the CLI's case); otherwise it stays unknown rather than
    /// reporting another process's peak.
    pub fn since(self, before: ChildUsage) -> RunResources {
        let peak = if self.max_rss_bytes > before.max_rss_bytes || before.max_rss_bytes == 0 {
            Some(self.max_rss_bytes).filter(|&b| b > 0)
        } else {
            None
        };
        RunResources {
            peak_rss_bytes: peak,
            cpu_user_ms: Some(self.user_ms.saturating_sub(before.user_ms)),
            cpu_system_ms: Some(self.system_ms.saturating_sub(before.system_ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_ran_shows_up() {
        let before = ChildUsage::now().expect("unix has getrusage");
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
            .status()
            .expect("sh runs");
        assert!(status.success());
        let used = ChildUsage::now().expect("getrusage").since(before);
        assert!(used.cpu_user_ms.is_some() && used.cpu_system_ms.is_some());
        // The first waited child defines the peak, or a bigger one raised it.
        if before.max_rss_bytes == 0 {
            assert!(
                used.peak_rss_bytes.is_some_and(|b| b > 100 * 1024),
                "{used:?}"
            );
        }
    }

    #[test]
    fn an_unchanged_peak_is_unknown_not_borrowed() {
        let before = ChildUsage {
            max_rss_bytes: 10,
            user_ms: 5,
            system_ms: 1,
        };
        let after = ChildUsage {
            max_rss_bytes: 10,
            user_ms: 9,
            system_ms: 3,
        };
        let used = after.since(before);
        assert_eq!(used.peak_rss_bytes, None);
        assert_eq!((used.cpu_user_ms, used.cpu_system_ms), (Some(4), Some(2)));
        let higher = ChildUsage {
            max_rss_bytes: 20,
            ..after
        };
        assert_eq!(higher.since(before).peak_rss_bytes, Some(20));
    }
}
