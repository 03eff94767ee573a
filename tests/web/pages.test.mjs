// The Agents & providers and Hooks pages against a real `ringlet serve`, checked with the CLI.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { FAKE_AGENT, Server, World, axe, eventually, launchBrowser, openPage, screenshot, signIn } from './harness.mjs'

describe('agents, providers and hooks', () => {
  let world, server, browser
  before(async () => {
    world = new World()
    // A `claude` on the PATH (the fake agent: `--version` prints `fake-agent 1.0.0`).
    const bin = join(world.root, 'bin')
    mkdirSync(bin)
    symlinkSync(FAKE_AGENT, join(bin, 'claude'))
    world.env.PATH = `${bin}:${world.env.PATH}`
    world.createProfile('work')
    server = await Server.start(world)
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
    world?.cleanup()
  })

  test('agents show installed or not and their versions as `ringlet agents list` does; compatibility follows the protocols', async () => {
    const page = await openPage(browser)
    await signIn(page, server)
    await page.getByRole('link', { name: 'Agents & providers' }).click()
    await page.locator('tr[data-agent="claude"]').waitFor()
    const cli = world.json(['agents', 'list'])
    assert.ok(cli.find((a) => a.id === 'claude').installed, 'the fake claude is found')
    for (const a of cli) {
      const row = page.locator(`tr[data-agent="${a.id}"]`)
      assert.equal((await row.locator('[data-col="installed"]').textContent()).trim(), a.installed ? 'installed' : 'not installed', a.id)
      if (a.version) assert.equal((await row.locator('[data-col="version"]').textContent()).trim(), a.version, a.id)
    }
    const providers = world.json(['providers', 'list'])
    for (const a of cli) {
      for (const p of providers.filter((p) => p.id !== 'custom')) {
        const fits = p.shapes.some((s) => a.speaks.includes(s))
        const cell = await page.locator(`[data-fits="${a.id}:${p.id}"]`).textContent()
        assert.equal(cell.trim(), fits ? '✓' : '–', `${a.id} with ${p.id}`)
      }
    }
    assert.deepEqual(await axe(page), [])
    await screenshot(page, 'agents')
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  test('a hook added through the form is in `ringlet hooks list`, its test really runs it, and removing asks first', async () => {
    const page = await openPage(browser)
    await signIn(page, server)
    await page.getByRole('link', { name: 'Hooks' }).click()
    await page.getByText('No hooks yet.').waitFor()
    const marker = join(world.root, 'hook-ran')
    await page.getByLabel('Event').selectOption('stop')
    await page.getByLabel('Profile').selectOption('work')
    await page.getByLabel('Command').fill(`echo ran >> ${marker}`)
    await page.getByRole('button', { name: 'Add hook' }).click()
    await page.getByRole('status').filter({ hasText: /Hook h[0-9a-f]+ added/ }).waitFor()
    const listed = world.json(['hooks', 'list'])
    assert.equal(listed.length, 1, JSON.stringify(listed))
    const id = listed[0].rule.id
    assert.equal(listed[0].profile, 'work')
    assert.equal(listed[0].rule.event, 'stop')
    assert.equal(listed[0].rule.action.command, `echo ran >> ${marker}`)

    // A pre-tool-use gate for Bash, every profile.
    await page.getByLabel('Event').selectOption('pre-tool-use')
    await page.getByLabel('Profile').selectOption('')
    await page.getByLabel('Tools').fill('Bash')
    await page.getByLabel('Command').fill('exit 3')
    await page.getByRole('button', { name: 'Add hook' }).click()
    await eventually(() => world.json(['hooks', 'list']).length === 2, 5000, 'the second hook')
    const gate = world.json(['hooks', 'list']).find((h) => h.rule.event === 'pre-tool-use')
    assert.equal(gate.profile, undefined)
    assert.equal(gate.rule.matcher, 'Bash')

    await page.getByRole('button', { name: `Test ${id}` }).click()
    await page.locator(`tr[data-hook="${id}"] [data-col="result"]`).filter({ hasText: 'ran: exit 0' }).waitFor()
    assert.ok(existsSync(marker) && readFileSync(marker, 'utf8').includes('ran'), 'the test ran the command')
    await page.getByRole('button', { name: `Test ${gate.rule.id}` }).click()
    await page.locator(`tr[data-hook="${gate.rule.id}"] [data-col="result"]`).filter({ hasText: 'decision: deny' }).waitFor()
    assert.deepEqual(await axe(page), [])
    await screenshot(page, 'hooks')

    await page.getByRole('button', { name: `Remove ${id}` }).click()
    const dialog = page.getByRole('dialog', { name: 'Remove the hook?' })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    assert.equal(world.json(['hooks', 'list']).length, 2)
    await page.getByRole('button', { name: `Remove ${id}` }).click()
    await dialog.getByRole('button', { name: 'Remove' }).click()
    await page.locator(`tr[data-hook="${id}"]`).waitFor({ state: 'detached' })
    assert.deepEqual(world.json(['hooks', 'list']).map((h) => h.rule.id), [gate.rule.id])

    // The server's refusal is shown as it is.
    await page.getByLabel('Event').selectOption('cost-threshold')
    await page.getByLabel('Action').selectOption('webhook')
    await page.getByLabel('URL').fill('http://127.0.0.1:9/budget')
    await page.getByLabel('Threshold (USD)').fill('10')
    await page.getByLabel('Of a budget (USD, optional)').fill('5')
    await page.getByRole('button', { name: 'Add hook' }).click()
    await page.getByRole('alert').waitFor()
    assert.equal(world.json(['hooks', 'list']).length, 1)
    assert.deepEqual(page.problems.filter((p) => !p.includes('400 (Bad Request)')), [])
    await page.context().close()
  })

  test('hooks added and removed with the CLI show and go without a reload', async () => {
    const page = await openPage(browser)
    await signIn(page, server)
    await page.getByRole('link', { name: 'Hooks' }).click()
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor()
    const before = world.json(['hooks', 'list']).length
    await eventually(async () => (await page.locator('tr[data-hook]').count()) === before, 5000, 'the hooks listed')
    // A new profile's first hook creates its hooks/ directory: the server must see that too.
    world.createProfile('late')
    // (Wait for that event's reload to be over, so only the hook's own event can show the hook.)
    await page.getByLabel('Profile').locator('option[value="late"]').waitFor({ state: 'attached' })
    await new Promise((r) => setTimeout(r, 500))
    const added = world.json(['hooks', 'add', 'late', '--on', 'stop', '--shell', 'true'])
    const id = added.id ?? added.rule?.id
    assert.ok(id, JSON.stringify(added))
    await page.locator(`tr[data-hook="${id}"]`).waitFor({ timeout: 5000 })
    world.ringlet(['hooks', 'remove', id])
    await page.locator(`tr[data-hook="${id}"]`).waitFor({ state: 'detached', timeout: 5000 })
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  test('the header is keyboard navigable: the skip link first, then every page', async () => {
    const page = await openPage(browser)
    await signIn(page, server)
    await page.goto(server.url + '/profiles')
    await page.locator('tr[data-profile="work"]').waitFor()
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content')
    const seen = []
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab')
      seen.push(await page.evaluate(() => document.activeElement?.textContent?.trim()))
    }
    for (const name of ['Profiles', 'Usage', 'Agents & providers', 'Hooks']) assert.ok(seen.includes(name), `${name} in ${seen}`)
    // Enter on a focused link opens its page.
    while (await page.evaluate(() => document.activeElement?.textContent?.trim()) !== 'Hooks') await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/hooks$/)
    // Focus moved to the new page's content.
    await eventually(() => page.evaluate(() => document.activeElement?.id === 'content'), 2000, 'focus on the content')
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })
})
