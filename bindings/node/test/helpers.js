'use strict'
// A throwaway ringlet home with the file credential backend (never the developer's keychain),
// and the fake agent built by `cargo build -p ringlet-tests --bin fake-agent`.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Ringlet } = require('..')

const REPO = path.resolve(__dirname, '..', '..', '..')
const FAKE_AGENT =
  process.env.RINGLET_FAKE_AGENT || path.join(REPO, 'target', 'debug', 'fake-agent')
const KEY = 'sk-canary-node-51c2'

if (!fs.existsSync(FAKE_AGENT)) {
  throw new Error(
    `${FAKE_AGENT} is missing: build it with \`cargo build -p ringlet-tests --bin fake-agent\``
  )
}

// Every home made here is removed when the test process exits (node --test runs each file in
// its own process), so test runs leave nothing in the temp dir.
const homes = []
process.on('exit', () => {
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true })
})

function tempHome () {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ringlet-node-'))
  homes.push(home)
  fs.mkdirSync(path.join(home, 'config'))
  fs.writeFileSync(path.join(home, 'config', 'config.toml'), '[credentials]\nbackend = "file"\n')
  return home
}

async function open () {
  const home = tempHome()
  return { home, r: await Ringlet.open(home) }
}

function makeProfile (r, alias) {
  return r.createProfile(
    { agent: 'claude', alias, provider: 'minimax', model: 'MiniMax-M2', binary: FAKE_AGENT },
    KEY
  )
}

// A profile with every optional field set (`full`), keyless: a custom endpoint.
function makeFullProfile (r) {
  return r.createProfile({
    agent: 'claude',
    alias: 'full',
    provider: 'custom',
    customEndpoint: 'http://127.0.0.1:9',
    shape: 'anthropic',
    model: 'm',
    keyAlias: 'team',
    workingDir: '/tmp',
    binary: FAKE_AGENT,
    args: ['--verbose'],
    env: { FOO: 'bar' }
  })
}

module.exports = { FAKE_AGENT, KEY, REPO, Ringlet, makeFullProfile, makeProfile, open, tempHome }
