'use strict'
// Glue tests: each facade call reaches the core and comes back as the documented objects or
// coded errors, asynchronously. The logic itself is tested in Rust.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')

const {
  FAKE_AGENT, KEY, Ringlet, makeFullProfile, makeProfile, open, tempHome
} = require('./helpers')

test('create, list, get and delete a profile', async () => {
  const { r } = await open()
  const created = await makeProfile(r, 'work')
  assert.equal(created.alias, 'work')
  assert.equal(created.agent, 'claude')
  assert.equal(created.binary, FAKE_AGENT)
  assert.equal(created.metadata.totalRuns, 0)
  assert.deepEqual((await r.profiles()).map((p) => p.alias), ['work'])
  assert.deepEqual(await r.profile('work'), created)
  assert.equal(await r.hasProfile('work'), true)
  assert.ok((await r.profileHome('work')).endsWith(path.join('work', 'home')))
  await assert.rejects(makeProfile(r, 'work'), {
    code: 'profile_exists',
    kind: 'conflict',
    hint: "pick another alias or delete it first with deleteProfile('work')"
  })
  await r.deleteProfile('work')
  assert.deepEqual(await r.profiles(), [])
})

test('profiles are plain objects; an unset option is an absent property', async () => {
  const { r } = await open()
  const full = await makeFullProfile(r)
  assert.equal(Object.getPrototypeOf(full), Object.prototype)
  assert.deepEqual(Object.keys(full).sort(), [
    'agent', 'alias', 'args', 'binary', 'endpointUrl', 'env', 'keyAlias', 'metadata', 'model',
    'provider', 'sandbox', 'shape', 'workingDir'
  ])
  assert.equal(full.sandbox, 'remote')
  assert.equal(full.endpointUrl, 'http://127.0.0.1:9')
  assert.equal(full.workingDir, '/tmp')
  assert.deepEqual(full.args, ['--verbose'])
  assert.deepEqual(full.env, { FOO: 'bar' })
  assert.equal(typeof full.metadata.totalRuns, 'number')
  assert.ok(!Number.isNaN(Date.parse(full.metadata.createdAt)))
  assert.ok(!('lastUsed' in full.metadata))
  const min = await makeProfile(r, 'min')
  assert.ok(!('endpointUrl' in min) && !('workingDir' in min))
  assert.deepEqual(min.args, [])
  assert.deepEqual(min.env, {})
  assert.deepEqual(
    [min.alias, min.agent, min.provider, min.endpoint, min.shape, min.model, min.keyAlias],
    ['min', 'claude', 'minimax', 'international', 'anthropic', 'MiniMax-M2', 'min']
  )
  assert.deepEqual(await r.profiles(), [full, min])
  await assert.rejects(r.profile('nobody'), { code: 'profile_not_found' })
  await assert.rejects(r.resolveProfile({ agent: 'nope', alias: 'a', provider: 'minimax' }), {
    code: 'unknown_agent'
  })
})

test('update a profile: changes, clearing, and refused input that changes nothing', async () => {
  const { home, r } = await open()
  await makeProfile(r, 'work')
  const updated = await r.updateProfile('work', {
    sandbox: 'always',
    model: 'MiniMax-M3',
    endpoint: 'china',
    setEnv: { A: '1', B: '2' },
    args: ['--x'],
    workingDir: home
  })
  assert.deepEqual(await r.profile('work'), updated)
  assert.deepEqual(
    [updated.sandbox, updated.model, updated.endpoint, updated.workingDir],
    ['always', 'MiniMax-M3', 'china', home]
  )
  assert.deepEqual(updated.env, { A: '1', B: '2' })
  assert.deepEqual(updated.args, ['--x'])
  const cleared = await r.updateProfile('work', {
    unsetEnv: ['B'], args: [], clearWorkingDir: true, clearBinary: true
  })
  assert.deepEqual(cleared.env, { A: '1' })
  assert.deepEqual(cleared.args, [])
  assert.ok(!('workingDir' in cleared) && !('binary' in cleared))
  const before = await r.profile('work')
  await assert.rejects(r.updateProfile('work', { sandbox: 'never' }), {
    code: 'invalid_input', message: /sandbox 'never' is not one of: off, always, remote/
  })
  await assert.rejects(r.updateProfile('work', { unsetEnv: ['NOPE'], model: 'x' }), {
    code: 'invalid_input', message: /no environment variable NOPE to unset/, hint: 'check `unsetEnv`'
  })
  await assert.rejects(r.updateProfile('work', { binary: '/bin/true', clearBinary: true }), (err) => {
    assert.equal(err.hint, 'set `binary` or `clearBinary: true`, not both')
    assert.doesNotMatch(err.message, /--/)
    return true
  })
  await assert.rejects(r.updateProfile('work', {}), { code: 'invalid_input' })
  await assert.rejects(r.updateProfile('work', { endpoint: 'mars' }), { code: 'unknown_endpoint' })
  await assert.rejects(r.updateProfile('nobody', { model: 'm' }), { code: 'profile_not_found' })
  assert.deepEqual(await r.profile('work'), before)
})

