'use strict'
// Ringlet.start and its RunHandle: a PTY run of the fake agent's interactive mode (size,
// resize, input, exit code), a piped run read to the end, kill, the hook transport
// (hookProgram).
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')

const { REPO, Ringlet, makeProfile, open, tempHome } = require('./helpers')

const RINGLET_CLI = process.env.RINGLET_CLI || path.join(REPO, 'target', 'debug', 'ringlet')
const TIMEOUT_MS = 20000

// Reads a handle's output as it comes; `waitFor` rejects on timeout or end of file.
function collect (handle) {
  const out = { seen: '', ended: false, waiters: [] }
  const wake = () => { for (const w of out.waiters.splice(0)) w() }
  ;(async () => {
    for (;;) {
      const chunk = await handle.read()
      if (chunk === null) break
      assert.ok(Buffer.isBuffer(chunk))
      out.seen += chunk.toString()
      wake()
    }
    out.ended = true
    wake()
  })()
  out.waitFor = async (needle) => {
    const deadline = Date.now() + TIMEOUT_MS
    while (!out.seen.includes(needle)) {
      if (out.ended || Date.now() > deadline) {
        assert.fail(`no ${JSON.stringify(needle)} in ${JSON.stringify(out.seen)}`)
      }
      await new Promise((resolve) => {
        out.waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }
  out.ends = async () => {
    const deadline = Date.now() + TIMEOUT_MS
    while (!out.ended) {
      if (Date.now() > deadline) assert.fail(`output never ended: ${out.seen}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  return out
}

test('a PTY run sees its size; resize and input reach it; wait gives the exit code', async () => {
  const { r, home } = await open()
  await makeProfile(r, 'tty')
  const handle = await r.start('tty', ['--exit', '7', '--interactive'], {
    io: 'pty', rows: 24, cols: 80, workingDir: home
  })
  const out = collect(handle)
  await out.waitFor(`size 24 80 pid ${handle.pid}`)
  // wait() is pending on the blocking pool while the terminal is resized and typed into.
  const done = handle.wait()
  handle.resize(30, 100)
  await out.waitFor('winch 30 100')
  await handle.write(Buffer.from('hello\n'))
  await out.waitFor('got hello')
  await handle.write(Buffer.from('quit\n'))
  const outcome = await done
  assert.equal(outcome.exitCode, 7)
  assert.equal(outcome.pid, handle.pid)
  assert.deepEqual(await handle.wait(), outcome)
  await out.ends()
  assert.equal((await r.profile('tty')).metadata.totalRuns, 1)
})

test('a piped run is read to the end; it has no terminal to write to', async () => {
  const { r, home } = await open()
  await makeProfile(r, 'pipe')
  const handle = await r.start('pipe', ['--interactive'], { io: 'piped', workingDir: home })
  const out = collect(handle)
  await out.waitFor(`pid ${handle.pid}`)
  // Standard input is /dev/null: the interactive agent sees end of input and exits 0.
  assert.equal((await handle.wait()).exitCode, 0)
  await out.ends()
  await assert.rejects(handle.write(Buffer.from('x')), { kind: 'invalid_input' })
  assert.throws(() => handle.resize(1, 1), { kind: 'invalid_input' })
})

test('kill ends a run', async () => {
  const { r, home } = await open()
  await makeProfile(r, 'long')
  for (const io of ['piped', 'pty']) {
    const handle = await r.start('long', ['--sleep-ms', '60000'], { io, workingDir: home })
    const done = handle.wait()
    handle.kill()
    assert.equal((await done).exitCode, 128 + 9)
  }
})

test('start options are checked', async () => {
  const { r } = await open()
  await makeProfile(r, 'work')
  await assert.rejects(r.start('work', [], { io: 'tty' }), { kind: 'invalid_input' })
  await assert.rejects(r.start('work', [], { env: 'none' }), { kind: 'invalid_input' })
  await assert.rejects(r.start('nobody'), { code: 'profile_not_found' })
})

test('a clean environment passes only its allowlist', async () => {
  const { r, home } = await open()
  await makeProfile(r, 'env')
  const record = path.join(home, 'record.json')
  process.env.FAKE_AGENT_RECORD = record
  process.env.RINGLET_TEST_SECRET_TOKEN = 'server-only'
  try {
    const handle = await r.start('env', [], {
      io: 'piped', envAllow: ['FAKE_AGENT_RECORD'], workingDir: home
    })
    assert.equal((await handle.wait()).exitCode, 0)
  } finally {
    delete process.env.FAKE_AGENT_RECORD
    delete process.env.RINGLET_TEST_SECRET_TOKEN
  }
  const seen = JSON.parse(fs.readFileSync(record, 'utf8'))
  assert.equal(seen.env.RINGLET_TEST_SECRET_TOKEN, undefined)
  assert.equal(seen.env.FAKE_AGENT_RECORD, record)
  assert.equal(seen.cwd, home)
})

test('the time zone is the agent\'s', async () => {
  const { r, home } = await open()
  await makeProfile(r, 'tz')
  const record = path.join(home, 'record.json')
  process.env.FAKE_AGENT_RECORD = record
  try {
    const handle = await r.start('tz', [], { io: 'piped', workingDir: home, timeZone: 'Asia/Kolkata' })
    assert.equal((await handle.wait()).exitCode, 0)
    await assert.rejects(r.start('tz', [], { io: 'piped', timeZone: 'Mars/Olympus_Mons' }),
      (e) => e.code === 'invalid_input' && /Europe\/Berlin or UTC/.test(e.message))
  } finally {
    delete process.env.FAKE_AGENT_RECORD
  }
  assert.equal(JSON.parse(fs.readFileSync(record, 'utf8')).env.TZ, 'Asia/Kolkata')
})

test('a gated profile needs a hook program', async () => {
  const home = tempHome()
  // No `ringlet` on PATH: without hookProgram nothing could carry the pre-tool-use gate.
  const path0 = process.env.PATH
  process.env.PATH = '/usr/bin:/bin'
  let r
  try {
    r = await Ringlet.open(home)
  } finally {
    process.env.PATH = path0
  }
  await makeProfile(r, 'gated')
  await r.addHook({ event: 'pre-tool-use', profile: 'gated', shell: 'true' })
  await assert.rejects(r.start('gated', [], { io: 'piped', workingDir: home }), {
    code: 'hook_transport_missing', kind: 'unavailable'
  })
  const gated = await Ringlet.open(home, { hookProgram: RINGLET_CLI })
  const handle = await gated.start('gated', [], { io: 'piped', workingDir: home })
  assert.equal((await handle.wait()).exitCode, 0)
  const settings = path.join(await gated.profileHome('gated'), '.claude', 'settings.json')
  assert.ok(fs.readFileSync(settings, 'utf8').includes(RINGLET_CLI))
})
