'use strict'
// Glue tests: each facade call reaches the core and comes back as the documented objects or
// coded errors, asynchronously. The logic itself is tested in Rust.
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')
const util = require('node:util')

const {
  FAKE_AGENT, KEY, Ringlet, makeFullProfile, makeProfile, open, tempHome
} = require('./helpers')
const { Profile } = require('..')

test('create, list, get and delete a profile', async () => {
  const { r } = await open()
  const created = await makeProfile(r, 'work')
  assert.equal(created.alias, 'work')
  assert.equal(created.agent, 'claude')
  assert.equal(created.binary, FAKE_AGENT)
  assert.equal(created.metadata.totalRuns, 0)
  assert.deepEqual((await r.profiles()).map((p) => p.alias), ['work'])
  assert.deepEqual((await r.profile('work')).toJSON(), created.toJSON())
  assert.equal(await r.hasProfile('work'), true)
  assert.ok((await r.profileHome('work')).endsWith(path.join('work', 'home')))
  await assert.rejects(makeProfile(r, 'work'), { code: 'profile_exists' })
  await r.deleteProfile('work')
  assert.deepEqual(await r.profiles(), [])
})

test('listings come from memory while nothing changed, and see every change', async () => {
  const { r } = await open()
  await makeProfile(r, 'a')
  assert.equal(r.cachedProfiles(), null, 'nothing kept before the first listings')
  await r.profiles()
  await r.profiles()
  const cached = r.cachedProfiles()
  assert.ok(Array.isArray(cached) && cached[0] instanceof Profile)
  assert.deepEqual(cached.map((p) => p.toJSON()), (await r.profiles()).map((p) => p.toJSON()))
  // A change from another process (the CLI, an editor) is seen by the next call.
  const manifest = path.join(r.paths().dataDir, 'profiles', 'a', 'profile.toml')
  const text = fs.readFileSync(manifest, 'utf8')
  fs.writeFileSync(manifest, text.replace('model = "MiniMax-M2"', 'model = "edited"'))
  assert.equal(r.cachedProfiles(), null)
  assert.equal((await r.profiles())[0].model, 'edited')
  await makeProfile(r, 'b')
  assert.deepEqual((await r.profiles()).map((p) => p.alias), ['a', 'b'])
  assert.deepEqual(r.cachedProfiles().map((p) => p.alias), ['a', 'b'])
  // profiles() still returns a promise when it answers from memory.
  const pending = r.profiles()
  assert.ok(pending instanceof Promise)
  assert.equal((await pending).length, 2)
})

test('RINGLET_PROFILE_CACHE=off keeps every listing reading the files', async () => {
  const { home, r } = await open()
  await makeProfile(r, 'a')
  const script = `
    const { Ringlet } = require(${JSON.stringify(path.resolve(__dirname, '..'))})
    Ringlet.open(process.argv[1]).then(async (r) => {
      for (let i = 0; i < 3; i++) await r.profiles()
      process.stdout.write(JSON.stringify(r.cachedProfiles()))
    })`
  const run = (value) => execFileSync(process.execPath, ['-e', script, home], {
    env: { ...process.env, RINGLET_PROFILE_CACHE: value }, encoding: 'utf8'
  })
  assert.equal(run('off'), 'null')
  assert.equal(JSON.parse(run('on'))[0].alias, 'a')
})

test('profiles are Profile objects: fields read lazily, toJSON() the plain object', async () => {
  const { r } = await open()
  const full = await makeFullProfile(r)
  assert.ok(full instanceof Profile)
  assert.equal(full.endpointUrl, 'http://127.0.0.1:9')
  assert.equal(full.workingDir, '/tmp')
  assert.deepEqual(full.args, ['--verbose'])
  assert.deepEqual(full.env, { FOO: 'bar' })
  assert.equal(typeof full.metadata.totalRuns, 'number')
  assert.ok(!Number.isNaN(Date.parse(full.metadata.createdAt)))
  assert.ok(!('lastUsed' in full.metadata))
  // toJSON(): a plain object with every set field, what JSON.stringify writes.
  const plain = full.toJSON()
  assert.equal(Object.getPrototypeOf(plain), Object.prototype)
  assert.deepEqual(Object.keys(plain), [
    'alias', 'agent', 'provider', 'endpointUrl', 'shape', 'model', 'keyAlias', 'binary',
    'workingDir', 'args', 'env', 'metadata'
  ])
  assert.deepEqual(JSON.parse(JSON.stringify(full)), plain)
  // A minimal profile: unset options read as undefined and are left out of toJSON().
  const min = await makeProfile(r, 'min')
  assert.equal(min.endpointUrl, undefined)
  assert.equal(min.workingDir, undefined)
  assert.ok(!('endpointUrl' in min.toJSON()) && !('workingDir' in min.toJSON()))
  assert.deepEqual(min.args, [])
  assert.deepEqual(min.env, {})
  // Every field reads its own value (the text's lines and index.js's FIELDS in one order).
  assert.deepEqual(
    [min.alias, min.agent, min.provider, min.endpoint, min.shape, min.model, min.keyAlias],
    ['min', 'claude', 'minimax', 'international', 'anthropic', 'MiniMax-M2', 'min']
  )
  assert.equal(min.binary, FAKE_AGENT)
  // A listing: each profile reads its own row, whichever field is read first.
  const listed = await r.profiles()
  assert.deepEqual(listed.map((p) => p.model), ['m', 'MiniMax-M2'])
  assert.deepEqual(listed.map((p) => p.toJSON()), [plain, min.toJSON()])
  // A field read twice is the same value (a column is parsed once per result).
  assert.equal(listed[0].args, listed[0].args)
  // Read-only, and only ringlet makes them.
  assert.throws(() => { listed[0].alias = 'other' }, TypeError)
  assert.throws(() => new Profile(), TypeError)
  // console.log shows the fields.
  assert.match(util.inspect(min), /^Profile \{\n?\s*alias: 'min'/)
  // The wrapped methods keep their names and still reject with coded errors.
  assert.equal(r.profiles.name, 'profiles')
  await assert.rejects(r.profile('nobody'), { code: 'profile_not_found' })
  await assert.rejects(r.resolveProfile({ agent: 'nope', alias: 'a', provider: 'minimax' }), {
    code: 'unknown_agent'
  })
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
  await assert.rejects(r.setKey('minimax', 'k', 'sk-again'), { code: 'invalid_input' })
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

test('typed errors: unknown profile, hostile alias, missing binary', async () => {
  const { r } = await open()
  await assert.rejects(r.planRun('nobody'), (err) => {
    assert.ok(err instanceof Error)
    assert.equal(err.code, 'profile_not_found')
    assert.match(err.message, /nobody/)
    return true
  })
  await assert.rejects(
    r.createProfile({ agent: 'claude', alias: '../evil', provider: 'minimax', model: 'M' }, KEY),
    { code: 'invalid_alias' }
  )
  await assert.rejects(r.profileHome('../evil'), { code: 'invalid_alias' })
  await r.createProfile(
    { agent: 'claude', alias: 'gone', provider: 'minimax', model: 'M', binary: '/no/such/agent' },
    KEY
  )
  await assert.rejects(r.run('gone'), { code: 'agent_not_installed' })
})

test('an I/O error keeps its cause', async () => {
  const home = tempHome()
  fs.mkdirSync(path.join(home, 'data'))
  fs.writeFileSync(path.join(home, 'data', 'profiles'), 'not a directory')
  const r = await Ringlet.open(home)
  await assert.rejects(makeProfile(r, 'work'), (err) => {
    assert.equal(err.code, 'io')
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
