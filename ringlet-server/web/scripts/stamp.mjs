// Writes dist/build-stamp.txt: the SHA-256 of the dashboard's sources (see inputs()), so that a
// Rust test (ringlet-server/tests/web_dist.rs) fails when the committed dist/ was not rebuilt
// after a source change. The test hashes the same files the same way:
//   for each file, sorted by its path relative to web/ ('/'-separated):
//     path bytes, 0x00, decimal length, 0x00, content bytes
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = join(dirname(fileURLToPath(import.meta.url)), '..')

// Everything the build reads: the manifests, the configuration, the page, src/ and public/.
export function inputs() {
  const files = ['package.json', 'package-lock.json', 'index.html', 'vite.config.ts', 'tsconfig.json']
  const walk = (dir) => {
    for (const name of readdirSync(join(web, dir))) {
      const rel = `${dir}/${name}`
      if (statSync(join(web, rel)).isDirectory()) walk(rel)
      else files.push(rel)
    }
  }
  walk('src')
  walk('public')
  return files.map((f) => f.split(sep).join('/')).sort()
}

export function sourceHash() {
  const hash = createHash('sha256')
  for (const file of inputs()) {
    const content = readFileSync(join(web, file))
    hash.update(Buffer.from(file, 'utf8'))
    hash.update(Buffer.from([0]))
    hash.update(Buffer.from(String(content.length), 'utf8'))
    hash.update(Buffer.from([0]))
    hash.update(content)
  }
  return hash.digest('hex')
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  writeFileSync(join(web, 'dist', 'build-stamp.txt'), `sha256:${sourceHash()}\n`)
  console.log(`dist/build-stamp.txt: sha256:${sourceHash()}`)
}
