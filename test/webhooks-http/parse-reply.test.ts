import { describe, expect, it } from 'vitest';
import { parseAssistantRequestReply, parseToolCallsReply } from '../../src/webhooks/http/parse-reply.js';

const one = ['call_1'];
const two = ['call_1', 'call_2'];

describe('parseToolCallsReply', () => {
  it('1. results with tool_call_id or toolCallId', () => {
    const r = parseToolCallsReply(
      JSON.stringify({
        results: [
          { tool_call_id: 'call_1', result: { name: 'Jan' } },
          { toolCallId: 'call_2', result: 'done' },
        ],
      }),
      two,
    );
    expect(r).toEqual({
      usable: true,
      format: 'results',
      results: { call_1: { ok: true, result: { name: 'Jan' } }, call_2: { ok: true, result: 'done' } },
      missing: [],
      unknown: [],
    });
  });

  it('1. per-item errors, missing and unknown ids', () => {
    const r = parseToolCallsReply(
      JSON.stringify({
        results: [
          { tool_call_id: 'call_2', error: 'boom' },
          { tool_call_id: 'call_9', result: 1 },
        ],
      }),
      two,
    );
    expect(r).toMatchObject({
      usable: true,
      format: 'results',
      results: { call_1: { ok: false }, call_2: { ok: false, error: 'boom' } },
      missing: ['call_1'],
      unknown: ['call_9'],
    });
  });

  it('1. one call, one item without an id', () => {
    const r = parseToolCallsReply('{"results":[{"result":42}]}', one);
    expect(r).toMatchObject({ format: 'results', results: { call_1: { ok: true, result: 42 } } });
  });

  it('a "results" field that is the tool\'s own data is a direct result', () => {
    const data = { results: ['a', 'b'], total: 2 };
    expect(parseToolCallsReply(JSON.stringify(data), one)).toMatchObject({
      format: 'direct',
      results: { call_1: { ok: true, result: data } },
    });
    expect(parseToolCallsReply('{"results":[]}', one)).toMatchObject({ format: 'direct' });
  });

  it('2. {"result": …}', () => {
    expect(parseToolCallsReply('{"result":{"name":"Jan"}}', one)).toEqual({
      usable: true,
      format: 'result',
      results: { call_1: { ok: true, result: { name: 'Jan' } } },
      missing: [],
      unknown: [],
    });
    expect(parseToolCallsReply('{"result":null}', one)).toMatchObject({
      format: 'result',
      results: { call_1: { ok: true, result: null } },
    });
  });

  it('3. any other JSON value is the result', () => {
    for (const v of [{ name: 'Jan' }, 'plain string', 42, true, null, [1, 2]]) {
      expect(parseToolCallsReply(JSON.stringify(v), two)).toMatchObject({
        usable: true,
        format: 'direct',
        results: { call_1: { ok: true, result: v }, call_2: { ok: true, result: v } },
      });
    }
  });

  it('4. {"error": "…"}', () => {
    expect(parseToolCallsReply('{"error":"Contact not found"}', one)).toEqual({
      usable: true,
      format: 'error',
      results: { call_1: { ok: false, error: 'Contact not found' } },
      missing: [],
      unknown: [],
    });
    expect(parseToolCallsReply('{"error":{"message":"nope","code":404}}', one)).toMatchObject({
      format: 'error',
      results: { call_1: { ok: false, error: 'nope' } },
    });
    // a null/empty error field is data, not an error
    expect(parseToolCallsReply('{"error":null,"data":1}', one)).toMatchObject({ format: 'direct' });
  });

  it('empty and non-JSON bodies are unusable with a reason', () => {
    expect(parseToolCallsReply('', one)).toEqual({ usable: false, reason: 'the reply was empty' });
    expect(parseToolCallsReply('   ', one)).toMatchObject({ usable: false });
    expect(parseToolCallsReply(undefined, one)).toMatchObject({ usable: false });
    const r = parseToolCallsReply('<html>Bad Gateway</html>', one);
    expect(r.usable).toBe(false);
    if (!r.usable) expect(r.reason).toMatch(/not JSON/);
  });
});

describe('parseAssistantRequestReply', () => {
  it('{} means defaults', () => {
    expect(parseAssistantRequestReply('{}')).toEqual({ kind: 'defaults' });
    expect(parseAssistantRequestReply('{"metadata":{"crm":"7"}}')).toEqual({
      kind: 'defaults',
      metadata: { crm: '7' },
    });
  });

  it('a transient assistant', () => {
    expect(parseAssistantRequestReply('{"assistant":{"name":"Ava"},"metadata":{"a":1}}')).toEqual({
      kind: 'assistant',
      assistant: { name: 'Ava' },
      metadata: { a: 1 },
    });
  });

  it('an assistant id with overrides', () => {
    expect(
      parseAssistantRequestReply('{"assistantId":"asst_1","assistantOverrides":{"firstMessage":"Hi"}}'),
    ).toEqual({ kind: 'assistantId', assistantId: 'asst_1', assistantOverrides: { firstMessage: 'Hi' } });
    expect(parseAssistantRequestReply('{"assistantId":"asst_1"}')).toEqual({
      kind: 'assistantId',
      assistantId: 'asst_1',
    });
  });

  it('an error wins', () => {
    expect(parseAssistantRequestReply('{"error":"We are closed","assistantId":"x"}')).toEqual({
      kind: 'error',
      error: 'We are closed',
    });
  });

  it.each([
    ['', /empty/],
    ['nope', /not JSON/],
    ['[]', /object/],
    ['"x"', /object/],
    ['{"assistant":"Ava"}', /"assistant"/],
    ['{"assistantId":""}', /"assistantId"/],
    ['{"assistantId":5}', /"assistantId"/],
    ['{"assistantId":"a","assistantOverrides":[]}', /"assistantOverrides"/],
    ['{"assistantOverrides":{"x":1}}', /"assistantId"/],
    ['{"assistant":{},"assistantId":"a"}', /both/],
    ['{"error":""}', /"error"/],
    ['{"metadata":"x"}', /"metadata"/],
  ])('%j is unusable', (body, reason) => {
    const r = parseAssistantRequestReply(body);
    expect(r.kind).toBe('unusable');
    if (r.kind === 'unusable') expect(r.reason).toMatch(reason);
  });
});