test('agents, providers and keys', async () => {
  const { r } = await open()
  assert.ok((await r.agents()).some((a) => a.id === 'claude'))
  assert.ok((await r.agent('claude')).name)
  assert.ok((await r.providers()).some((p) => p.id === 'anthropic'))
  assert.equal((await r.provider('minimax')).needsKey, true)
  const req = { agent: 'claude', alias: 'k', provider: 'minimax', model: 'MiniMax-M2' }
  assert.deepEqual(await r.missingKey(req), { provider: 'minimax', alias: 'k' })
  await r.setKey('minimax', 'k', 'sk-other-value')
  assert.deepEqual(await r.listKeys(), [{ provider: 'minimax', alias: 'k' }])
  assert.equal(await r.missingKey(req), null)
  // The fix in JavaScript's terms, not the CLI's --replace.
  await assert.rejects(r.setKey('minimax', 'k', 'sk-again'), {
    code: 'key_exists',
    kind: 'conflict',
    hint: 'pass replace = true to overwrite it',
    message: 'a key is already stored for minimax/k; pass replace = true to overwrite it'
  })
  await r.setKey('minimax', 'k', 'sk-again', true)
  await r.removeKey('minimax', 'k')
  await assert.rejects(r.removeKey('minimax', 'k'), { code: 'key_not_found' })
  assert.equal((await r.resolveProfile({ ...req, alias: 'x' })).alias, 'x')
  assert.equal(await r.hasProfile('x'), false)
  assert.ok(Array.isArray(r.warnings()))
  await r.checkCredentials()
  assert.equal((await r.init()).configDir, r.paths().configDir)
})

test('plan a run: env and HOME as expected, no secret', async () => {
  const { r } = await open()
  await makeProfile(r, 'work')
  const plan = await r.planRun('work', ['-p', 'hello'])
  const home = await r.profileHome('work')
  assert.equal(plan.profile, 'work')
  assert.equal(plan.home, home)
  assert.equal(plan.env.HOME, home)
  assert.deepEqual(plan.args.slice(-2), ['-p', 'hello'])
  assert.equal(plan.secretEnv.alias, 'work')
  const masked = plan.maskedEnv.find((e) => e.name === plan.secretEnv.var)
  assert.deepEqual(masked, { name: plan.secretEnv.var, value: '********', secret: true })
  assert.ok(!JSON.stringify(plan).includes(KEY))
})

test('run the fake agent and get its exit code', async () => {
  const { home, r } = await open()
  await makeProfile(r, 'work')
  const record = path.join(home, 'record.json')
  process.env.FAKE_AGENT_RECORD = record
  try {
    const outcome = await r.run('work', ['--exit', '7'])
    assert.equal(outcome.exitCode, 7)
    assert.ok(outcome.pid > 0)
    assert.ok(outcome.durationMs >= 0)
  } finally {
    delete process.env.FAKE_AGENT_RECORD
  }
  const seen = JSON.parse(fs.readFileSync(record, 'utf8'))
  assert.equal(seen.env.HOME, await r.profileHome('work'))
  assert.equal((await r.profile('work')).metadata.totalRuns, 1)
})

test('prompt runs the agent\'s one-shot form and resolves to its answer', async () => {
  const { home, r } = await open()
  await makeProfile(r, 'work')
  const record = path.join(home, 'record.json')
  process.env.FAKE_AGENT_RECORD = record
  let got
  try {
    got = await r.prompt('work', 'what is 2+2?', home)
  } finally {
    delete process.env.FAKE_AGENT_RECORD
  }
  assert.equal(got.exitCode, 0)
  assert.deepEqual(Object.keys(got).sort(), ['answer', 'exitCode', 'stderr', 'stdout'])
  const seen = JSON.parse(fs.readFileSync(record, 'utf8'))
  // Claude's one-shot form: `-p PROMPT`, the prompt one argument.
  assert.deepEqual(seen.argv.slice(0, 2), ['-p', 'what is 2+2?'])
  assert.equal(seen.cwd, fs.realpathSync(home))
  await assert.rejects(r.prompt('work', '   '), (err) => err.code === 'invalid_input')
})

