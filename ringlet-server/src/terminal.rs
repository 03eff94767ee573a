//! `/ws/terminal/{id}`: a session's terminal over a WebSocket (docs/remote.md has the protocol).
//!
//! Binary frames are terminal bytes both ways; text frames are JSON control messages. The
//! server sends `state` first (the session, and whether this client is read-only), then the
//! scrollback and the live output as binary frames; `resync` before a binary frame that
//! replaces the screen (the client fell behind); `exit` when the agent has ended, then a normal
//! close; `dropped` when the client fell behind twice, then a close with code 4000. The client
//! sends its keystrokes as binary frames and `resize` as text. The upgrade passes the same
//! checks as every route (Host, Origin, the token in `Sec-WebSocket-Protocol`).
//!
//! All session logic is the core's [`SessionClient`]: this only moves frames. Typing goes
//! through one writer task per client, off the async threads (a terminal whose agent does not
//! read its input blocks the writer, not the output).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use ringlet::session::{ClientEvent, SessionClient};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::{Params, Segments, core};
use crate::error::ApiError;
use crate::guard::{WS_PROTOCOL, WsProtocol};

/// The largest frame a client may send (keystrokes and pastes; a paste beyond this is split by
/// any sane client).
const INPUT_MAX: usize = 1024 * 1024;

/// The close code after `dropped`: the client fell too far behind (4000–4999 are the
/// application's).
pub const CLOSE_DROPPED: u16 = 4000;

/// How the client attaches.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Attach {
    /// `readonly`, `readonly=1` or `readonly=true`: the client watches; its input and resizes
    /// are ignored.
    readonly: Option<String>,
}

impl Attach {
    fn read_only(&self) -> Result<bool, ApiError> {
        match self.readonly.as_deref() {
            None | Some("0" | "false") => Ok(false),
            Some("" | "1" | "true") => Ok(true),
            Some(_) => Err(ApiError::bad_request(
                "`readonly` is `1`, `true`, `0` or `false` (or given alone)",
            )),
        }
    }
}

/// What a client's control text frame says.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Control {
    /// The client's terminal has this size now.
    Resize { rows: u16, cols: u16 },
}

/// Input for the session, in the order the client sent it.
enum Input {
    Keys(Bytes),
    Resize(u16, u16),
}

/// Attaches to a session's terminal. Upgrade with the subprotocols `ringlet` and
/// `bearer.<token>`; the server answers `ringlet`.
#[utoipa::path(get, path = "/ws/terminal/{id}", tag = "sessions",
    params(
        ("id" = String, Path, description = "The session id"),
        ("readonly" = Option<String>, Query, description = "Attach read-only (`readonly`, `readonly=1`): input and resizes are ignored")
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol (docs/remote.md): binary frames are terminal bytes both ways, text frames JSON control messages"),
        (status = 400, description = "Not a WebSocket upgrade offering the `ringlet` subprotocol", body = crate::error::ErrorBody),
        (status = 404, description = "No session with this id", body = crate::error::ErrorBody)
    ))]
pub(crate) async fn terminal(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Params(attach): Params<Attach>,
    _protocol: WsProtocol,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|e| {
        ApiError::bad_request(format!(
            "this route is a WebSocket: upgrade to it ({})",
            e.body_text()
        ))
    })?;
    let read_only = attach.read_only()?;
    // Attached before the upgrade: an unknown id is a plain 404, and no output is missed
    // between the answer and the first frame.
    let client = state
        .sessions()
        .attach(&id, read_only)
        .map_err(core(state.ringlet()))?;
    Ok(upgrade
        .protocols([WS_PROTOCOL])
        .max_message_size(INPUT_MAX)
        .on_upgrade(move |socket| serve(socket, client))
        .into_response())
}

fn text(value: &Value) -> Message {
    Message::Text(value.to_string().into())
}

