// The Terminal: a profile run from the dashboard in a session on the server, xterm.js attached
// over the WebSocket. The agent is the fake agent's `--interactive` mode: it prints
// `size ROWS COLS pid PID` at start, `winch ROWS COLS` on each SIGWINCH and `got LINE` for each
// line typed; `quit` ends it. Sessions run sandboxed (bwrap), so the world lives outside /tmp.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { FAKE_AGENT, Server, World, axe, eventually, launchBrowser, openPage, screenshot, signIn } from './harness.mjs'

const text = (page) => page.locator('.xterm-rows').innerText()

async function termSize(page) {
  const box = page.locator('.term')
  return { rows: Number(await box.getAttribute('data-rows')), cols: Number(await box.getAttribute('data-cols')) }
}

describe('terminal', () => {
  let world, server, browser
  before(async () => {
    world = new World({ outsideTmp: true })
    const project = join(world.root, 'project')
    mkdirSync(project)
    server = await Server.start(world, ['--allow-path', project])
    await server.api('POST', '/api/profiles', {
      agent: 'codex', alias: 'tty', provider: 'ollama', binary: FAKE_AGENT, args: ['--interactive'], working_dir: project,
    })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
    world?.cleanup()
  })

  test('Run opens the agent in a terminal: output, typing, resizing, a second tab, the exit code', async () => {
    const page = await openPage(browser, { viewport: { width: 1200, height: 800 } })
    await signIn(page, server)
    await page.getByRole('button', { name: 'Run tty' }).click()
    await page.waitForURL(/\/terminal\/[0-9a-f]+$/)
    const id = page.url().split('/').pop()
    await page.locator('[data-status]').filter({ hasText: 'attached' }).waitFor()
    await eventually(async () => /size \d+ \d+ pid \d+/.test(await text(page)), 10000, 'the agent\'s first line')

    // The agent is told the terminal's size (fitted to the window): by SIGWINCH, or, when the
    // resize reached the PTY before the agent had started (a slow sandboxed start), already in
    // the size it reads first.
    const first = await termSize(page)
    assert.ok(first.cols > 80, JSON.stringify(first))
    await eventually(async () => {
      const t = await text(page)
      return t.includes(`winch ${first.rows} ${first.cols}`) || t.includes(`size ${first.rows} ${first.cols} pid`)
    }, 10000, `winch ${first.rows} ${first.cols}`)

    // Typing reaches it.
    await page.locator('.term').click()
    await page.keyboard.type('hello there')
    await page.keyboard.press('Enter')
    await eventually(async () => (await text(page)).includes('got hello there'), 10000, 'got hello there')

    // A smaller window: the terminal refits and the agent gets SIGWINCH with the new size.
    await page.setViewportSize({ width: 700, height: 520 })
    await eventually(async () => (await termSize(page)).cols < first.cols, 5000, 'the terminal to refit')
    const smaller = await termSize(page)
    await eventually(async () => (await text(page)).includes(`winch ${smaller.rows} ${smaller.cols}`), 10000, `winch ${smaller.rows} ${smaller.cols}`)

    // A second browser on the same session: the scrollback, then the same live output.
    const other = await openPage(browser, { viewport: { width: 700, height: 520 } })
    await signIn(other, server)
    await other.goto(`${server.url}/terminal/${id}`)
    await eventually(async () => (await text(other)).includes('got hello there'), 10000, 'the scrollback in the second tab')
    await other.locator('.term').click()
    await other.keyboard.type('from the second tab')
    await other.keyboard.press('Enter')
    await eventually(async () => (await text(page)).includes('got from the second tab'), 10000, 'the second tab\'s line in the first')
    await eventually(async () => (await text(other)).includes('got from the second tab'), 10000, 'its own line')

    // The sessions list: running, two clients.
    const list = await openPage(browser)
    await signIn(list, server)
    await list.goto(`${server.url}/terminal`)
    await list.locator(`tr[data-session="${id}"] [data-col="clients"]`).filter({ hasText: /^2$/ }).waitFor()
    assert.equal((await list.locator(`tr[data-session="${id}"] [data-col="state"]`).textContent()).trim(), 'running')
    assert.deepEqual(await axe(list), [])
    await screenshot(list, 'sessions')
    await screenshot(page, 'terminal')

    // The agent ends: both tabs show its exit code.
    await page.locator('.term').click()
    await page.keyboard.type('quit')
    await page.keyboard.press('Enter')
    for (const p of [page, other]) {
      await p.locator('[data-exit]').filter({ hasText: 'The agent exited with code 0.' }).waitFor()
    }
    await list.locator(`tr[data-session="${id}"] [data-col="state"]`).filter({ hasText: 'exited (0)' }).waitFor({ timeout: 10000 })
    for (const p of [page, other, list]) {
      assert.deepEqual(p.problems, [])
      await p.context().close()
    }
  })

  test('a session is terminated from the list after confirmation; a phone-sized terminal works', async () => {
    const session = await server.api('POST', '/api/sessions', { profile: 'tty', rows: 24, cols: 80 })
    const page = await openPage(browser, { viewport: { width: 390, height: 844 } })
    await signIn(page, server)
    await page.goto(`${server.url}/terminal/${session.id}`)
    await eventually(async () => /size \d+ \d+ pid \d+/.test(await text(page)), 10000, 'the agent\'s first line')
    const { cols } = await termSize(page)
    assert.ok(cols >= 20 && cols < 80, `a phone's terminal is ${cols} columns`)
    await eventually(async () => (await text(page)).includes(`winch`), 10000, 'the phone size reaching the agent')
    await screenshot(page, 'terminal-phone')
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, `the terminal page is wider than a phone by ${overflow}px`)

    await page.goto(`${server.url}/terminal`)
    await page.getByRole('button', { name: `Terminate ${session.id}` }).click()
    await page.getByRole('dialog', { name: 'Terminate the session?' }).getByRole('button', { name: 'Terminate' }).click()
    await page.locator(`tr[data-session="${session.id}"] [data-col="state"]`).filter({ hasText: 'terminated' }).waitFor({ timeout: 15000 })
    const after = await server.api('GET', `/api/sessions/${session.id}`)
    assert.equal(after.state, 'terminated')
    assert.deepEqual(page.problems, [])
    await page.context().close()
  })
})
