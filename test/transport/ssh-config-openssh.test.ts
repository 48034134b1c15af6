// gpufleet's ~/.ssh/config resolution against OpenSSH's own: for every case, the expectations are
// what the installed `ssh` prints, never written by hand.
// - `ssh -F cfg -G host`: user, port, hostname, proxyjump, userknownhostsfile (expanded),
//   globalknownhostsfile, stricthostkeychecking, identitiesonly;
// - `ssh -v -F cfg -o ProxyCommand=true host`: the identity files with every token expanded (ssh
//   loads them right after its "connection" exists, and -G prints them unexpanded).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir, userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_GLOBAL_KNOWN_HOSTS, defaultUserKnownHosts } from '../../src/transport/connect.js'
import { loadDefaultSshConfig, loadSshConfig, resolveSshConfig, type SshConfigHost } from '../../src/transport/ssh-config.js'

interface Case {
  name: string
  host: string
  files: (dir: string) => Record<string, string> // path under dir → text; 'config' is the -F file
  after?: (dir: string) => void // extra checks once both have read the config
}

const CASES: Case[] = [
  {
    name: 'Match host sees the HostName set above it',
    host: 'web',
    files: () => ({ config: 'Host web\n  HostName web.internal.example\nMatch host *.internal.example\n  User ops\n  Port 2201\n  IdentityFile ~/.ssh/internal_%h\n' }),
  },
  {
    name: 'Match originalhost with a comma list and a negation',
    host: 'db-prod',
    files: () => ({ config: 'Match originalhost db-*,!db-test\n  User dba\n  IdentityFile ~/.ssh/db_%n\nHost *\n  User fallback\n  Port 2022\n' }),
  },
  {
    name: 'the negated name falls through to Host *',
    host: 'db-test',
    files: () => ({ config: 'Match originalhost db-*,!db-test\n  User dba\n  IdentityFile ~/.ssh/db_%n\nHost *\n  User fallback\n  Port 2022\n' }),
  },
  {
    name: 'Match user sees the User set above it; tokens %d %r %h %p in IdentityFile',
    host: 'jump-01',
    files: () => ({ config: 'Host jump-*\n  User admin\n  Port 2200\nMatch user admin\n  ProxyJump ops@bastion.example:2222\n  IdentityFile %d/.ssh/admin-%r@%h:%p\nMatch user root\n  Port 9\n' }),
  },
  {
    name: 'Match localuser and !localuser',
    host: 'box',
    files: () => ({ config: `Match !localuser ${userInfo().username}\n  Port 1\nMatch localuser ${userInfo().username},nobody\n  Port 2023\n  User local-matched\n` }),
  },
  {
    name: 'Match exec with tokens through the shell; a failing exec does not match',
    host: 'gpu-07',
    files: () => ({
      config: 'Match exec "test %h = gpu-07 && test %n = gpu-07 && test %p = 22"\n  User exec-user\nMatch exec false\n  Port 9\nMatch !exec "test %r = nobody"\n  Port 2207\n',
    }),
  },
  {
    name: 'Match exec is not run once an earlier criterion failed',
    host: 'gpu-08',
    files: (dir) => ({ config: `Match host nomatch exec "touch ${dir}/ran"\n  User wrong\nMatch all\n  User all-user\n` }),
    after: (dir) => expect(existsSync(join(dir, 'ran'))).toBe(false),
  },
  {
    name: 'Include inside a Match applies where the Match does (Host blocks in it too)',
    host: 'rack-02',
    files: (dir) => ({
      config: `Match originalhost rack-*\n  Include ${dir}/rack.d/*.conf\n  User after-include\nMatch all\n  IdentityFile ~/.ssh/all_%h\n`,
      'rack.d/a.conf': 'HostName %h.rack.example\nHost rack-02\n  Port 2302\n',
      'rack.d/b.conf': 'Host *\n  ProxyJump rack-bastion\n',
    }),
  },
  {
    name: 'Include inside a Match that does not apply: nothing in it applies, not even Host *',
    host: 'other-02',
    files: (dir) => ({
      config: `Match originalhost rack-*\n  Include ${dir}/rack.d/*.conf\n  User after-include\nMatch all\n  IdentityFile ~/.ssh/all_%h\n`,
      'rack.d/a.conf': 'HostName %h.rack.example\nHost rack-02\n  Port 2302\n',
      'rack.d/b.conf': 'Host *\n  ProxyJump rack-bastion\n',
    }),
  },
  {
    name: 'Match final re-reads with the final name (Host and Match host), first value still wins',
    host: 'short',
    files: () => ({ config: 'Match final\n  HostName ignored-%h\nHost short\n  HostName short.final.example\nMatch final host *.final.example\n  User final-user\nHost short.final.example\n  Port 2400\n  IdentityFile ~/.ssh/final_%h_%n\n' }),
  },
  {
    name: 'nested Include at top level, globbed directories, first value across files',
    host: 'p9-a01',
    files: (dir) => ({
      config: `Include ${dir}/conf.d/*/main.conf\nHost p9-*\n  User late\n  Port 2999\n`,
      'conf.d/10-rack/main.conf': `Include ${dir}/extra.conf\nHost p9-a*\n  User rack-a\n  IdentityFile ~/.ssh/rack_a\n`,
      'conf.d/20-all/main.conf': 'Host *\n  IdentityFile ~/.ssh/everyone\n  IdentityFile ~/.ssh/rack_a\n  StrictHostKeyChecking accept-new\n',
      'extra.conf': 'Match originalhost p9-*\n  Port 2901\n  IdentitiesOnly yes\n',
    }),
  },
  {
    name: 'every IdentityFile/UserKnownHostsFile token: %h %p %r %u %n %d %% %C %l %L %i ${HOME}; GlobalKnownHostsFile taken as is',
    host: 'tok',
    files: () => ({
      config: 'Match originalhost tok\n  HostName tok.example\n  User u1\n  Port 2345\n' + '  IdentityFile /k/%h-%p-%r-%u-%n-%d-%%-%C-%l-%L-%i\n  IdentityFile ${HOME}/.ssh/env_%h\n' + '  UserKnownHostsFile /kh/%h-%p-%r-%u-%n-%d-%%-%C ~/.ssh/kh2\n  GlobalKnownHostsFile /etc/gk/%h\n',
    }),
  },
  {
    name: 'ProxyJump none, then ProxyCommand, then ProxyJump: first obtained wins',
    host: 'pj',
    files: () => ({ config: 'Host pj\n  ProxyJump none\nMatch originalhost pj\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump later\n  StrictHostKeyChecking no\n' }),
  },
  {
    name: 'upper-case name: Host is case-sensitive, Match host is not, HostName lowercased',
    host: 'WEB',
    files: () => ({ config: 'Host web\n  Port 1\nHost WEB\n  HostName %h.Example.COM\nMatch host web.example.com\n  User matched-lower\n  IdentityFile ~/.ssh/up_%h_%n\n' }),
  },
  {
    name: 'Match all negated, after another criterion, after final',
    host: 'x',
    files: () => ({ config: 'Match !all\n  Port 5\nMatch host y all\n  Port 6\nMatch final all\n  Port 7\n  User final-all\n' }),
  },
]

