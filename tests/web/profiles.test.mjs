// Sign-in and the Profiles page in a real browser against a real `ringlet serve`.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  FAKE_AGENT, Server, World, axe, eventually, launchBrowser, openPage, problemsBesides, screenshot, signIn,
} from './harness.mjs'

describe('sign-in and profiles', () => {
  let world, server, browser
  before(async () => {
    world = new World()
    world.createProfile('work')
    server = await Server.start(world)
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
    world?.cleanup()
  })

  test('a wrong token is refused and the right one signs in; no token in the URL', async () => {
    const page = await openPage(browser)
    await signIn(page, server, 'f'.repeat(64), { refused: true })
    await page.getByRole('alert').filter({ hasText: 'That token was refused' }).waitFor()
    assert.match(page.url(), /\/sign-in/)
    await screenshot(page, 'sign-in')
    await page.getByLabel('Server token').fill(server.token())
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/\/profiles$/)
    await page.locator('tr[data-profile="work"]').waitFor()
    assert.ok(!page.url().includes(server.token()), 'the token is not in the URL')
    const stored = await page.evaluate(() => Object.keys(sessionStorage))
    assert.deepEqual(stored, ['ringlet.token'])
    assert.deepEqual(await page.context().cookies(), [])
    // The one expected failure: the refused sign-in attempt's 401.
    assert.deepEqual(problemsBesides(page, ['401 (Unauthorized)']), [])
    await page.context().close()
  })

  test('a profile created through the form appears in `ringlet profiles list`', async () => {
    const page = await openPage(browser)
    await signIn(page, server)
    await page.getByRole('link', { name: 'New profile' }).click()
    await page.getByLabel('Alias', { exact: true }).fill('made-in-browser')
    await page.getByLabel('Agent', { exact: true }).selectOption('claude')
    // Only providers speaking Anthropic's protocol are offered for Claude Code.
    const offered = await page.getByLabel('Provider', { exact: true }).locator('option').allTextContents()
    assert.ok(offered.includes('Anthropic'), offered.join(', '))
    assert.ok(!offered.includes('OpenAI'), `OpenAI offered to Claude Code: ${offered.join(', ')}`)
    await page.getByLabel('Provider', { exact: true }).selectOption('anthropic')
    await page.getByLabel('Model', { exact: true }).fill('claude-haiku-4-5')
    // The provider has a stored key (the work profile's): offered first; this one gets a new key.
    assert.ok(await page.getByLabel('A stored key').isChecked())
    await page.getByLabel('A new key').check()
    await page.getByLabel('Key', { exact: true }).fill('sk-browser-made-not-real')
    await page.getByText('Advanced').click()
    await page.getByLabel('Agent binary').fill(FAKE_AGENT)
    await screenshot(page, 'profile-new')
    await page.getByRole('button', { name: 'Create profile' }).click()
    await page.waitForURL(/\/profiles$/)
    await page.locator('tr[data-profile="made-in-browser"]').waitFor()
    const listed = world.json(['profiles', 'list'])
    const made = listed.find((p) => p.alias === 'made-in-browser')
    assert.ok(made, JSON.stringify(listed))
    assert.equal(made.agent, 'claude')
    assert.equal(made.provider, 'anthropic')
    assert.equal(made.model, 'claude-haiku-4-5')
    const keys = world.json(['keychain', 'list'])
    assert.ok(keys.some((k) => k.alias === 'made-in-browser'), JSON.stringify(keys))
    // A duplicate alias gets the server's message.
    await page.getByRole('link', { name: 'New profile' }).click()
    await page.getByLabel('Alias', { exact: true }).fill('work')
    await page.getByLabel('Agent', { exact: true }).selectOption('claude')
    await page.getByLabel('Provider', { exact: true }).selectOption('anthropic')
    await page.getByLabel('A new key').check()
    await page.getByLabel('Key', { exact: true }).fill('sk-dup-not-real')
    await page.getByRole('button', { name: 'Create profile' }).click()
    await page.getByRole('alert').filter({ hasText: "'work' already exists" }).waitFor()
    assert.deepEqual(problemsBesides(page, ['409 (Conflict)']), [])
    await page.context().close()
  })

  test('edit and delete (with confirmation) reach the CLI', async () => {
    world.createProfile('doomed')
    const page = await openPage(browser)
    await signIn(page, server)
    await page.getByRole('link', { name: 'Edit doomed' }).click()
    await page.getByRole('heading', { name: 'Edit doomed' }).waitFor()
    await page.getByLabel('Model', { exact: true }).fill('claude-opus-4-5')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/\/profiles$/)
    assert.equal(world.json(['profiles', 'list']).find((p) => p.alias === 'doomed').model, 'claude-opus-4-5')
    await page.getByRole('button', { name: 'Delete doomed' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete the profile?' })
    await dialog.waitFor()
    await screenshot(page, 'profile-delete')
    // Cancel keeps it.
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    assert.ok(world.json(['profiles', 'list']).some((p) => p.alias === 'doomed'))
    await page.getByRole('button', { name: 'Delete doomed' }).click()
    // The question says what becomes of the key (a dry run of the delete).
    await dialog.locator('[data-key-fate]').filter({ hasText: 'Its key anthropic/doomed is removed too' }).waitFor()
    assert.ok(world.json(['keychain', 'list']).some((k) => k.alias === 'doomed'), 'the dry run removed nothing')
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await page.locator('tr[data-profile="doomed"]').waitFor({ state: 'detached' })
    await page.getByRole('status').filter({ hasText: 'Profile doomed deleted. Its key anthropic/doomed was removed.' }).waitFor()
    assert.ok(!world.json(['profiles', 'list']).some((p) => p.alias === 'doomed'))
    assert.ok(!world.json(['keychain', 'list']).some((k) => k.alias === 'doomed'))

    // Keeping the key on purpose.
    world.createProfile('doomed-too')
    await page.locator('tr[data-profile="doomed-too"]').waitFor()
    await page.getByRole('button', { name: 'Delete doomed-too' }).click()
    await dialog.getByLabel('Keep the key').check()
    await dialog.locator('[data-key-fate]').filter({ hasText: 'Its key anthropic/doomed-too is kept.' }).waitFor()
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await page.locator('tr[data-profile="doomed-too"]').waitFor({ state: 'detached' })
    assert.ok(world.json(['keychain', 'list']).some((k) => k.alias === 'doomed-too'))
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  test('a run started from the CLI shows on the profiles page without a reload', async () => {
    const page = await openPage(browser)
    await signIn(page, server)
    const runs = page.locator('tr[data-profile="work"] [data-col="runs"]')
    const before = Number(await runs.textContent())
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor()
    world.ringlet(['profiles', 'run', 'work', '--', '--claude-log', '2'])
    await eventually(async () => Number(await runs.textContent()) === before + 1, 5000, 'the run count to go up')
    // The run's usage arrives too: this month's cost is no longer "no usage".
    await eventually(async () => !(await page.locator('tr[data-profile="work"] [data-col="cost"]').textContent()).includes('no usage'),
      5000, 'the run\'s cost')
    const navigations = await page.evaluate(() => performance.getEntriesByType('navigation').length)
    assert.equal(navigations, 1, 'the page was not reloaded')
    await screenshot(page, 'profiles')
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })

  test('a rotated token sends the user back to sign-in with a clear message', async () => {
    const page = await openPage(browser)
    await signIn(page, server)
    await page.locator('tr[data-profile="work"]').waitFor()
    world.ringlet(['daemon', 'rotate-token'])
    // The next request (this click's, or a live update's reload if one comes first) is refused.
    await page.getByRole('link', { name: 'New profile' }).click({ timeout: 2000 }).catch(() => {})
    await page.waitForURL(/\/sign-in/)
    await page.getByText('The server refused the token').waitFor()
    assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), [])
    // Signing in again with the new token returns to the page that was asked for.
    await page.getByLabel('Server token').fill(server.token())
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/\/profiles(\/new)?$/)
    await page.getByRole('heading', { name: /Profiles|New profile/ }).waitFor()
    assert.deepEqual(problemsBesides(page, ['401 (Unauthorized)']), [])
    await page.context().close()
  })

  test('the profiles pages have no serious accessibility violations, light and dark, phone-sized too', async () => {
    for (const [colorScheme, viewport] of [['light', null], ['dark', null], ['light', { width: 390, height: 844 }]]) {
      const page = await openPage(browser, { colorScheme, viewport })
      await signIn(page, server)
      await page.locator('tr[data-profile="work"]').waitFor()
      assert.deepEqual(await axe(page), [], `profiles, ${colorScheme}`)
      await page.getByRole('link', { name: 'New profile' }).click()
      await page.getByLabel('Agent', { exact: true }).selectOption('claude')
      await page.getByLabel('Provider', { exact: true }).selectOption('anthropic')
      assert.deepEqual(await axe(page), [], `new profile, ${colorScheme}`)
      if (viewport) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        assert.ok(overflow <= 0, `the form is wider than a phone by ${overflow}px`)
      }
      assert.deepEqual(page.problems, [])
      await page.context().close()
    }
  })
})
