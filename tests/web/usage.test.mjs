// The Usage page against an imported corpus: the chart's days and totals are the CLI's
// (`ringlet usage --by-day --json`), in the chosen time zone; unpriced usage is flagged.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { Server, World, axe, launchBrowser, openPage, screenshot, signIn } from './harness.mjs'

// India has no daylight saving time: a fixed +05:30, so events near UTC midnight land on
// different days there than in UTC, and the page must cut days where the CLI does.
const ZONE = 'Asia/Kolkata'

/** Five days of a priced model on `work`, two days of a model without a price on `client`. */
function corpus() {
  const work = []
  for (let day = 1; day <= 5; day++) {
    for (let i = 0; i < day * 3; i++) {
      // Some at 20:00 UTC: already the next day in Kolkata (01:30).
      const hour = i % 2 === 0 ? 9 : 20
      work.push({
        time: `2026-11-${String(day).padStart(2, '0')}T${hour}:${String(i).padStart(2, '0')}:00.000Z`,
        model: i % 3 === 0 ? 'claude-opus-4-5' : 'claude-sonnet-4-5',
        input: 1000 + i * 10,
        output: 200 + i,
        session: `w-${day}`,
      })
    }
  }
  const client = [
    { time: '2026-11-02T10:00:00.000Z', model: 'claude-unheard-of-9', input: 5000, output: 500, session: 'c-1' },
    { time: '2026-11-07T10:00:00.000Z', model: 'claude-unheard-of-9', input: 7000, output: 700, session: 'c-2' },
  ]
  return { work, client }
}

