use std::process::ExitCode;

use ringlet::Ringlet;

use crate::cli::ProvidersCmd;
use crate::output::{self, or_dash};

pub fn run(ringlet: &Ringlet, cmd: ProvidersCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ProvidersCmd::List(j) => {
            let providers = ringlet.providers();
            if j.json {
                output::json(&providers)?;
            } else {
                let mut t = output::table(&[
                    "PROVIDER",
                    "NAME",
                    "SHAPES",
                    "ENDPOINTS",
                    "DEFAULT MODEL",
                    "KEY",
                ]);
                for p in &providers {
                    t.add_row([
                        p.id.clone(),
                        p.name.clone(),
                        join(p.shapes.iter().map(|s| s.as_str())),
                        if p.endpoints.is_empty() {
                            "(--custom-endpoint)".into()
                        } else {
                            join(p.endpoints.keys().map(String::as_str))
                        },
                        or_dash(p.default_model.as_deref()),
                        if p.needs_key { "required" } else { "none" }.into(),
                    ]);
                }
                output::print_table(&t);
            }
        }
        ProvidersCmd::Inspect { id, json } => {
            let p = ringlet.provider(&id)?;
            if json.json {
                output::json(&p)?;
            } else {
                let mut rows = vec![
                    ("id", p.id.clone()),
                    ("name", p.name.clone()),
                    ("default endpoint", or_dash(p.default_endpoint.as_deref())),
                    ("key", if p.needs_key { "required" } else { "none" }.into()),
                    ("key env", or_dash(p.auth_env.as_deref())),
                    ("default model", or_dash(p.default_model.as_deref())),
                    ("models", join(p.models.iter().map(String::as_str))),
                    ("profiles", p.profiles.to_string()),
                ];
                let endpoint_rows: Vec<(String, String)> = p
                    .endpoints
                    .iter()
                    .flat_map(|(name, shapes)| {
                        shapes.iter().map(move |(shape, url)| {
                            (format!("endpoint {name} ({shape})"), url.clone())
                        })
                    })
                    .collect();
                rows.extend(endpoint_rows.iter().map(|(k, v)| (k.as_str(), v.clone())));
                output::fields(&rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}