const run = (args: string[]) =>
  new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    execFile('ssh', args, { timeout: 20_000 }, (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 }))
  })

// `ssh -G` output: keyword → values (in order).
function parseDump(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line)
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!])
  }
  return out
}

// The identity files `ssh -v` loads, without the `-cert` companions it also looks for.
function identityFilesFromVerbose(stderr: string): string[] {
  const all = [...stderr.matchAll(/^debug1: identity file (.*) type -?\d+$/gm)].map((m) => m[1]!)
  return all.filter((f) => !(f.endsWith('-cert') && all.includes(f.slice(0, -'-cert'.length))))
}

// Runs ssh -G and ssh -v with `configArgs` for `host` and compares with gpufleet's resolution.
async function expectAgreement(configArgs: string[], host: string, ours: SshConfigHost): Promise<void> {
  const dump = await run([...configArgs, '-G', host])
  expect(dump.code, dump.stderr).toBe(0)
  const g = parseDump(dump.stdout)
  const verbose = await run(['-v', ...configArgs, '-o', 'ProxyCommand=true', '-o', 'BatchMode=yes', host])
  const sshIds = identityFilesFromVerbose(verbose.stderr)
  expect(sshIds.length, verbose.stderr).toBeGreaterThan(0)
  const one = (k: string) => g.get(k)?.[0]
  expect({
    user: ours.user ?? userInfo().username,
    port: String(ours.port ?? 22),
    hostname: ours.hostName ?? host.toLowerCase(),
    proxyjump: ours.proxyJump,
    proxycommand: ours.proxyCommand !== undefined,
    identityfiles: ours.identityFiles.length > 0 ? ours.identityFiles : OPENSSH_DEFAULT_IDS,
    userknownhostsfile: (ours.userKnownHostsFiles ?? defaultUserKnownHosts()).join(' '),
    globalknownhostsfile: (ours.globalKnownHostsFiles ?? DEFAULT_GLOBAL_KNOWN_HOSTS).join(' '),
    stricthostkeychecking: { yes: 'true', no: 'false', 'accept-new': 'accept-new', ask: 'ask' }[ours.strictHostKeyChecking ?? 'ask'],
    identitiesonly: ours.identitiesOnly ? 'yes' : 'no',
  }).toEqual({
    user: one('user'),
    port: one('port'),
    hostname: one('hostname'),
    proxyjump: one('proxyjump'),
    proxycommand: one('proxycommand') !== undefined,
    identityfiles: sshIds,
    userknownhostsfile: one('userknownhostsfile'),
    globalknownhostsfile: one('globalknownhostsfile'),
    stricthostkeychecking: one('stricthostkeychecking'),
    identitiesonly: one('identitiesonly'),
  })
}

const OPENSSH_DEFAULT_IDS = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((f) => join(homedir(), '.ssh', f))

describe('ssh config resolution agrees with `ssh -G` / `ssh -v` (OpenSSH)', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gpufleet-sshg-'))
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('the table has at least 10 cases, all with Match or Include', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10)
    for (const c of CASES) expect(Object.values(c.files('/d')).join('\n')).toMatch(/^\s*(Match|Include) /m)
  })

  it.each(CASES.map((c, i) => [i, c.name, c] as const))('case %i: %s', async (i, _name, c) => {
    const dir = join(root, `case-${i}`)
    for (const [path, text] of Object.entries(c.files(dir))) {
      await mkdir(dirname(join(dir, path)), { recursive: true })
      await writeFile(join(dir, path), text)
    }
    const config = join(dir, 'config')
    await expectAgreement(['-F', config], c.host, await resolveSshConfig(await loadSshConfig(config), c.host))
    c.after?.(dir)
  })

  it("without -F: ~/.ssh/config, then /etc/ssh/ssh_config, as this machine's ssh reads them", async () => {
    for (const host of ['p9-a01.gpu.example', 'Bastion']) await expectAgreement([], host, await resolveSshConfig(await loadDefaultSshConfig(), host))
  })
})