describe('usage', () => {
  let world, server, browser
  before(async () => {
    world = new World({ tz: ZONE })
    world.createProfile('work')
    world.createProfile('client')
    const { work, client } = corpus()
    world.importClaudeLog('work', work)
    world.importClaudeLog('client', client)
    server = await Server.start(world)
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
    world?.cleanup()
  })

  async function chart(page) {
    const fig = page.locator('figure.chart')
    await fig.waitFor({ timeout: 10000 }).catch(async (e) => {
      throw new Error(`${e.message}\npage: ${await page.locator('main').innerText()}\nproblems: ${page.problems}`)
    })
    const days = (await fig.getAttribute('data-days')).split(',')
    const totals = (await fig.getAttribute('data-totals')).split(',').map(Number)
    return { days, totals }
  }

  function assertSameAsCli(seen, cli) {
    assert.deepEqual(seen.days, cli.rows.map((r) => r.key))
    seen.totals.forEach((t, i) => assert.ok(Math.abs(t - cli.rows[i].cost_usd) < 1e-6, `${seen.days[i]}: ${t} vs ${cli.rows[i].cost_usd}`))
  }

  test('the chart shows the corpus days with the totals of `ringlet usage --by-day --json`', async () => {
    const page = await openPage(browser, { timezoneId: ZONE })
    await signIn(page, server)
    await page.goto(server.url + '/usage?range=all')
    const cli = world.json(['usage', '--by-day'])
    assert.ok(cli.rows.length >= 6, JSON.stringify(cli.rows.map((r) => r.key)))
    await page.locator('[data-total="events"]').filter({ hasText: String(cli.total.events) }).waitFor()
    assertSameAsCli(await chart(page), cli)
    // Kolkata's days, not UTC's: the 20:00 UTC events of Nov 5 are on Nov 6 there.
    assert.ok((await chart(page)).days.includes('2026-11-06'))
    // The time zone select defaults to the browser's.
    // (Chromium names the zone by its ICU canonical name, Asia/Calcutta.)
    const browserZone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)
    assert.match(browserZone, /^Asia\/(Kolkata|Calcutta)$/)
    assert.equal(await page.getByLabel('Time zone').inputValue(), browserZone)

    // Unpriced usage is flagged, never shown as $0.
    await page.locator('[data-total="unpriced"]').filter({ hasText: '2 unpriced events' }).waitFor()
    const clientRow = page.locator('table[data-table="profile"] tr', { has: page.locator('th', { hasText: /^client$/ }) })
    const clientCost = await clientRow.locator('td').last().textContent()
    assert.match(clientCost, /unpriced \(2 events\)/)
    assert.doesNotMatch(clientCost, /\$0\.00/)
    const modelRows = await page.locator('table[data-table="model"] tbody th').allTextContents()
    assert.deepEqual(modelRows.map((s) => s.trim()).sort(), ['claude-opus-4-5', 'claude-sonnet-4-5', 'claude-unheard-of-9'])

    // Stacked by model: one series per priced model.
    await page.getByLabel('Stack by').selectOption('model')
    await page.locator('.legend li', { hasText: 'claude-opus-4-5' }).waitFor()
    await page.locator('.legend li', { hasText: 'claude-sonnet-4-5' }).waitFor()
    await screenshot(page, 'usage')
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  test('filters and the time zone give the CLI\'s numbers for the same question', async () => {
    const page = await openPage(browser, { timezoneId: ZONE })
    await signIn(page, server)
    await page.goto(server.url + '/usage?range=all')
    await chart(page)
    await page.getByLabel('Profile', { exact: true }).selectOption('work')
    await page.waitForURL(/profile=work/)
    const cliWork = world.json(['usage', '--by-day', '--profile', 'work'])
    await page.locator('[data-total="events"]').filter({ hasText: String(cliWork.total.events) }).waitFor()
    assertSameAsCli(await chart(page), cliWork)

    await page.getByLabel('Time zone').selectOption('UTC')
    await page.waitForURL(/tz=UTC/)
    const cliUtc = world.json(['usage', '--by-day', '--profile', 'work'], { env: { TZ: 'UTC' } })
    await page.waitForFunction((days) => document.querySelector('figure.chart')?.getAttribute('data-days') === days,
      cliUtc.rows.map((r) => r.key).join(','))
    assertSameAsCli(await chart(page), cliUtc)
    assert.ok(!(await chart(page)).days.includes('2026-11-06'))

    // A custom range.
    await page.getByLabel('Range').selectOption('custom')
    await page.getByLabel('From', { exact: true }).fill('2026-11-02')
    await page.getByLabel('To', { exact: true }).fill('2026-11-03')
    const cliRange = world.json(['usage', '--by-day', '--profile', 'work', '--since', '2026-11-02', '--until', '2026-11-03'], { env: { TZ: 'UTC' } })
    await page.waitForFunction((days) => document.querySelector('figure.chart')?.getAttribute('data-days') === days,
      cliRange.rows.map((r) => r.key).join(','))
    assertSameAsCli(await chart(page), cliRange)
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  test('export gives the CLI\'s CSV and JSON', async () => {
    const page = await openPage(browser, { timezoneId: ZONE })
    await signIn(page, server)
    await page.goto(server.url + '/usage?range=all')
    await chart(page)
    for (const format of ['csv', 'json']) {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: `Export ${format.toUpperCase()}` }).click(),
      ])
      assert.equal(download.suggestedFilename(), `ringlet-usage.${format}`)
      const got = readFileSync(await download.path(), 'utf8')
      const cli = world.ringlet(['usage', '--export', format])
      if (format === 'csv') assert.equal(got.trim(), cli.trim())
      else assert.deepEqual(JSON.parse(got).map((e) => e.dedup_key).sort(), JSON.parse(cli).map((e) => e.dedup_key).sort())
    }
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  test('the usage page has no serious accessibility violations, light, dark and phone-sized', async () => {
    for (const [colorScheme, viewport] of [['light', null], ['dark', null], ['dark', { width: 390, height: 844 }]]) {
      const page = await openPage(browser, { colorScheme, viewport, timezoneId: ZONE })
      await signIn(page, server)
      await page.goto(server.url + '/usage?range=all')
      await chart(page)
      await page.locator('table[data-table="session"]').waitFor()
      assert.deepEqual(await axe(page), [], `usage, ${colorScheme}`)
      if (viewport) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        assert.ok(overflow <= 0, `the usage page is wider than a phone by ${overflow}px`)
        await screenshot(page, 'usage-phone')
      }
      assert.deepEqual(page.problems, [])
      await page.context().close()
    }
  })
})
