//! The one place a failed command becomes what the user reads and the exit status: one line on
//! stderr, or with `--json` one object scripts can parse. The core's hint (`ringlet::Error::hint`)
//! follows the message, `message; hint`, worded for a terminal user: a field by its flag
//! ([`flag`]), every other hint by its `Display`.

use std::process::ExitCode;

use ringlet::{Field, Hint};

/// The flag that sets a field, as the hints name it.
fn flag(field: Field) -> &'static str {
    match field {
        Field::Model => "--model",
        Field::Endpoint => "--endpoint",
        Field::CustomEndpoint => "--custom-endpoint",
        Field::Shape => "--shape",
        Field::Env | Field::SetEnv => "--env",
        Field::UnsetEnv => "--unset-env",
        Field::Args => "the arguments after --",
        Field::WorkingDir => "--working-dir",
        Field::ClearWorkingDir => "--clear-working-dir",
        Field::Binary => "--binary",
        Field::ClearBinary => "--clear-binary",
        Field::Sandbox => "--sandbox",
        Field::KeyAlias => "--key-alias",
        Field::Period => "--period",
        Field::Threshold => "--threshold",
        Field::Budget => "--of",
        Field::HookAction => "--shell, --rhai or --webhook",
        Field::Webhook => "--webhook",
        Field::WebhookTemplate => "--webhook-template",
        Field::Tool => "--tool",
    }
}

/// The core's hint in the CLI's terms.
fn hint_text(hint: &Hint) -> String {
    match hint {
        Hint::GiveField(field) => format!("pass {}", flag(*field)),
        Hint::CheckField(field) => format!("check {}", flag(*field)),
        Hint::OneOfFields(a, b) => format!("give {} or {}, not both", flag(*a), flag(*b)),
        // Every other hint's `Display` is the CLI's wording.
        other => other.to_string(),
    }
}

/// Reports `err` on stderr and gives the exit status for it.
///
/// Every kind exits 1: `profiles run` exits with the agent's own status, so any other number
/// could be the agent's; scripts tell kinds apart by `--json`'s `kind` and `code`.
pub fn report(err: &anyhow::Error, json: bool) -> ExitCode {
    if json {
        crate::output::err_line(&to_json(err).to_string());
    } else {
        crate::output::err_line(&format!("ringlet: error: {}", line(err)));
    }
    ExitCode::FAILURE
}

/// The core error in the chain, if any (the first: a context added around it comes before it).
fn core(err: &anyhow::Error) -> Option<&ringlet::Error> {
    err.chain().find_map(|e| e.downcast_ref::<ringlet::Error>())
}

/// The error and its causes on one line, each said once, then `; hint` when the core gave one.
/// Each cause once: the library's messages already end with their cause (so that a binding that
/// shows only the message loses nothing), and the same cause is also the error's `source()`.
fn line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain().map(|e| e.to_string()) {
        if line.ends_with(&cause) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    if let Some(hint) = core(err).and_then(ringlet::Error::hint) {
        line.push_str("; ");
        line.push_str(&hint_text(&hint));
    }
    line.replace('\n', " ")
}

/// `{"error": {"code", "kind", "message", "hint"?, "suggestion"?}}`: `message` is the line
/// text mode prints (hint included); `hint` is that hint alone; `suggestion` the name a
/// not-found profile, agent or provider most likely was; `code` and `kind` are the core's stable names
/// (`error` and `internal` for a failure outside the core, such as a terminal that cannot be
/// read).
fn to_json(err: &anyhow::Error) -> serde_json::Value {
    let core = core(err);
    let mut body = serde_json::json!({
        "code": core.map_or("error", ringlet::Error::code),
        "kind": core.map_or(ringlet::ErrorKind::Internal, ringlet::Error::kind).as_str(),
        "message": line(err),
    });
    if let Some(hint) = core.and_then(ringlet::Error::hint) {
        body["hint"] = hint_text(&hint).into();
    }
    if let Some(suggestion) = core.and_then(ringlet::Error::suggestion) {
        body["suggestion"] = suggestion.into();
    }
    serde_json::json!({ "error": body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exists() -> anyhow::Error {
        ringlet::Error::ProfileExists {
            alias: "work".into(),
        }
        .into()
    }

    #[test]
    fn the_hint_follows_the_whole_chain() {
        assert_eq!(
            line(&exists()),
            "profile 'work' already exists; pick another alias or delete it first with `ringlet profiles delete work`"
        );
        let wrapped = exists().context("creating the profile");
        assert_eq!(
            line(&wrapped),
            "creating the profile: profile 'work' already exists; pick another alias or delete it first with `ringlet profiles delete work`"
        );
        let plain = anyhow::anyhow!("reading the key:\nno terminal");
        assert_eq!(line(&plain), "reading the key: no terminal");
    }

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::from_raw_os_error(28);
        let cause = io.to_string();
        let err = anyhow::Error::from(ringlet::Error::io("writing", "/x/y", io))
            .context("saving the profile");
        let line = line(&err);
        assert_eq!(line, format!("saving the profile: writing /x/y: {cause}"));
        assert_eq!(line.matches(&cause).count(), 1, "{line}");
    }

    #[test]
    fn json_carries_code_kind_and_hint() {
        let v = to_json(&exists());
        assert_eq!(v["error"]["code"], "profile_exists");
        assert_eq!(v["error"]["kind"], "conflict");
        assert_eq!(
            v["error"]["hint"],
            "pick another alias or delete it first with `ringlet profiles delete work`"
        );
        assert_eq!(v["error"]["message"], line(&exists()));

        let plain = to_json(&anyhow::anyhow!("no terminal"));
        assert_eq!(plain["error"]["code"], "error");
        assert_eq!(plain["error"]["kind"], "internal");
        assert!(plain["error"].get("hint").is_none(), "{plain}");
    }

    /// A field is named by its flag; the message has no flag in it, so the CLI adds one.
    #[test]
    fn field_hints_name_the_flag() {
        let err = anyhow::Error::from(ringlet::Error::InvalidField {
            field: Field::Model,
            message: "provider 'custom' has no default model".into(),
            problem: ringlet::FieldProblem::Missing,
        });
        assert_eq!(
            line(&err),
            "provider 'custom' has no default model; pass --model"
        );
        assert_eq!(to_json(&err)["error"]["hint"], "pass --model");
        let both = Hint::OneOfFields(Field::WorkingDir, Field::ClearWorkingDir);
        assert_eq!(
            hint_text(&both),
            "give --working-dir or --clear-working-dir, not both"
        );
        assert_eq!(hint_text(&Hint::CheckField(Field::SetEnv)), "check --env");
        for field in Field::ALL {
            assert!(
                flag(field).starts_with("--") || field == Field::Args,
                "{field}"
            );
        }
    }
}
