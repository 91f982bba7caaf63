import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAssistant } from '../../src/engine/demo-assistant.js';
import { createLocalProviders, type LocalProviders } from '../../src/providers/local-providers.js';
import {
  browserTestSkipReason,
  CHROMIUM,
  DASHBOARD_INDEX,
  type DashboardServer,
  launchBrowser,
  screenshot,
  startDashboardServer,
  writeCallerWav,
} from './support.js';

/**
 * The dashboard in a real browser (headless Chromium through playwright-core) against a real
 * Parley server: sign in, open the demo assistant, talk to it with a fake microphone playing a
 * flite-synthesised caller (pocketsphinx hears it, the scripted dialog answers with flite), see
 * the transcript live, then the call's detail: messages, metrics chart, webhook deliveries.
 * Screenshots of the main pages go to test-results/screenshots/ (1280×800).
 *
 * Runs once per suite, in the PGlite pass (its server has its own embedded database). Outside
 * CI it is skipped when the dashboard is not built or Chromium is missing; in CI it always runs.
 */
const skipReason = browserTestSkipReason();
if (skipReason) console.warn(`test/browser skipped: ${skipReason}`);

const tid = (id: string) => `[data-testid="${id}"]`;
const WAIT = { timeout: 20_000 };

let server: DashboardServer;
let providers: LocalProviders;
let wavDir: string;

