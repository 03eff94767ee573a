// The terminal protocol of `/ws/terminal/{id}` (docs/remote.md): binary frames are terminal
// bytes both ways; text frames are JSON control messages. The token travels in the
// subprotocol (`bearer.<token>` beside `ringlet`), the only place a browser can put it on a
// WebSocket; never in the URL.
import { token } from './auth'

export interface Session {
  id: string
  profile: string
  agent: string
  state: 'starting' | 'running' | 'exited' | 'terminated'
  pid: number | null
  run_id: number | null
  created_at: string
  ended_at: string | null
  rows: number
  cols: number
  clients: number
  scrollback_bytes: number
  exit_code?: number | null
}

export type Control =
  | ({ type: 'state'; read_only: boolean } & Session)
  | { type: 'resync' }
  | { type: 'exit'; state: string; exit_code: number | null }
  | { type: 'dropped'; reason: string }
  | { type: 'error'; message: string }

export interface Handlers {
  output(bytes: Uint8Array): void
  control(message: Control): void
  closed(event: CloseEvent, opened: boolean): void
}

export function connect(id: string, handlers: Handlers, readOnly = false): WebSocket {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const url = `${scheme}://${location.host}/ws/terminal/${encodeURIComponent(id)}${readOnly ? '?readonly' : ''}`
  const ws = new WebSocket(url, ['ringlet', `bearer.${token() ?? ''}`])
  ws.binaryType = 'arraybuffer'
  let opened = false
  ws.onopen = () => (opened = true)
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') {
      try {
        handlers.control(JSON.parse(e.data) as Control)
      } catch {
        // Not JSON: the server never sends that.
      }
    } else {
      handlers.output(new Uint8Array(e.data as ArrayBuffer))
    }
  }
  ws.onclose = (e) => handlers.closed(e, opened)
  return ws
}

const encoder = new TextEncoder()

export function sendInput(ws: WebSocket, data: string): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data))
}

export function sendResize(ws: WebSocket, rows: number, cols: number): void {
  if (ws.readyState === WebSocket.OPEN && rows > 0 && cols > 0) ws.send(JSON.stringify({ type: 'resize', rows, cols }))
}

/** How long a session has run ("3 min", "2 h 5 min"). */
export function uptime(s: Session, now = Date.now()): string {
  const end = s.ended_at ? new Date(s.ended_at).getTime() : now
  const secs = Math.max(0, Math.round((end - new Date(s.created_at).getTime()) / 1000))
  if (secs < 60) return `${secs} s`
  const mins = Math.floor(secs / 60)
  if (mins < 60) return `${mins} min`
  return `${Math.floor(mins / 60)} h ${mins % 60} min`
}