test('typed errors: unknown profile, hostile alias, missing binary', async () => {
  const { r } = await open()
  await assert.rejects(r.planRun('nobody'), (err) => {
    assert.ok(err instanceof Error)
    assert.equal(err.code, 'profile_not_found')
    assert.equal(err.kind, 'not_found')
    assert.equal(err.hint, 'see profiles()')
    assert.equal(err.message, "profile 'nobody' not found; see profiles()")
    return true
  })
  await assert.rejects(
    r.createProfile({ agent: 'claude', alias: '../evil', provider: 'minimax', model: 'M' }, KEY),
    { code: 'invalid_alias', kind: 'invalid_input', hint: null }
  )
  await assert.rejects(r.profileHome('../evil'), { code: 'invalid_alias' })
  await r.createProfile(
    { agent: 'claude', alias: 'gone', provider: 'minimax', model: 'M', binary: '/no/such/agent' },
    KEY
  )
  await assert.rejects(r.run('gone'), (err) => {
    assert.equal(err.code, 'agent_not_installed')
    assert.equal(err.kind, 'unavailable')
    assert.match(err.hint, /or create the profile with `binary` set to its path$/)
    assert.doesNotMatch(err.message, /--binary/)
    return true
  })
})

test('a missing field is named as the options property, not a CLI flag', async () => {
  const { r } = await open()
  await assert.rejects(
    r.createProfile({ agent: 'claude', alias: 'gw', provider: 'custom', customEndpoint: 'http://127.0.0.1:9' }),
    (err) => {
      assert.equal(err.code, 'invalid_input')
      assert.equal(err.kind, 'invalid_input')
      assert.equal(err.hint, 'set `model`')
      assert.equal(err.message, "provider 'custom' has no default model; set `model`")
      assert.doesNotMatch(err.message, /--/)
      return true
    }
  )
  await assert.rejects(
    r.createProfile({ agent: 'claude', alias: 'gw', provider: 'custom', model: 'm' }),
    { code: 'invalid_input', hint: 'set `customEndpoint`' }
  )
  assert.deepEqual(await r.profiles(), [])
})

test('an I/O error keeps its cause', async () => {
  const home = tempHome()
  fs.mkdirSync(path.join(home, 'data'))
  fs.writeFileSync(path.join(home, 'data', 'profiles'), 'not a directory')
  const r = await Ringlet.open(home)
  await assert.rejects(makeProfile(r, 'work'), (err) => {
    assert.equal(err.code, 'io')
    assert.equal(err.kind, 'internal')
    assert.ok(err.cause instanceof Error)
    assert.match(err.cause.message, /errno/)
    return true
  })
})

test('a run does not block the event loop', async () => {
  const { r } = await open()
  await makeProfile(r, 'slow')
  let ticks = 0
  const timer = setInterval(() => { ticks += 1 }, 20)
  const start = Date.now()
  try {
    const outcome = await r.run('slow', ['--sleep-ms', '800'])
    assert.equal(outcome.exitCode, 0)
  } finally {
    clearInterval(timer)
  }
  assert.ok(Date.now() - start >= 700)
  // A blocked loop fires the timer at most once or twice; a free one about 40 times.
  assert.ok(ticks >= 20, `the timer fired only ${ticks} times during an 800 ms run`)
})

test('two runs at once overlap', async () => {
  const { r } = await open()
  await makeProfile(r, 'a')
  await makeProfile(r, 'b')
  const start = Date.now()
  const [a, b] = await Promise.all([
    r.run('a', ['--sleep-ms', '700', '--exit', '3']),
    r.run('b', ['--sleep-ms', '700', '--exit', '4'])
  ])
  assert.deepEqual([a.exitCode, b.exitCode], [3, 4])
  assert.ok(Date.now() - start < 1300, 'the two runs did not overlap')
})

test('Ringlet has no constructor; open() is the way in', () => {
  assert.throws(() => new Ringlet())
})
