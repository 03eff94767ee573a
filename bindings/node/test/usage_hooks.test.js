'use strict'
// Glue tests for the usage ledger and hooks: the calls resolve to the documented objects and
// reject with coded errors. The logic itself is tested in Rust.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')

const { makeProfile, open } = require('./helpers')

test('usage on a fresh home is an empty report, not an error', async () => {
  const { r } = await open()
  const report = await r.usage()
  assert.equal(report.group, 'profile')
  assert.deepEqual(report.rows, [])
  assert.equal(report.total.events, 0)
  assert.deepEqual(await r.usageEvents({ since: 'today' }), [])
  assert.deepEqual((await r.stats()).rows, [])
  assert.ok(r.usageDbPath().endsWith('usage.db'))
  await assert.rejects(r.usage({ profile: 'nobody' }), { code: 'profile_not_found' })
  await assert.rejects(r.usage({ group: 'fortnight' }), { code: 'invalid_input' })
})

test('a run with a claude log shows up in usage', async () => {
  const { r } = await open()
  await makeProfile(r, 'work')
  await makeProfile(r, 'idle')
  assert.equal((await r.run('work', ['--claude-log', '3'])).exitCode, 0)
  const report = await r.usage()
  assert.deepEqual(report.rows.map((row) => row.profile), ['work'])
  assert.equal(report.rows[0].agent, 'claude')
  assert.equal(report.rows[0].events, 3)
  assert.equal(report.rows[0].input, 3000)
  assert.equal(report.total.output, 300)
  const events = await r.usageEvents({ profile: 'work' })
  assert.equal(events.length, 3)
  assert.ok(events.every((e) => e.profile === 'work' && e.agent === 'claude'))
  assert.equal((await r.usage({ profile: 'idle' })).total.events, 0)
  const byDay = await r.usage({ group: 'day', since: 'today' })
  assert.equal(byDay.group, 'day')
  assert.equal(byDay.total.events, 3)
  const stats = await r.stats({ profile: 'work' })
  assert.equal(stats.rows[0].runs, 1)
  assert.equal((await r.syncUsage()).total.inserted, 0)
  assert.ok((await r.pricingStatus()).models > 0)
  const doctor = await r.doctor()
  const ledger = doctor.checks.find((c) => c.name === 'ledger')
  assert.equal(ledger.status, 'ok')
  assert.ok(ledger.detail.includes('integrity_check'), ledger.detail)
  assert.equal(typeof doctor.healthy, 'boolean')
})

test('add, list, test and remove a hook; an unknown id is hook_not_found', async () => {
  const { r } = await open()
  await makeProfile(r, 'work')
  assert.deepEqual(await r.hooks(), [])
  const added = await r.addHook({ profile: 'work', event: 'stop', shell: 'true', timeoutMs: 500 })
  assert.equal(added.profile, 'work')
  assert.equal(added.event, 'stop')
  assert.equal(added.action, 'shell')
  assert.equal(added.command, 'true')
  assert.deepEqual(await r.hooks(), [added])
  assert.deepEqual(await r.hooksFor('work'), [added])
  const tested = await r.testHook(added.id, JSON.stringify({ session_id: 's1' }))
  assert.equal(tested.applies, true)
  assert.equal(tested.fired.ok, true)
  assert.equal(JSON.parse(tested.contextJson).session_id, 's1')
  await assert.rejects(r.testHook(added.id, '{not json'), { code: 'invalid_input' })
  const exported = await r.exportHooks()
  assert.deepEqual(await r.runScheduledHooks(), [])
  assert.deepEqual(await r.removeHook(added.id), added)
  assert.deepEqual(await r.hooks(), [])
  assert.deepEqual(await r.importHooks(exported), { added: [added.id], unchanged: [] })
  await assert.rejects(r.removeHook('h00000000'), (err) => {
    assert.equal(err.code, 'hook_not_found')
    assert.match(err.message, /h00000000/)
    return true
  })
  await assert.rejects(
    r.addHook({ event: 'stop', shell: 'true', webhook: 'http://127.0.0.1:9/' }),
    { code: 'invalid_input' }
  )
})

test('import from another home, update pricing from a file, a download error', async () => {
  const { r, home } = await open()
  await makeProfile(r, 'work')
  await r.run('work', ['--claude-log', '2'])
  const other = (await open()).r
  await makeProfile(other, 'copy')
  const from = await r.profileHome('work')
  const seen = []
  const report = await other.importUsage({ agent: 'claude', profile: 'copy', from }, (p) => seen.push(p))
  assert.equal(report.profile, 'copy')
  assert.equal(report.summary.inserted, 2)
  assert.equal((await other.usage()).total.events, 2)
  // Reports come through the event loop, in order: one before each log file, one at the end.
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(seen.length >= 2, JSON.stringify(seen))
  assert.deepEqual(seen.map((p) => p.filesDone), [...seen.keys()])
  const last = seen[seen.length - 1]
  assert.equal(last.filesTotal, seen.length - 1)
  assert.equal(last.inserted, 2)
  assert.ok(seen.every((p) => p.path.endsWith('.jsonl')), JSON.stringify(seen))
  await assert.rejects(other.importUsage({ agent: 'codex', profile: 'copy', from }), {
    code: 'invalid_input'
  })
  const feed = path.join(home, 'prices.json')
  fs.writeFileSync(feed, JSON.stringify({
    'claude-bindings-test': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 }
  }))
  const priced = await r.updatePricing(feed)
  assert.equal(priced.source, feed)
  assert.equal(priced.models, 1)
  assert.equal((await r.pricingStatus()).snapshot, priced.snapshot)
  await assert.rejects(r.updatePricing('http://127.0.0.1:9/prices.json'), { code: 'download' })
})
