// Measures the dashboard's budgets; run by benches/web_dashboard.sh (which builds the release
// binaries and fills the ledger). Prints one line per measurement. The events stream stays open,
// so "the page has loaded" is its own marker plus a second for late chunks, not network idle.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Server, World, launchBrowser, signIn } from '../tests/web/harness.mjs'

const runs = Number(process.argv[2] ?? 9)
const world = new World({ outsideTmp: true })
world.ringletHome = process.env.BENCH_RINGLET_HOME
world.env.RINGLET_HOME = world.ringletHome
for (const p of ['work', 'personal', 'client']) world.createProfile(p)
// The terminal session's workspace (a project directory, as the sandbox wants).
const project = join(world.root, 'project')
mkdirSync(project)
const server = await Server.start(world, ['--allow-path', project])
const browser = await launchBrowser()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const kb = (n) => `${(n / 1024).toFixed(1)} KB`

try {
  // 1. Scripts shipped, per step of a first visit.
  const context = await browser.newContext()
  const page = await context.newPage()
  const scripts = new Map()
  page.on('response', async (res) => {
    if (res.request().resourceType() === 'script' && res.ok()) {
      const body = await res.body()
      scripts.set(res.url(), { raw: body.length, gz: gzipSync(body, { level: 9 }).length })
    }
  })
  const total = () => [...scripts.values()].reduce((a, s) => ({ raw: a.raw + s.raw, gz: a.gz + s.gz }), { raw: 0, gz: 0 })
  const report = (label) => {
    const t = total()
    console.log(`JS for ${label}: ${scripts.size} files, ${kb(t.raw)} raw, ${kb(t.gz)} gzip -9`)
  }
  await page.goto(server.url + '/')
  await page.getByLabel('Server token').waitFor()
  await page.waitForTimeout(1000)
  report('the sign-in page')
  await page.getByLabel('Server token').fill(server.token())
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('tr[data-profile="work"]').waitFor()
  await page.waitForTimeout(1000)
  report('sign-in + the profiles page (the first page)')
  await page.goto(server.url + '/usage?range=all')
  await page.waitForFunction(() => performance.getEntriesByName('ringlet:usage-complete').length > 0, null, { timeout: 60000 })
  await page.waitForTimeout(1000)
  report('+ the usage page')
  const session = await server.api('POST', '/api/sessions', { profile: 'work', args: ['--sleep-ms', '60000'], working_dir: project }).catch(() => null)
  if (session) {
    await page.goto(`${server.url}/terminal/${session.id}`)
    await page.locator('.xterm').waitFor()
    await page.waitForTimeout(1000)
    report('+ a terminal (xterm.js)')
    await server.api('DELETE', `/api/sessions/${session.id}`)
  }
  await context.close()

  // 2. The usage page over 1M events.
  const ctx = await browser.newContext()
  const p = await ctx.newPage()
  await signIn(p, server)
  const chart = []
  const complete = []
  for (let i = 0; i < runs; i++) {
    await p.goto(server.url + '/usage?range=all&stack=profile')
    await p.waitForFunction(() => performance.getEntriesByName('ringlet:usage-complete').length > 0, null, { timeout: 60000 })
    const [c, d] = await p.evaluate(() => ['ringlet:usage-chart', 'ringlet:usage-complete'].map((n) => performance.getEntriesByName(n)[0].startTime))
    chart.push(c)
    complete.push(d)
  }
  const days = await p.locator('figure.chart').getAttribute('data-days')
  console.log(`usage page over 1,000,000 events (${days.split(',').length} days, stacked by profile), ${runs} loads:`)
  console.log(`  chart drawn: median ${median(chart).toFixed(0)} ms (min ${Math.min(...chart).toFixed(0)}, max ${Math.max(...chart).toFixed(0)})`)
  console.log(`  page complete (5 tables + 3 stacked series): median ${median(complete).toFixed(0)} ms (min ${Math.min(...complete).toFixed(0)}, max ${Math.max(...complete).toFixed(0)})`)
  await ctx.close()
} finally {
  await browser.close()
  await server.stop()
  world.cleanup()
}
