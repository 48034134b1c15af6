import { describe, expect, it } from 'vitest'
import { formatHtml } from '../../src/report/html.js'
import { summarize } from '../../src/report/summarize.js'
import { resumedRun } from './resumed-run.js'

// Fast checks of the page text; the rendered page is checked in Chromium (html.test.ts).
describe('report.html as text', () => {
  const html = formatHtml(summarize(resumedRun))

  it('its script is valid JavaScript and its data parses', () => {
    const scripts = [...html.matchAll(/<script(?: type="application\/json" id="hosts-data")?>([\s\S]*?)<\/script>/g)].map((m) => m[1]!)
    expect(scripts).toHaveLength(2)
    expect(Object.keys(JSON.parse(scripts[0]!))).toEqual(['h1', 'h2', 'h3'])
    expect(() => new Function(scripts[1]!)).not.toThrow()
  })

  it('is self-contained and draws a window per reboot', () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
    expect(html.match(/data-kind="reboot"/g)).toHaveLength(2)
  })
})
