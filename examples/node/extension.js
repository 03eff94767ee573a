'use strict'
// The shape of an editor extension using ringlet from Node: on activation it lists the profiles
// with their agents, shows today's usage, and launches a profile — with every call awaited, so
// the editor's event loop never waits on the disk or the agent.
//
// Run (after `npm ci && npm run build` in bindings/node):
//   node examples/node/extension.js [PROFILE]          your real ringlet home
//   node examples/node/extension.js --demo BINARY      a throwaway home with one profile whose
//                                                      agent binary is BINARY (the tests use
//                                                      target/debug/fake-agent)
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Ringlet } = require('../../bindings/node')

async function demoHome (binary) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ringlet-extension-'))
  fs.mkdirSync(path.join(home, 'config'))
  fs.writeFileSync(path.join(home, 'config', 'config.toml'), '[credentials]\nbackend = "file"\n')
  const r = await Ringlet.open(home)
  await r.createProfile(
    { agent: 'claude', alias: 'work', provider: 'minimax', model: 'MiniMax-M3', binary },
    'sk-example-not-real'
  )
  return { home, r }
}

// What an extension would show in its tree view: each profile with its agent's name and state.
async function showProfiles (r) {
  const [profiles, agents] = await Promise.all([r.profiles(), r.agents()])
  const byId = new Map(agents.map((a) => [a.id, a]))
  console.log('Profiles')
  for (const p of profiles) {
    const agent = byId.get(p.agent)
    const state = agent && agent.installed ? agent.version || 'installed' : 'not on PATH'
    console.log(`  ${p.alias}  ${agent ? agent.name : p.agent} (${state}) via ${p.provider}` +
      `${p.model ? ` · ${p.model}` : ''}  runs: ${p.metadata.totalRuns}`)
  }
  return profiles
}

// The status-bar item: today's tokens and cost per profile, from the usage ledger (which runs
// fill automatically from the agents' own logs). An empty ledger is an empty report.
async function showUsage (r) {
  const today = await r.usage({ since: 'today' })
  if (today.rows.length === 0) {
    console.log('Usage today: nothing yet')
    return today
  }
  const cost = (row) => `$${row.costUsd.toFixed(4)}${row.unpricedEvents ? ' + unpriced' : ''}`
  console.log(`Usage today: ${today.total.totalTokens} tokens, ${cost(today.total)}`)
  for (const row of today.rows) {
    console.log(`  ${row.profile} (${row.agent} via ${row.provider}): ${row.events} responses, ` +
      `${row.totalTokens} tokens, ${cost(row)}`)
  }
  return today
}

async function launch (r, alias, args) {
  // A status-bar spinner: it keeps turning while the agent runs because run() is a Promise.
  let ticks = 0
  const spinner = setInterval(() => { ticks += 1 }, 50)
  try {
    const outcome = await r.run(alias, args)
    console.log(`Launched ${alias}: exit code ${outcome.exitCode} after ` +
      `${Math.round(outcome.durationMs)} ms (the UI ticked ${ticks} times meanwhile)`)
    return outcome.exitCode
  } catch (err) {
    // Errors carry the core's stable code, so the extension can react to each kind.
    if (err.code === 'agent_not_installed') console.log(`Install the agent first: ${err.message}`)
    else if (err.code === 'missing_key') console.log(`Add a key first: ${err.message}`)
    else console.log(`Could not launch ${alias} [${err.code}]: ${err.message}`)
    return 1
  } finally {
    clearInterval(spinner)
  }
}

async function main () {
  const argv = process.argv.slice(2)
  let r
  let home
  let args = []
  if (argv[0] === '--demo') {
    if (!argv[1]) throw new Error('usage: extension.js --demo AGENT_BINARY')
    ;({ home, r } = await demoHome(argv[1]))
    // The fake agent also writes a Claude transcript of two responses, as claude would.
    args = ['--sleep-ms', '300', '--claude-log', '2']
  } else {
    r = await Ringlet.open()
  }
  for (const w of r.warnings()) console.log(`warning: ${w.message}`)
  try {
    const profiles = await showProfiles(r)
    await showUsage(r)
    const alias = argv[0] && argv[0] !== '--demo' ? argv[0] : profiles[0] && profiles[0].alias
    if (!alias) {
      console.log('No profiles yet: create one with `ringlet profiles create`')
      return 0
    }
    const code = await launch(r, alias, args)
    // The run's usage was read from the agent's logs when it exited.
    await showUsage(r)
    // The tree refreshes: the run was counted.
    for (const p of await r.profiles()) {
      console.log(`  ${p.alias}  runs: ${p.metadata.totalRuns}`)
    }
    return code
  } finally {
    if (home) fs.rmSync(home, { recursive: true, force: true })
  }
}

main().then((code) => { process.exitCode = code }, (err) => {
  console.error(err)
  process.exitCode = 1
})
