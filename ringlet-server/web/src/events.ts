// Live updates from `GET /api/events` (Server-Sent Events). EventSource cannot send headers and
// the server takes the token only in `Authorization` (never in a URL), so the stream is read
// with fetch and parsed here. Reconnects with a growing pause; a 401 signs the user out.
import { onBeforeUnmount, ref } from 'vue'
import { authHeaders, failure } from './api'
import { token } from './auth'

export interface ServerEvent {
  type: string
  data: Record<string, unknown>
}

type Listener = (e: ServerEvent) => void

const listeners = new Set<Listener>()
/** Whether the stream is open (shown in the header). */
export const live = ref(false)
/** Whether the current page follows the stream (the header says "offline" only then). */
export const following = ref(false)
let controller: AbortController | null = null
let retry = 500

/** Splits a chunk of the stream into complete events; returns the unfinished rest. */
export function parseEvents(buffer: string, emit: (e: ServerEvent) => void): string {
  let rest = buffer
  for (;;) {
    const end = rest.search(/\r?\n\r?\n/)
    if (end < 0) return rest
    const block = rest.slice(0, end)
    rest = rest.slice(rest.slice(end).match(/^\r?\n\r?\n/)![0].length + end)
    let type = 'message'
    const data: string[] = []
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') type = value
      else if (field === 'data') data.push(value)
    }
    if (data.length === 0) continue
    let parsed: Record<string, unknown> = {}
    try {
      parsed = JSON.parse(data.join('\n'))
    } catch {
      parsed = { text: data.join('\n') }
    }
    emit({ type, data: parsed })
  }
}

async function connect() {
  if (controller || !token()) return
  const mine = new AbortController()
  controller = mine
  const sent = token()
  try {
    const res = await fetch('/api/events', {
      headers: { Accept: 'text/event-stream', ...authHeaders() },
      signal: mine.signal,
      cache: 'no-store',
    })
    if (!res.ok || !res.body) {
      await failure(res, sent)
      if (res.status === 401) return
      throw new Error(`events: ${res.status}`)
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer = parseEvents(buffer + value, (e) => {
        if (e.type === 'ready') {
          live.value = true
          retry = 500
        }
        for (const l of listeners) l(e)
      })
    }
  } catch {
    // A dropped connection or an abort: retried below unless aborted.
  } finally {
    live.value = false
    if (controller === mine) controller = null
  }
  if (!mine.signal.aborted && listeners.size > 0 && token()) {
    setTimeout(connect, retry)
    retry = Math.min(retry * 2, 10_000)
  }
}

function disconnect() {
  controller?.abort()
  controller = null
  live.value = false
}

/** Calls `fn` for every event while the calling component is mounted. */
export function useEvents(fn: Listener): void {
  listeners.add(fn)
  following.value = true
  void connect()
  onBeforeUnmount(() => {
    listeners.delete(fn)
    following.value = listeners.size > 0
    if (listeners.size === 0) disconnect()
  })
}

/** Events that change what `GET /api/profiles` answers (and the runs and costs shown). */
export const PROFILE_EVENTS = new Set([
  'profile-created', 'profile-updated', 'profile-deleted', 'run-started', 'run-ended',
  'usage-recorded', 'missed', 'ready',
])

/** Events that change what `GET /api/hooks` answers (profiles: the form's profile choices). */
export const HOOK_EVENTS = new Set([
  'hooks-changed', 'profile-created', 'profile-deleted', 'missed', 'ready',
])

/** Calls `reload` at most every 300 ms while events keep coming. */
export function debounce(reload: () => void, ms = 300): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null
  return () => {
    if (timer) return
    timer = setTimeout(() => {
      timer = null
      reload()
    }, ms)
  }
}