/// Moves frames until the session ends, the client goes, or the client is dropped.
async fn serve(mut socket: WebSocket, client: SessionClient) {
    let client = Arc::new(client);
    let mut state = match serde_json::to_value(client.info()) {
        Ok(v) => v,
        Err(_) => return,
    };
    if let Some(map) = state.as_object_mut() {
        map.insert("type".into(), "state".into());
        map.insert("read_only".into(), client.read_only().into());
    }
    if socket.send(text(&state)).await.is_err() {
        return;
    }
    let (input, inputs) = tokio::sync::mpsc::channel::<Input>(64);
    let writer = tokio::spawn(write_inputs(Arc::clone(&client), inputs));
    loop {
        tokio::select! {
            event = client.event() => {
                let done = match event {
                    Some(ClientEvent::Output(bytes)) => {
                        socket.send(Message::Binary(bytes.into())).await.is_err()
                    }
                    Some(ClientEvent::Resync(screen)) => {
                        socket.send(text(&json!({"type": "resync"}))).await.is_err()
                            || socket.send(Message::Binary(screen.into())).await.is_err()
                    }
                    Some(ClientEvent::Exit { state }) => {
                        let mut exit = json!({"type": "exit", "state": state.as_str()});
                        exit["exit_code"] = state.exit_code().into();
                        let _ = socket.send(text(&exit)).await;
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: 1000,
                                reason: "the session ended".into(),
                            })))
                            .await;
                        true
                    }
                    Some(ClientEvent::Dropped { reason }) => {
                        let _ = socket
                            .send(text(&json!({"type": "dropped", "reason": reason})))
                            .await;
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: CLOSE_DROPPED,
                                reason: "fell too far behind".into(),
                            })))
                            .await;
                        true
                    }
                    // A kind of event this server does not know yet: nothing to send.
                    Some(_) => false,
                    None => true,
                };
                if done {
                    break;
                }
            }
            message = socket.recv() => {
                let send = match message {
                    Some(Ok(Message::Binary(keys))) => Some(Input::Keys(keys)),
                    Some(Ok(Message::Text(control))) => {
                        match serde_json::from_str::<Control>(control.as_str()) {
                            Ok(Control::Resize { rows, cols }) if rows > 0 && cols > 0 => {
                                Some(Input::Resize(rows, cols))
                            }
                            Ok(Control::Resize { .. }) => {
                                let error = "resize: give at least 1 row and 1 column";
                                let _ = socket.send(text(&json!({"type": "error", "message": error}))).await;
                                None
                            }
                            Err(e) => {
                                let error = format!("a text frame is a JSON control message such as {{\"type\":\"resize\",\"rows\":24,\"cols\":80}} ({e})");
                                let _ = socket.send(text(&json!({"type": "error", "message": error}))).await;
                                None
                            }
                        }
                    }
                    // Pings are answered by the WebSocket layer.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                // A read-only client's input is dropped here; the core ignores it too.
                if let Some(send) = send.filter(|_| !client.read_only())
                    && input.send(send).await.is_err()
                {
                    break;
                }
            }
        }
    }
    // The writer ends with the channel (after a write the agent has not taken yet, if any);
    // the client detaches when both are gone. Not awaited: a write blocked on an agent that
    // does not read must not keep this connection's task alive.
    drop(input);
    drop(writer);
}

/// Types and resizes, in order, each on the blocking pool (a PTY write blocks while the agent
/// does not read its input).
async fn write_inputs(client: Arc<SessionClient>, mut inputs: tokio::sync::mpsc::Receiver<Input>) {
    while let Some(input) = inputs.recv().await {
        let typing = Arc::clone(&client);
        let done = tokio::task::spawn_blocking(move || match input {
            Input::Keys(keys) => typing.write(&keys),
            Input::Resize(rows, cols) => typing.resize(rows, cols),
        })
        .await;
        if let Ok(Err(e)) = &done {
            crate::log::line(&format!("terminal session {}: {e}", client.session_id()));
        }
    }
}
