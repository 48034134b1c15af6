import { execa } from 'execa'
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runQuiet, startTestRack, stopTestRack, type RackFixture } from '../runner/rack-helpers.js'

// The HTML report of a 20-host simulated rolling run (4 racks of 5, one host whose dracut fails
// for lack of space, one that reboots slowly), opened in headless Chromium (Debian's `chromium`):
// the rendered DOM must show a tile per host grouped per rack, the failed host (its details open),
// and the timeline drawn; the screenshot is kept in the run directory (CI artifact).

const CLI = join(process.cwd(), 'dist', 'cli.js')
const CHROMIUM = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--allow-file-access-from-files', '--virtual-time-budget=10000']
let fixture: RackFixture | undefined
afterAll(() => stopTestRack(fixture))

describe('report.html in headless Chromium', () => {
  it('a 20-host rolling run with a failed and a slow host: tiles per rack, the failure visible, the timeline drawn', async () => {
    fixture = await startTestRack('hostsPerRack: 5\nprofile: pcie\nrules:\n  - match: "*-r2-03"\n    dracutNoSpace: true\n  - match: "*-r3-04"\n    rebootTime: 6s\n', { hosts: 20, rebootTimeMs: 600 })
    const failed = fixture.rack.hosts.find((h) => h.name.endsWith('-r2-03'))!.name
    const slow = fixture.rack.hosts.find((h) => h.name.endsWith('-r3-04'))!.name
    // --forks 10: twenty gathers at once over a 2-core machine's loopback would only queue in sshd.
    const r = await runQuiet(fixture.spec({ forks: 10, roll: { maxUnavailable: { kind: 'count', n: 4 }, perRack: 1 } }))
    expect(r.outcomes[failed]).toBe('failed')
    expect(Object.values(r.outcomes).filter((o) => o === 'changed')).toHaveLength(19)

    const html = join(r.runDir, 'report.html')
    const url = `file://${html}`
    const dom = (await execa('chromium', [...CHROMIUM, '--dump-dom', url])).stdout
    const screenshot = join(r.runDir, 'report.png')
    await execa('chromium', [...CHROMIUM, `--screenshot=${screenshot}`, '--window-size=1280,1800', url])

    // Tiles grouped per rack: 4 racks of 5.
    const racks = [...dom.matchAll(/<section class="rack" data-rack="([^"]+)">([\s\S]*?)<\/section>/g)]
    expect(racks.map((m) => m[1])).toEqual(['r1', 'r2', 'r3', 'r4'])
    // The failed host's tile carries `selected` once the page's script opened its details.
    for (const m of racks) expect(m[2]!.match(/<button class="tile(?: selected)?"/g)).toHaveLength(5)
    expect(dom).toMatch(new RegExp(`<button class="tile selected" data-host="${failed}"`))
    // The failed host: a failed tile in its rack, and the script opened its details (the step).
    const r2 = racks.find((m) => m[1] === 'r2')![2]!
    expect(r2).toMatch(new RegExp(`data-host="${failed}" data-outcome="failed"`))
    expect(dom).toMatch(new RegExp(`<div id="details" data-host="${failed}">`))
    expect(dom).toMatch(/failed at: [^<]*initramfs/i)
    // The timeline: a reboot window for each of the 19 hosts that rebooted, slot waits, staging;
    // the slow host's reboot window is the longest.
    const rects = [...dom.matchAll(/<g class="row" data-host="([^"]+)"[^>]*>([\s\S]*?)<\/g>/g)]
    expect(rects).toHaveLength(20)
    const reboots = new Map(rects.map((m) => [m[1]!, [...m[2]!.matchAll(/data-kind="reboot" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((w) => Number(w[1]))]))
    expect([...reboots.values()].filter((w) => w.length === 1)).toHaveLength(19)
    expect(reboots.get(failed)).toEqual([])
    const widest = [...reboots].sort((a, b) => (b[1][0] ?? 0) - (a[1][0] ?? 0))[0]![0]
    expect(widest).toBe(slow)
    expect(dom).toMatch(/data-kind="slot-wait"/)
    expect(dom).toMatch(/data-kind="stage"/)
    // The screenshot, kept with the run.
    expect(existsSync(screenshot)).toBe(true)
    expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG')
    expect(statSync(screenshot).size).toBeGreaterThan(20_000)

    // `gpufleet report <id>` re-renders the same reports from the run's events.
    const before = readFileSync(html, 'utf8')
    rmSync(html)
    const again = await execa('node', [CLI, 'report', r.runId, '--run-dir', fixture.spec().runsDir, '--format', 'html,md'])
    expect(again.stdout).toContain(html)
    expect(readFileSync(html, 'utf8')).toBe(before)
    expect(readFileSync(join(r.runDir, 'retry.txt'), 'utf8')).toBe(`${failed}\n`)
  }, 1_200_000)
})
