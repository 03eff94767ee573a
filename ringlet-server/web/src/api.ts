// Calls to ringlet's HTTP API (docs/server.md): JSON, the token in `Authorization: Bearer`.
// A 401 (a wrong, rotated or missing token) signs the user out and sends them to the sign-in
// page with the server's message.
import { signOut, token } from './auth'
import { router } from './router'

/** An error answer of the API: `{"error": {"code", "kind", "message", "hint"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message)
  }

  /** The message and the hint, for showing. */
  get text(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message
  }
}

export function authHeaders(): Record<string, string> {
  const t = token()
  return t ? { Authorization: `Bearer ${t}` } : {}
}

/**
 * Turns a 401 into a sign-out and a trip to the sign-in page; other errors into ApiErrors.
 * `sent` is the token the request carried: a 401 for a token the user has since replaced (a
 * request still in flight when they signed in again after a rotation) must not sign out the new
 * one.
 */
export async function failure(res: Response, sent: string | null): Promise<ApiError> {
  let code = 'http_' + res.status
  let message = `${res.status} ${res.statusText}`
  let hint: string | undefined
  try {
    const body = await res.json()
    if (body?.error) {
      code = body.error.code ?? code
      message = body.error.message ?? message
      hint = body.error.hint ?? undefined
    }
  } catch {
    // Not JSON: keep the status line.
  }
  const err = new ApiError(res.status, code, message, hint)
  if (res.status === 401 && sent === token()) {
    signOut()
    const current = router.currentRoute.value
    if (current.name !== 'sign-in') {
      await router.push({
        name: 'sign-in',
        query: { reason: 'rejected', next: current.fullPath },
      })
    }
  }
  return err
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const sent = token()
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  })
  if (!res.ok) throw await failure(res, sent)
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

export const get = <T>(path: string) => request<T>('GET', path)

/** A query string from the set values of `params` (empty ones left out). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

// The shapes the routes answer with (the OpenAPI document at /api/openapi.json has them all).

export interface Profile {
  alias: string
  agent: string
  provider: string
  endpoint?: string | null
  custom_endpoint?: string | null
  shape?: string | null
  model?: string | null
  key_alias?: string | null
  binary?: string | null
  working_dir?: string | null
  args?: string[]
  env?: Record<string, string>
  sandbox?: unknown
  metadata?: { created_at?: string; last_used?: string | null; total_runs?: number }
}

export interface Agent {
  id: string
  name: string
  installed: boolean
  path: string | null
  version: string | null
  version_error: string | null
  speaks: string[]
  profiles: number
  install: string | null
  source: { kind: string; path?: string }
}

export interface Provider {
  id: string
  name: string
  endpoints: Record<string, Record<string, string>>
  default_endpoint: string | null
  shapes: string[]
  auth_env: string | null
  needs_key: boolean
  default_model: string | null
  models: string[]
  profiles: number
  source: { kind: string; path?: string }
}

export interface UsageRow {
  key: string
  events: number
  input: number
  output: number
  cache_creation: number
  cache_read: number
  reasoning: number
  total_tokens: number
  cost_nanos: number
  cost_usd: number
  priced_events: number
  unpriced_events: number
}

export interface UsageReport {
  group: string
  since: string | null
  until: string | null
  rows: UsageRow[]
  total: UsageRow
}

export interface KeyRef {
  provider: string
  alias: string
}

export interface Hook {
  id: string
  event: string
  [field: string]: unknown
}