describe.skipIf(skipReason !== undefined)('dashboard in Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(DASHBOARD_INDEX))
      throw new Error(`${DASHBOARD_INDEX} is missing: run \`npm run build\` first`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh`);
    providers = await createLocalProviders();
    const missing = Object.entries(providers.status).filter(([n, s]) => n !== 'espeak' && s !== 'ok');
    if (missing.length > 0) throw new Error(`offline speech providers missing: ${JSON.stringify(missing)}`);
    server = await startDashboardServer(providers);
    wavDir = await mkdtemp(join(tmpdir(), 'parley-caller-'));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (wavDir) await rm(wavDir, { recursive: true, force: true });
  });

  /** Fails with what the page and the server were doing. */
  async function step<T>(page: Page, what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      await screenshot(page, `failed-${what.replace(/\W+/g, '-')}`).catch(() => {});
      const lines = await page
        .locator(tid('transcript-line'))
        .allTextContents()
        .catch(() => []);
      throw new Error(
        `${what}: ${(error as Error).message.split('\n')[0]}\nurl: ${page.url()}\ntranscript: ${JSON.stringify(lines)}\nserver log tail:\n${server.logs.slice(-15).join('')}`,
      );
    }
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${server.baseUrl}/`);
    await page.locator(tid('api-key-input')).waitFor(WAIT);
    await screenshot(page, 'sign-in');
    await page.locator(tid('api-key-input')).fill(server.key);
    await page.locator(tid('sign-in-button')).click();
    await page.locator(tid('nav-assistants')).waitFor(WAIT);
  }

  it('talks to the demo assistant by voice; the call detail shows messages, metrics and deliveries', async () => {
    // Webhooks of the demo assistant go to the local receiver (shown as deliveries).
    const patched = await server.api('PATCH', `/v1/assistants/${server.demoAssistantId}`, {
      assistantServer: { url: server.receiver.url },
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    // The caller answers the welcome's question ("Would you like to book an appointment?") with
    // "no thanks" 6 s after the microphone opens; the dialog says goodbye and hangs up. The
    // file loops: the next "no thanks" would come 14 s later, after the call has ended.
    const wav = join(wavDir, 'no-thanks.wav');
    await writeCallerWav(wav, 'no thanks', { leadMs: 6_000, tailMs: 8_000 });
    const browser = await launchBrowser(wav);
    const { page } = browser;
    try {
      await step(page, 'sign in', () => signIn(page));

      await step(page, 'assistants list', async () => {
        await page.locator(tid('nav-assistants')).click();
        await page
          .locator(`${tid('assistant-row')}[data-assistant-id="${server.demoAssistantId}"]`)
          .waitFor(WAIT);
        await page.locator(tid('new-assistant-button')).waitFor(WAIT);
        await screenshot(page, 'assistants');
      });

      await step(page, 'assistant editor and test webhook', async () => {
        await page.goto(`${server.baseUrl}/assistants/${server.demoAssistantId}`);
        await page.locator(tid('assistant-form')).waitFor(WAIT);
        await page.locator(tid('assistant-save-button')).waitFor(WAIT);
        await screenshot(page, 'assistant-editor');
        await page.locator(tid('test-webhook-button')).first().click();
        await page.locator(tid('test-webhook-result')).waitFor(WAIT);
        await screenshot(page, 'test-webhook');
      });

      const callId = await step(page, 'voice call', async () => {
        await page.locator(tid('nav-assistants')).click();
        await page
          .locator(
            `${tid('assistant-row')}[data-assistant-id="${server.demoAssistantId}"] ${tid('talk-button')}`,
          )
          .click();
        await page.waitForURL(`**/talk/${server.demoAssistantId}`, WAIT);
        await page.locator(tid('start-voice-call')).click();
        await page.locator(`${tid('call-status')}:text-is("ongoing")`).waitFor(WAIT);
        // Live: the assistant's welcome, then what the caller said, then the goodbye.
        await page
          .locator(`${tid('transcript-line')}[data-role="assistant"]`)
          .first()
          .waitFor(WAIT);
        await page.locator(`${tid('transcript-line')}[data-role="user"][data-final="true"]`).waitFor(WAIT);
        await screenshot(page, 'talk-mid-call');
        await page.locator(`${tid('call-status')}:text-is("finished")`).waitFor({ timeout: 30_000 });
        const href = (await page.locator(tid('call-detail-link')).getAttribute('href')) ?? '';
        return decodeURIComponent(href.split('/').pop() ?? '');
      });
      expect(callId).toMatch(/^WC-/);

      const lines = await page.locator(tid('transcript-line')).evaluateAll((els) =>
        els.map((e) => ({
          role: e.getAttribute('data-role'),
          final: e.getAttribute('data-final'),
          text: e.textContent,
        })),
      );
      const user = lines.filter((l) => l.role === 'user' && l.final === 'true');
      // pocketsphinx, on the dialog's grammar, hears "no thanks" or just "no" (with the carrier
      // words and fillers the grammar admits); the fake microphone repeats its file, so a
      // re-prompt may come first. The answer that ends the call is the caller's "no".
      expect(user.length, JSON.stringify(user)).toBeGreaterThanOrEqual(1);
      expect(user.length, JSON.stringify(user)).toBeLessThanOrEqual(4);
      expect(user.at(-1)?.text?.replace(/\s+/g, ' ').trim().toLowerCase()).toMatch(/\bno\b/);
      expect(lines.filter((l) => l.role === 'assistant').length).toBeGreaterThanOrEqual(2);
      expect(lines.at(-1)?.text).toContain('Goodbye');

      // The server's record agrees, and the report reached the webhook receiver.
      await server.receiver.waitFor(
        () =>
          server.receiver.events.some(
            (e) => e.message?.call?.id === callId && e.message.type === 'end-of-call-report',
          ),
        20_000,
        'end-of-call-report',
      );
      const stored = await server.api('GET', `/v1/calls/${callId}`);
      expect(stored.json).toMatchObject({ status: 'finished', callEndTriggerBy: 'bot' });

      await step(page, 'call detail', async () => {
        await page.locator(tid('call-detail-link')).click();
        await page
          .waitForURL(`**/calls/${encodeURIComponent(callId)}`, WAIT)
          .catch(() => page.waitForURL(`**/calls/${callId}`, WAIT));
        await page.locator(tid('call-messages')).waitFor(WAIT);
        await page
          .locator(`${tid('call-message')}[data-role="user"]`)
          .first()
          .waitFor(WAIT);
        await page
          .locator(`${tid('call-message')}[data-role="assistant"]`)
          .first()
          .waitFor(WAIT);
        await page.locator(tid('metrics-chart')).waitFor(WAIT);
        await screenshot(page, 'call-detail');
        await page.locator(tid('deliveries')).scrollIntoViewIfNeeded();
        await page.locator(tid('delivery-row')).first().waitFor(WAIT);
        const types = await page
          .locator(tid('delivery-row'))
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-event-type')));
        expect(types).toContain('end-of-call-report');
        await page
          .locator(`${tid('delivery-row')}[data-event-type="end-of-call-report"]`)
          .first()
          .click();
        await page.locator(tid('payload-viewer')).waitFor(WAIT);
        await page.locator(tid('replay-button')).waitFor(WAIT);
        await page.locator(tid('deliveries')).scrollIntoViewIfNeeded();
        await screenshot(page, 'deliveries');
      });

      await step(page, 'calls list', async () => {
        await page.locator(tid('nav-calls')).click();
        const row = page.locator(`${tid('call-row')}[data-call-id="${callId}"]`);
        await row.waitFor(WAIT);
        expect(await row.getAttribute('data-status')).toBe('finished');
        await screenshot(page, 'calls');
      });

      await step(page, 'settings', async () => {
        await page.locator(tid('nav-settings')).click();
        await page.waitForURL('**/settings', WAIT);
        await screenshot(page, 'settings');
      });
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('barge-in: the caller speaking over the welcome stops its playback in the page', async () => {
    // A long welcome the caller may interrupt; the caller speaks 2 s after the mic opens, when
    // the welcome is playing (its first sentence is synthesised in well under a second).
    const created = await server.api('POST', '/v1/assistants', {
      ...demoAssistant(),
      assistantServer: { url: server.receiver.url },
      name: 'Barge-in demo',
      welcomeMessage:
        'Hello, this is the Parley clinic. We are open Monday to Friday, from nine in the morning until five in the afternoon, and we are happy to help you with any appointment you need. Would you like to book an appointment?',
      welcomeMessageInterruptionsEnabled: true,
      bargeInEnabled: true,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const assistantId = created.json._id as string;
    const wav = join(wavDir, 'barge-in.wav');
    await writeCallerWav(wav, 'no thanks', { leadMs: 2_000, tailMs: 12_000 });
    const browser = await launchBrowser(wav);
    const { page } = browser;
    try {
      await step(page, 'sign in', () => signIn(page));
      await step(page, 'barge-in call', async () => {
        await page.goto(`${server.baseUrl}/talk/${assistantId}`);
        // Every change of the playback indicator, as it happens (the welcome's audio starts,
        // the caller's speech clears it).
        await page.locator(tid('playback-state')).waitFor(WAIT);
        // (A string: this project's types have no DOM; the script runs in the page.)
        await page.evaluate(`(() => {
          window.__playbackLog = [];
          const record = () => {
            const el = document.querySelector('[data-testid="playback-state"]');
            if (el) window.__playbackLog.push({
              clears: Number(el.getAttribute('data-clears')),
              playing: el.getAttribute('data-playing') ?? '',
            });
          };
          new MutationObserver(record).observe(document.body, {
            subtree: true, childList: true, attributes: true,
            attributeFilter: ['data-clears', 'data-playing'],
          });
        })()`);
        await page.locator(tid('start-voice-call')).click();
        await page.locator(`${tid('playback-state')}:not([data-clears="0"])`).waitFor({ timeout: 20_000 });
        await page
          .locator(`${tid('transcript-line')}[data-role="assistant"][data-interrupted="true"]`)
          .waitFor(WAIT);
        await screenshot(page, 'talk-barge-in');
        await page.locator(`${tid('call-status')}:text-is("finished")`).waitFor({ timeout: 30_000 });
      });
      const log = (await page.evaluate('window.__playbackLog')) as { clears: number; playing: string }[];
      const firstClear = log.findIndex((s) => s.clears > 0);
      expect(firstClear, JSON.stringify(log)).toBeGreaterThan(0);
      // The welcome was playing, and the moment it was cleared playback stopped.
      expect(
        log.slice(0, firstClear).some((s) => s.playing === 'true'),
        JSON.stringify(log),
      ).toBe(true);
      expect(log[firstClear]?.playing, JSON.stringify(log)).toBe('false');
      const sdk = (await page.evaluate('window.__parleyCall?.playback')) as { clears: number } | undefined;
      expect(sdk?.clears ?? 0).toBeGreaterThan(0);

      // The server kept only the heard part of the welcome, marked interrupted.
      const href = (await page.locator(tid('call-detail-link')).getAttribute('href')) ?? '';
      const callId = decodeURIComponent(href.split('/').pop() ?? '');
      await server.receiver.waitFor(
        () =>
          server.receiver.events.some(
            (e) => e.message?.call?.id === callId && e.message.type === 'end-of-call-report',
          ),
        20_000,
        'end-of-call-report',
      );
      const report = server.receiver.events.find(
        (e) => e.message?.call?.id === callId && e.message.type === 'end-of-call-report',
      )?.message;
      const messages = (report?.messages ?? []) as { role: string; interrupted?: boolean }[];
      expect(
        messages.some((m) => m.role === 'assistant' && m.interrupted),
        JSON.stringify(messages),
      ).toBe(true);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
