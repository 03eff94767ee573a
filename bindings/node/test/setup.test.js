'use strict'
// Glue tests for exporting and importing a setup: the document is JSON text, the report the
// documented object, a bad document a coded rejection. The logic itself is tested in Rust.
const assert = require('node:assert/strict')
const { test } = require('node:test')

const { makeProfile, open } = require('./helpers')

test('a setup exports and imports into another home', async () => {
  const { r } = await open()
  await makeProfile(r, 'work')
  const text = await r.exportSetup()
  const doc = JSON.parse(text)
  assert.equal(doc.format, 'ringlet-setup')
  assert.deepEqual(doc.profiles.map((p) => p.settings.alias), ['work'])

  const { r: other } = await open()
  const dry = await other.importSetup(text, { dryRun: true })
  assert.equal(dry.dryRun, true)
  assert.deepEqual(await other.profiles(), [])
  const report = await other.importSetup(text, { rename: { work: 'job' } })
  const profile = report.items.find((i) => i.kind === 'profile')
  assert.deepEqual(profile, { kind: 'profile', name: 'job', renamedFrom: 'work', outcome: 'created' })
  assert.deepEqual((await other.profiles()).map((p) => p.alias), ['job'])
  const again = await other.importSetup(text, { rename: { work: 'job' } })
  assert.ok(again.items.every((i) => i.outcome === 'unchanged'))
  await assert.rejects(other.importSetup('{"profiles": []}'), { code: 'invalid_input' })
})
