import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  checkAddress,
  classifyAddress,
  createGuardedLookup,
  isSsrfRefusedError,
  SsrfRefusedError,
  validateWebhookUrl,
} from '../../src/shared/network-guard.js';

const strict = { allowPrivate: false };
const dev = { allowPrivate: true };

describe('classifyAddress: refused classes', () => {
  const cases: [string, string][] = [
    // loopback
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    // private
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fec0::1', 'unique-local'],
    // link-local
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    // CGNAT
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    // multicast
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    // unspecified
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    // broadcast, reserved
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['250.1.2.3', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['100::1', 'reserved'],
    ['2001::1', 'reserved'],
    // benchmark, documentation
    ['198.18.0.1', 'benchmark'],
    ['198.19.255.255', 'benchmark'],
    ['2001:2::1', 'benchmark'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['2001:db8::1', 'documentation'],
    // cloud metadata
    ['169.254.169.254', 'cloud-metadata'],
    ['169.254.170.2', 'cloud-metadata'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['100.100.100.200', 'cloud-metadata'],
    // IPv4-mapped (dotted and hex)
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:a9fe:a9fe', 'cloud-metadata'],
    ['::ffff:192.168.0.1', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    // IPv4-translated (SIIT)
    ['::ffff:0:7f00:1', 'loopback'],
    // IPv4-compatible (deprecated)
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::10.0.0.1', 'private'],
    ['::169.254.169.254', 'cloud-metadata'],
    // NAT64 well-known prefix, and the local-use prefix as a whole
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::169.254.169.254', 'cloud-metadata'],
    ['64:ff9b:1::808:808', 'nat64-local'],
    ['64:ff9b:1:ffff::1', 'nat64-local'],
    // 6to4 embedding a refused IPv4
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:a9fe:a9fe::', 'cloud-metadata'],
    ['2002:a00:1:1::1', 'private'],
    // outside 2000::/3
    ['4000::1', 'reserved'],
    ['::8.8.8.8', 'reserved'],
    // not an address
    ['localhost', 'invalid'],
    ['', 'invalid'],
  ];
  it.each(cases)('%s is %s', (address, cls) => {
    const v = classifyAddress(address);
    expect(v.allowed).toBe(false);
    if (!v.allowed) expect(v.class).toBe(cls);
    expect(checkAddress(address, strict).allowed).toBe(false);
  });
});

describe('classifyAddress: allowed public addresses', () => {
  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
  ])('%s is allowed', (address) => {
    expect(classifyAddress(address)).toEqual({ allowed: true });
    expect(checkAddress(address, strict)).toEqual({ allowed: true });
  });
});

describe('allowPrivate', () => {
  it.each([
    '127.0.0.1',
    '::1',
    '10.0.0.1',
    '192.168.1.1',
    '172.20.0.5',
    'fd12::1',
    'fe80::1',
    '100.64.0.1',
    '::ffff:127.0.0.1',
    '64:ff9b::10.0.0.1',
  ])('lets %s through', (address) => {
    expect(checkAddress(address, strict).allowed).toBe(false);
    expect(checkAddress(address, dev).allowed).toBe(true);
  });

  it.each([
    '169.254.169.254',
    'fd00:ec2::254',
    '::ffff:169.254.169.254',
    '0.0.0.0',
    '::',
    '224.0.0.1',
    'ff02::1',
    '255.255.255.255',
    '240.0.0.1',
  ])('still refuses %s', (address) => {
    expect(checkAddress(address, dev).allowed).toBe(false);
  });
});

describe('validateWebhookUrl', () => {
  it('accepts http and https URLs with host names', () => {
    const r = validateWebhookUrl('https://hooks.example.com/parley?x=1', strict);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.literalIp).toBe(false);
    expect(validateWebhookUrl('http://example.com:8080/', strict).ok).toBe(true);
    expect(validateWebhookUrl('http://8.8.8.8/', strict).ok).toBe(true);
    expect(validateWebhookUrl('http://[2606:4700:4700::1111]/', strict).ok).toBe(true);
  });

  it.each([
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/',
    'data:text/plain,hi',
    'javascript:alert(1)',
    'not a url',
    '',
    'http://256.1.1.1/',
    'http://user:pass@example.com/',
  ])('refuses %j as invalid_url', (url) => {
    const r = validateWebhookUrl(url, strict);
    expect(r).toMatchObject({ ok: false, code: 'invalid_url' });
  });

  // What WHATWG URL does with odd spellings: it normalises them all to a canonical literal,
  // which is then vetted.
  it.each([
    ['http://127.0.0.1/', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0177.0.0.01/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://127.000.000.001/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://１２７.0.0.1/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://[::1]/', '::1'],
    ['http://[::]:8080/', '::'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', '::ffff:7f00:1'],
    ['http://[::127.0.0.1]/', '::7f00:1'],
    ['http://[64:ff9b::10.0.0.1]/', '64:ff9b::a00:1'],
    ['http://[2002:7f00:1::]/', '2002:7f00:1::'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254'],
    ['http://100.100.100.200/', '100.100.100.200'],
    ['https://10.0.0.1/', '10.0.0.1'],
  ])('%s (hostname %s) is refused as ssrf_refused', (url, host) => {
    expect(new URL(url).hostname.replace(/^\[|\]$/g, '')).toBe(host);
    expect(validateWebhookUrl(url, strict)).toMatchObject({ ok: false, code: 'ssrf_refused' });
  });

  it('lets literal loopback through with allowPrivate, never metadata', () => {
    expect(validateWebhookUrl('http://127.0.0.1:3000/hook', dev).ok).toBe(true);
    expect(validateWebhookUrl('http://[::1]:3000/hook', dev).ok).toBe(true);
    expect(validateWebhookUrl('http://169.254.169.254/', dev)).toMatchObject({
      ok: false,
      code: 'ssrf_refused',
    });
  });

  it('leaves host names to the connect-time check', () => {
    expect(validateWebhookUrl('http://localhost:3000/', strict)).toMatchObject({
      ok: true,
      literalIp: false,
    });
  });
});

function lookupWith(
  answers: LookupAddress[],
  allowPrivate: boolean,
): (all: boolean) => Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }> {
  const lookup = createGuardedLookup({ allowPrivate, resolveAll: async () => answers });
  return (all) =>
    new Promise((resolve) => {
      lookup('hook.example.test', { all }, (err, address, family) => resolve({ err, address, family }));
    });
}

describe('createGuardedLookup', () => {
  it('drops refused addresses and keeps vetted ones', async () => {
    const run = lookupWith(
      [
        { address: '127.0.0.1', family: 4 },
        { address: '93.184.216.34', family: 4 },
        { address: '::ffff:10.0.0.1', family: 6 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
      false,
    );
    const all = await run(true);
    expect(all.err).toBeNull();
    expect(all.address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
    const one = await run(false);
    expect(one).toMatchObject({ err: null, address: '93.184.216.34', family: 4 });
  });

  it('fails with SsrfRefusedError when every address is refused', async () => {
    const run = lookupWith(
      [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
        { address: '64:ff9b::7f00:1', family: 6 },
      ],
      false,
    );
    const r = await run(true);
    expect(r.err).toBeInstanceOf(SsrfRefusedError);
    expect(isSsrfRefusedError(r.err)).toBe(true);
    expect(r.err?.message).toContain('loopback');
  });

  it('allowPrivate keeps loopback but still drops metadata', async () => {
    const run = lookupWith(
      [
        { address: '169.254.169.254', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
      true,
    );
    expect((await run(true)).address).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('passes DNS errors through', async () => {
    const lookup = createGuardedLookup({
      allowPrivate: false,
      resolveAll: async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND nope.test'), { code: 'ENOTFOUND' });
      },
    });
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      lookup('nope.test', { all: true }, (e) => resolve(e)),
    );
    expect(err?.code).toBe('ENOTFOUND');
    expect(isSsrfRefusedError(err)).toBe(false);
  });

  it('resolves localhost for real and refuses it', async () => {
    const lookup = createGuardedLookup({ allowPrivate: false });
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      lookup('localhost', { all: true }, (e) => resolve(e)),
    );
    expect(isSsrfRefusedError(err)).toBe(true);
  });
});
