//! Makes up a JSON value that matches a JSON schema.
//!
//! Some agent requests are side calls that want structured JSON back rather than prose: Gemini
//! CLI's model router asks for `{"reasoning": …, "model_choice": "flash"|"pro"}` when no model is
//! forced, and its next-speaker check asks for `{"reasoning": …, "next_speaker": "user"|"model"}`.
//! Answering "pong" to those makes the agent fail, so the fake answers the simplest value that
//! fits: first enum value, empty arrays, the smallest allowed number (1 when unbounded: Gemini
//! CLI's complexity classifier rejects a score of 0 though its schema has no minimum), false, and
//! the default text for free strings. Gemini's
//! upper-case OpenAPI type names (`OBJECT`, `STRING`) are accepted too.

use serde_json::{Map, Value, json};

/// A value matching `schema`; `Value::Null` as a schema means "any JSON object".
pub(crate) fn synthesize(schema: &Value, text: &str) -> Value {
    synth(schema, text, 0)
}

fn synth(schema: &Value, text: &str, depth: usize) -> Value {
    // Schemas can be recursive through $ref; the fake doesn't resolve refs, but stay bounded.
    if depth > 16 {
        return Value::Null;
    }
    let Some(obj) = schema.as_object() else {
        return json!({});
    };
    if let Some(value) = obj.get("const") {
        return value.clone();
    }
    if let Some(first) = obj
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = obj
            .get(key)
            .and_then(Value::as_array)
            .and_then(|v| v.first())
        {
            return synth(first, text, depth + 1);
        }
    }
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.to_ascii_lowercase(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_ascii_lowercase(),
        _ if obj.contains_key("properties") => "object".to_string(),
        _ => "object".to_string(),
    };
    match ty.as_str() {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = obj.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    out.insert(name.clone(), synth(prop, text, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => json!([]),
        "string" => Value::String(text.to_string()),
        "integer" | "number" => number(obj),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// The smallest number the schema allows, defaulting to 1.
fn number(obj: &Map<String, Value>) -> Value {
    let bound = |key: &str| obj.get(key).and_then(Value::as_f64);
    let mut n = match (bound("minimum"), bound("exclusiveMinimum")) {
        (Some(min), _) => min,
        (None, Some(min)) => min + 1.0,
        (None, None) => 1.0,
    };
    if let Some(max) = bound("maximum") {
        n = n.min(max);
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        // Whole numbers as JSON integers, so integer schemas validate.
        json!(n as i64)
    } else {
        json!(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_router_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "reasoning": {"type": "string"},
                "model_choice": {"type": "string", "enum": ["flash", "pro"]}
            },
            "required": ["reasoning", "model_choice"]
        });
        assert_eq!(
            synthesize(&schema, "pong"),
            json!({"reasoning": "pong", "model_choice": "flash"})
        );
    }

    #[test]
    fn openapi_upper_case_types_and_nesting() {
        let schema = json!({
            "type": "OBJECT",
            "properties": {
                "n": {"type": "INTEGER"},
                "list": {"type": "ARRAY", "items": {"type": "STRING"}},
                "maybe": {"type": ["null", "boolean"]}
            }
        });
        assert_eq!(
            synthesize(&schema, "x"),
            json!({"n": 1, "list": [], "maybe": false})
        );
        assert_eq!(synthesize(&Value::Null, "x"), json!({}));
        assert_eq!(
            synthesize(&json!({"type": "integer", "minimum": 5}), "x"),
            json!(5)
        );
        assert_eq!(
            synthesize(&json!({"type": "number", "maximum": 0.5}), "x"),
            json!(0.5)
        );
    }
}
