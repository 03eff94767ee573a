//! The proxy's own answers, in the error shape of the provider the agent thinks it talks to,
//! so the agent shows the message as it shows the provider's errors. Statuses are chosen so that
//! agents do not retry them (their SDKs retry 408, 409, 429 and 5xx).

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::catalog::wire::WireShape;

/// Why the proxy answers itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// No token, or not this run's.
    Unauthorized,
    /// A budget is spent.
    Budget,
    /// The upstream could not be reached (the agent may retry this one).
    Upstream,
}

impl Why {
    fn status(self) -> StatusCode {
        match self {
            Why::Unauthorized => StatusCode::UNAUTHORIZED,
            // What Anthropic answers for an exhausted credit balance: not retried.
            Why::Budget => StatusCode::BAD_REQUEST,
            Why::Upstream => StatusCode::BAD_GATEWAY,
        }
    }
}

/// The status and JSON body of an answer in `shape`'s error shape.
pub(crate) fn error_body(shape: WireShape, why: Why, message: &str) -> (StatusCode, Value) {
    let status = why.status();
    let body = match shape {
        WireShape::Anthropic => {
            let kind = match why {
                Why::Unauthorized => "authentication_error",
                Why::Budget => "invalid_request_error",
                Why::Upstream => "api_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
        WireShape::OpenaiChat | WireShape::OpenaiResponses => {
            let (kind, code) = match why {
                Why::Unauthorized => ("invalid_request_error", "invalid_api_key"),
                Why::Budget => ("insufficient_quota", "budget_exceeded"),
                Why::Upstream => ("server_error", "upstream_unreachable"),
            };
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        }
        WireShape::Gemini => {
            let state = match why {
                Why::Unauthorized => "UNAUTHENTICATED",
                Why::Budget => "FAILED_PRECONDITION",
                Why::Upstream => "UNAVAILABLE",
            };
            json!({"error": {"code": status.as_u16(), "message": message, "status": state}})
        }
    };
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_gets_its_providers_error_form() {
        let (s, b) = error_body(WireShape::Anthropic, Why::Unauthorized, "m");
        assert_eq!(s, 401);
        assert_eq!(b["error"]["type"], "authentication_error");
        let (s, b) = error_body(WireShape::OpenaiChat, Why::Budget, "m");
        assert_eq!(s, 400);
        assert_eq!(b["error"]["code"], "budget_exceeded");
        assert_eq!(b["error"]["message"], "m");
        let (_, b) = error_body(WireShape::Gemini, Why::Unauthorized, "m");
        assert_eq!(b["error"]["status"], "UNAUTHENTICATED");
        assert_eq!(b["error"]["code"], 401);
    }
}
