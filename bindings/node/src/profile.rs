//! Profiles as JavaScript reads them: one text holding each field of every profile as a JSON
//! array (a column), made on the worker thread; index.js wraps each profile in a `Profile`
//! object whose getters parse a column the first time any profile reads that field.
//!
//! Converting a listing up front costs more than the call's own fixed costs: one N-API call per
//! property (≈ 7 µs a profile), or `JSON.parse` of the whole listing (≈ 1–1.5 µs a profile).
//! Here the promise settles with one string whatever the count, and a listing that shows alias,
//! agent and model parses those three columns (≈ 3–12 µs each for 100 profiles) and nothing
//! else. The text is made, and the core's profiles dropped, on the worker thread, so nothing
//! native outlives the call: handing JavaScript an object that holds the Rust profiles instead
//! was tried, and cost ≈ 30 page faults a call, the worker's malloc arena growing page by page
//! until V8 got round to collecting the holders; making the text costs ≈ 20 µs.
//! docs/performance.md, "Binding call overhead", has the numbers.

use std::io::Write;
use std::path::Path;

use serde::ser::{Serialize, Serializer};

/// Bookkeeping kept up to date by ringlet, as the `metadata` column has it (camelCase, times
/// as RFC 3339, `lastUsed` left out until the first run), typed `ProfileMetadata` in
/// index.d.ts.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used: Option<String>,
    total_runs: u64,
}

impl From<&ringlet::ProfileMetadata> for Metadata {
    fn from(m: &ringlet::ProfileMetadata) -> Self {
        Self {
            created_at: m.created_at.to_rfc3339(),
            last_used: m.last_used.map(|t| t.to_rfc3339()),
            total_runs: m.total_runs,
        }
    }
}

/// One field of every profile, serialised as a JSON array without collecting it first.
struct Column<'a, F>(&'a [ringlet::Profile], F);

impl<'a, F, T> Serialize for Column<'a, F>
where
    F: Fn(&'a ringlet::Profile) -> T,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(&self.1))
    }
}

/// A path as JavaScript gets every path: a string (lossy for a non-UTF-8 path).
fn path(p: Option<&Path>) -> Option<std::borrow::Cow<'_, str>> {
    p.map(Path::to_string_lossy)
}

/// The text index.js's `Profile` reads: the number of profiles, then one column per field in
/// index.js's `FIELDS` order (alias, agent, provider, endpoint, endpointUrl, shape, model,
/// keyAlias, binary, workingDir, args, env, metadata), each line a JSON array with one entry
/// per profile, `null` where an optional field is unset. Lines split on `\n`, which compact
/// JSON never holds unescaped.
pub(crate) fn columns(profiles: &[ringlet::Profile]) -> ringlet::Result<String> {
    let ps = profiles;
    let mut out = Vec::with_capacity(256 * ps.len() + 64);
    let written = (|| -> serde_json::Result<()> {
        write!(out, "{}", ps.len()).map_err(serde_json::Error::io)?;
        line(&mut out, ps, |p| p.alias.as_str())?;
        line(&mut out, ps, |p| p.agent.as_str())?;
        line(&mut out, ps, |p| p.provider.as_str())?;
        line(&mut out, ps, |p| p.endpoint.as_deref())?;
        line(&mut out, ps, |p| p.endpoint_url.as_deref())?;
        line(&mut out, ps, |p| p.shape.as_str())?;
        line(&mut out, ps, |p| p.model.as_deref())?;
        line(&mut out, ps, |p| p.key_alias.as_deref())?;
        line(&mut out, ps, |p| path(p.binary.as_deref()))?;
        line(&mut out, ps, |p| path(p.working_dir.as_deref()))?;
        line(&mut out, ps, |p| &p.args)?;
        line(&mut out, ps, |p| &p.env)?;
        line(&mut out, ps, |p| Metadata::from(&p.metadata))
    })();
    // Strings, string maps and numbers written to a Vec cannot fail to serialise; were it to,
    // the caller would get an error rather than a half-written text.
    let fail = |e: &dyn std::fmt::Display| {
        ringlet::Error::InvalidInput(format!("cannot serialise profiles: {e}"))
    };
    written.map_err(|e| fail(&e))?;
    String::from_utf8(out).map_err(|e| fail(&e))
}

/// Appends one field of every profile, as a JSON array on a line of its own.
fn line<'a, T: Serialize>(
    out: &mut Vec<u8>,
    profiles: &'a [ringlet::Profile],
    field: impl Fn(&'a ringlet::Profile) -> T,
) -> serde_json::Result<()> {
    out.push(b'\n');
    serde_json::to_writer(out, &Column(profiles, field))
}
