// Type-checked, never run: `tsc` (tests/bindings.sh) holds index.d.ts to how an editor
// extension written in TypeScript uses the package, so a declaration that stops being valid
// TypeScript, or stops matching this use, fails the build. test/types.test.js holds the same
// declarations to the runtime.
import { ErrorKind, Profile, Ringlet, RingletError, RunHandle, RunOutcome } from '..'

export async function treeView (home?: string): Promise<string[]> {
  const r: Ringlet = await Ringlet.open(home)
  const profiles: Profile[] = await r.profiles()
  const agents = new Map((await r.agents()).map((a) => [a.id, a]))
  return profiles.map((p) => {
    const agent = agents.get(p.agent)
    const runs: number = p.metadata.totalRuns
    const model: string = p.model ?? 'default model'
    return `${p.alias} ${agent?.name ?? p.agent} ${model} ${runs}`
  })
}

export async function launch (r: Ringlet, alias: string): Promise<number | undefined> {
  const plan = await r.planRun(alias, ['--help'])
  const home: string = plan.home
  const outcome = await r.run(alias, [])
  void home
  return outcome.exitCode ?? undefined
}

export async function handle (r: Ringlet): Promise<string> {
  try {
    await r.profile('nobody')
    return 'found'
  } catch (err) {
    // Errors carry the core's stable code, its kind and the fix.
    const e = err as RingletError
    const kind: ErrorKind = e.kind
    return kind === 'not_found' ? `${e.code}: ${e.hint ?? ''}` : e.code
  }
}

export async function terminal (home: string): Promise<number> {
  // An embedding passes the ringlet CLI for hooks, starts a run in a PTY and drives it.
  const r = await Ringlet.open(home, { hookProgram: '/usr/local/bin/ringlet' })
  const run: RunHandle = await r.start('work', [], { io: 'pty', rows: 40, cols: 120, env: 'clean' })
  const done: Promise<RunOutcome> = run.wait()
  await run.write(new TextEncoder().encode('hello\n'))
  run.resize(50, 160)
  const chunk: Uint8Array | null = await run.read()
  if (chunk === null) run.kill()
  return (await done).exitCode + run.pid * 0
}
