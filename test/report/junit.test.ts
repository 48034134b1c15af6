import { describe, expect, it } from 'vitest'
import { formatJunit } from '../../src/report/junit.js'
import { summarize } from '../../src/report/summarize.js'
import { firstPart, resumedRun } from './resumed-run.js'

describe('junit.xml', () => {
  it('a host is a suite, a task a case; a failed task carries its step and reason', () => {
    const xml = formatJunit(summarize(firstPart))
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/)
    expect(xml).toMatch(/<testsuites name="gpufleet prep run-1" tests="5" failures="1" errors="0" skipped="1"/)
    expect(xml).toMatch(/<testsuite name="h3" tests="1" failures="1"/)
    expect(xml).toMatch(/<testcase classname="h3.stage" name="initramfs.rebuild" time="0.012">\s*<failure message="step 'rebuild initramfs' exit 1: \[h3\] rebuild initramfs failed with exit code 1: set -u … \(53-line script\)&#xA;no space left on device" type="TaskFailed"\/>/)
    expect(xml).toContain('<system-err><![CDATA[dracut: cpio: write error\nno space left on device]]></system-err>')
  })

  it('a host never started is a skipped case', () => {
    const xml = formatJunit(summarize(firstPart))
    expect(xml).toMatch(/<testcase classname="h2.run" name="not started">\s*<skipped\/>/)
  })
})
