// The browser tests' world: a real `ringlet serve` on a real socket with its own RINGLET_HOME
// and HOME (a temp dir), the real `ringlet` CLI beside it, and Debian's chromium driven by
// playwright-core. Nothing is mocked but the agent (tests/src/bin/fake-agent.rs, which writes
// Claude-style usage logs and acts as an interactive agent on a terminal).
//
// The binaries are the ones `cargo build -p ringlet-cli -p ringlet-tests --bins` made
// (RINGLET_BIN / FAKE_AGENT_BIN override); a missing one fails the run, never skips it.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const HERE = dirname(fileURLToPath(import.meta.url))
export const REPO = join(HERE, '..', '..')
export const SCREENSHOTS = join(HERE, 'screenshots')

function binary(env, name) {
  if (process.env[env]) return process.env[env]
  // tests/run.sh builds for an explicit target (CARGO_BUILD_TARGET, the host's by default).
  const triple = process.env.CARGO_BUILD_TARGET
    ?? spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout?.match(/^host: (.+)$/m)?.[1]
  const candidates = [
    ...(triple ? [join(REPO, 'target', triple, 'debug', name)] : []),
    join(REPO, 'target', 'debug', name),
  ]
  const found = candidates.find((c) => existsSync(c))
  if (!found) {
    throw new Error(`${name} is not built (looked in ${candidates.join(', ')}); run \`cargo build -p ringlet-cli -p ringlet-tests --bins\` or set ${env}`)
  }
  return found
}

export const RINGLET = binary('RINGLET_BIN', 'ringlet')
export const FAKE_AGENT = binary('FAKE_AGENT_BIN', 'fake-agent')
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'
if (!existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_BIN)`)
}

/** A temp world: RINGLET_HOME, HOME, and the environment every ringlet command gets. */
export class World {
  /** `outsideTmp`: terminal sessions run sandboxed, with a fresh /tmp of their own, so a world
   *  their agent must see lives under target/ instead. */
  constructor({ tz = 'UTC', outsideTmp = false } = {}) {
    const base = outsideTmp ? join(REPO, 'target', 'web-tests') : tmpdir()
    mkdirSync(base, { recursive: true })
    this.root = mkdtempSync(join(base, 'ringlet-web-'))
    this.home = join(this.root, 'home')
    this.ringletHome = join(this.root, 'ringlet')
    mkdirSync(this.home, { recursive: true })
    this.tz = tz
    this.env = {
      PATH: process.env.PATH,
      HOME: this.home,
      RINGLET_HOME: this.ringletHome,
      TZ: tz,
      LANG: 'C.UTF-8',
      // The test profile's key, read with --key-from-env (never a real one).
      WEB_TEST_KEY: 'sk-web-test-not-real',
    }
  }

  /** Runs the CLI; throws with its output when it fails. */
  ringlet(args, { env = {}, input } = {}) {
    const r = spawnSync(RINGLET, args, { env: { ...this.env, ...env }, input, encoding: 'utf8' })
    if (r.status !== 0) {
      throw new Error(`ringlet ${args.join(' ')} exited ${r.status}: ${r.stdout}\n${r.stderr}`)
    }
    return r.stdout
  }

  json(args, opts) {
    return JSON.parse(this.ringlet([...args, '--json'], opts))
  }

  /** A profile whose agent is the fake agent (the server may name its directory). */
  createProfile(alias, model = 'claude-sonnet-4-5') {
    this.ringlet(['profiles', 'create', 'claude', alias, '--provider', 'anthropic', '--model', model,
      '--key-from-env', 'WEB_TEST_KEY', '--binary', FAKE_AGENT])
  }

  /** Writes a Claude Code log of `events` ([{time, model, input, output, session}]) and
   *  imports it into `profile`. */
  importClaudeLog(profile, events) {
    const dir = join(this.root, 'corpus', profile)
    mkdirSync(dir, { recursive: true })
    const lines = events.map((e, i) => JSON.stringify({
      type: 'assistant',
      uuid: `u-${profile}-${i}`,
      parentUuid: null,
      isSidechain: false,
      sessionId: e.session ?? `s-${profile}`,
      timestamp: e.time,
      cwd: '/work',
      version: '2.1.330',
      message: {
        id: `msg_web_${profile}_${i}`,
        type: 'message',
        role: 'assistant',
        model: e.model,
        content: [{ type: 'text', text: 'ok' }],
        usage: { input_tokens: e.input, output_tokens: e.output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    }))
    writeFileSync(join(dir, `${profile}.jsonl`), lines.join('\n') + '\n')
    this.ringlet(['import', 'claude', '--to', profile, '--from', dir])
  }

  cleanup() {
    rmSync(this.root, { recursive: true, force: true })
  }
}

/** A running `ringlet serve --listen 127.0.0.1:0` in `world`; its log is kept. */
export class Server {
  static async start(world, extra = []) {
    const s = new Server()
    s.world = world
    s.log = ''
    s.child = spawn(RINGLET, ['serve', '--listen', '127.0.0.1:0', '--allow-path', dirname(FAKE_AGENT), ...extra], {
      env: world.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    s.child.stderr.setEncoding('utf8')
    s.port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start: ${s.log}`)), 20000)
      s.child.stderr.on('data', (chunk) => {
        s.log += chunk
        const m = s.log.match(/serving the API on http:\/\/127\.0\.0\.1:(\d+)/)
        if (m) {
          clearTimeout(timer)
          resolve(Number(m[1]))
        }
      })
      s.child.on('exit', (code) => reject(new Error(`the server exited ${code}: ${s.log}`)))
    })
    s.url = `http://127.0.0.1:${s.port}`
    return s
  }

  token() {
    return readFileSync(join(this.world.ringletHome, 'config', 'http_token'), 'utf8').trim()
  }

  async api(method, path, body) {
    const res = await fetch(this.url + path, {
      method,
      headers: { Authorization: `Bearer ${this.token()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return res.status === 204 ? null : res.json()
  }

  async stop() {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r))
      this.child.kill('SIGTERM')
      await exited
    }
  }
}

/** Debian's chromium, headless; as root it needs --no-sandbox. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  })
}

/** A page that records console errors, page errors and failed requests (all must stay empty). */
export async function openPage(browser, { timezoneId = 'UTC', colorScheme = 'light', viewport } = {}) {
  const context = await browser.newContext({ timezoneId, colorScheme, viewport: viewport ?? { width: 1280, height: 860 } })
  const page = await context.newPage()
  page.problems = []
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`))
  return page
}

/** Expected 401s (a wrong token on purpose) show in the console as failed loads: allow those. */
export function problemsBesides(page, allowed = []) {
  return page.problems.filter((p) => !allowed.some((a) => p.includes(a)))
}

/** Signs in through the page; unless `refused`, waits until the app has left the sign-in page. */
export async function signIn(page, server, token = server.token(), { refused = false } = {}) {
  await page.goto(server.url + '/')
  await page.waitForURL(/\/sign-in/)
  await page.getByLabel('Server token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  if (!refused) await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'))
}

/** Runs axe-core on the page; returns the serious and critical violations. */
export async function axe(page) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script>
  // tag would be refused by it, as it should be).
  const source = readFileSync(join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8')
  await page.evaluate(source + ';0')
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }))
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`)
}

/** Saves a full-page screenshot to tests/web/screenshots/NAME-SCHEME.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${scheme}.png`), fullPage: true })
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

/** Polls `fn` until it returns a truthy value, or fails after `ms`. */
export async function eventually(fn, ms = 10000, what = 'the condition') {
  const until = Date.now() + ms
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${last}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
