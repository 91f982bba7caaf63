/**
 * SSRF guard for outgoing webhook requests.
 *
 * Two layers, as Svix does it (see /work/shared/REFERENCES.md, "Webhook delivery"):
 *
 * 1. {@link validateWebhookUrl} checks the URL before any connection: scheme http:/https: only, no
 *    credentials, and a literal IP host (after WHATWG URL normalisation, which already turns
 *    `http://2130706433/`, `http://0x7f.1/`, `http://0177.0.0.01/` into `127.0.0.1` and
 *    `http://[::ffff:127.0.0.1]/` into `[::ffff:7f00:1]`) is vetted with {@link checkAddress}.
 * 2. {@link createGuardedAgent} returns an undici `Agent` whose connector resolves host names
 *    itself (node:dns `lookup` with `all: true`), drops every address that {@link checkAddress}
 *    refuses and hands only the vetted addresses to `net.connect`/`tls.connect` through their
 *    `lookup` option. Node connects to exactly the addresses that lookup returned (with
 *    happy-eyeballs across them), so the vetted address is the one that is connected to: there is
 *    no second resolution an attacker could rebind. The URL's host name is untouched, so TLS SNI and
 *    certificate checks still use the original host name. Literal IPs reaching the connector (Node
 *    skips `lookup` for them) are vetted there too.
 *
 * CIDR matching uses node:net `BlockList` (no dependency; the `ip` package has CVEs). IPv6 forms that
 * embed an IPv4 address (IPv4-mapped `::ffff:0:0/96`, IPv4-translated `::ffff:0:0:0/96`,
 * IPv4-compatible `::/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are not parsed by hand: every
 * refused IPv4 range is also added to the BlockList in each of those embeddings, so matching stays
 * inside BlockList. The local-use NAT64 prefix `64:ff9b:1::/48` is refused as a whole: its layout
 * is chosen by the local operator, so the IPv4 address it reaches cannot be known.
 */
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';

/** Why an address is refused. */
export type AddressClass =
  | 'cloud-metadata'
  | 'unspecified'
  | 'broadcast'
  | 'multicast'
  | 'reserved'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'cgnat'
  | 'benchmark'
  | 'documentation'
  | 'nat64-local'
  | 'invalid';

export type AddressVerdict =
  | { allowed: true }
  | {
      allowed: false;
      class: AddressClass;
      /** True when `allowPrivate` would have let this address through. */
      privateTier: boolean;
      reason: string;
    };

export interface GuardOptions {
  /** Let loopback, private, link-local, unique-local, CGNAT, benchmark and documentation addresses
   * through (development; the server sets it from `PARLEY_ALLOW_PRIVATE_WEBHOOKS=1`). Cloud metadata,
   * unspecified, broadcast, multicast and reserved addresses stay refused. */
  allowPrivate: boolean;
}

/** Error raised (and passed to socket callbacks) when a destination is refused. */
export class SsrfRefusedError extends Error {
  readonly code = 'ERR_SSRF_REFUSED';
  constructor(
    message: string,
    readonly hostname: string,
    readonly address?: string,
    readonly addressClass?: AddressClass,
  ) {
    super(message);
    this.name = 'SsrfRefusedError';
  }
}

/** The refusal in an error or its `cause` chain (fetch and socket errors wrap it); else undefined. */
export function findSsrfRefusal(err: unknown): { message: string; hostname: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e && typeof e === 'object'; depth++) {
    if (e instanceof SsrfRefusedError) return e;
    const { code, message, hostname } = e as { code?: unknown; message?: unknown; hostname?: unknown };
    if (code === 'ERR_SSRF_REFUSED') {
      return {
        message: typeof message === 'string' ? message : 'refused to connect',
        hostname: typeof hostname === 'string' ? hostname : '',
      };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isSsrfRefusedError(err: unknown): boolean {
  return findSsrfRefusal(err) !== undefined;
}

interface RangeRule {
  cls: Exclude<AddressClass, 'invalid'>;
  privateTier: boolean;
  v4: string[];
  v6: string[];
}

// Order matters: the first matching class names the refusal (metadata before link-local, etc.).
const RULES: RangeRule[] = [
  {
    cls: 'cloud-metadata',
    privateTier: false,
    // AWS/GCP/Azure/OpenStack IMDS, AWS ECS task metadata, Alibaba, Oracle, Azure wireserver, AWS IPv6 IMDS.
    v4: [
      '169.254.169.254/32',
      '169.254.170.2/32',
      '100.100.100.200/32',
      '192.0.0.192/32',
      '168.63.129.16/32',
    ],
    v6: ['fd00:ec2::254/128'],
  },
  { cls: 'unspecified', privateTier: false, v4: ['0.0.0.0/8'], v6: ['::/128'] },
  { cls: 'broadcast', privateTier: false, v4: ['255.255.255.255/32'], v6: [] },
  { cls: 'multicast', privateTier: false, v4: ['224.0.0.0/4'], v6: ['ff00::/8'] },
  {
    cls: 'reserved',
    privateTier: false,
    // 240/4 future use; 192.0.0.0/24 IETF protocol assignments; 192.88.99.0/24 deprecated 6to4 relay;
    // 100::/64 discard-only; 2001::/32 Teredo (embeds an obfuscated address); 5f00::/16 SRv6 SIDs.
    v4: ['240.0.0.0/4', '192.0.0.0/24', '192.88.99.0/24'],
    v6: ['100::/64', '2001::/32', '5f00::/16'],
  },
  { cls: 'loopback', privateTier: true, v4: ['127.0.0.0/8'], v6: ['::1/128'] },
  { cls: 'private', privateTier: true, v4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], v6: [] },
  { cls: 'link-local', privateTier: true, v4: ['169.254.0.0/16'], v6: ['fe80::/10'] },
  // fec0::/10 is the deprecated site-local range: private in practice.
  { cls: 'unique-local', privateTier: true, v4: [], v6: ['fc00::/7', 'fec0::/10'] },
  { cls: 'cgnat', privateTier: true, v4: ['100.64.0.0/10'], v6: [] },
  { cls: 'benchmark', privateTier: true, v4: ['198.18.0.0/15'], v6: ['2001:2::/48'] },
  {
    cls: 'documentation',
    privateTier: true,
    v4: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'],
    v6: ['2001:db8::/32', '3fff::/20'],
  },
  { cls: 'nat64-local', privateTier: true, v4: [], v6: ['64:ff9b:1::/48'] },
];

/** IPv6 prefixes (all /96 except 6to4) that carry an IPv4 address in their low bits. */
interface Embedding {
  name: string;
  /** Builds the IPv6 subnet for an IPv4 subnet. */
  subnet(v4: string, prefix: number): [string, number];
}

function v4Hextets(v4: string): [string, string] {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

const EMBEDDINGS: Embedding[] = [
  {
    name: 'IPv4-mapped',
    subnet: (v4, p) => {
      const [h, l] = v4Hextets(v4);
      return [`::ffff:${h}:${l}`, 96 + p];
    },
  },
  {
    name: 'IPv4-translated',
    subnet: (v4, p) => {
      const [h, l] = v4Hextets(v4);
      return [`::ffff:0:${h}:${l}`, 96 + p];
    },
  },
  {
    name: 'IPv4-compatible',
    subnet: (v4, p) => {
      const [h, l] = v4Hextets(v4);
      return [`::${h}:${l}`, 96 + p];
    },
  },
  {
    name: 'NAT64',
    subnet: (v4, p) => {
      const [h, l] = v4Hextets(v4);
      return [`64:ff9b::${h}:${l}`, 96 + p];
    },
  },
  {
    name: '6to4',
    subnet: (v4, p) => {
      const [h, l] = v4Hextets(v4);
      return [`2002:${h}:${l}::`, 16 + p];
    },
  },
];

interface CompiledRule {
  rule: RangeRule;
  native: BlockList;
  embedded: { name: string; list: BlockList }[];
}

const COMPILED: CompiledRule[] = RULES.map((rule) => {
  const native = new BlockList();
  for (const cidr of rule.v4) {
    const [net, p] = cidr.split('/') as [string, string];
    native.addSubnet(net, Number(p), 'ipv4');
  }
  for (const cidr of rule.v6) {
    const [net, p] = cidr.split('/') as [string, string];
    native.addSubnet(net, Number(p), 'ipv6');
  }
  const embedded = EMBEDDINGS.map((emb) => {
    const list = new BlockList();
    for (const cidr of rule.v4) {
      const [net, p] = cidr.split('/') as [string, string];
      const [v6, prefix] = emb.subnet(net, Number(p));
      list.addSubnet(v6, prefix, 'ipv6');
    }
    return { name: emb.name, list };
  });
  return { rule, native, embedded };
});

// IPv6 space a public destination may live in: global unicast 2000::/3, plus the IPv4-embedding
// prefixes (their embedded IPv4 address has been vetted by the rules above by then).
const V6_GLOBAL = new BlockList();
V6_GLOBAL.addSubnet('2000::', 3, 'ipv6');
V6_GLOBAL.addSubnet('::ffff:0:0', 96, 'ipv6');
V6_GLOBAL.addSubnet('::ffff:0:0:0', 96, 'ipv6');
V6_GLOBAL.addSubnet('64:ff9b::', 96, 'ipv6');

/** Strips `[...]` and an IPv6 zone id (`fe80::1%eth0`); BlockList would silently not match them. */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  return a.toLowerCase();
}

/**
 * Verdicts are pure functions of the address text, and each `BlockList.check` allocates a
 * `SocketAddress`: a small cache keeps that off the per-request path for literal-IP URLs.
 */
const verdictCache = new Map<string, AddressVerdict>();

/** Classifies one IP address (v4 or v6, any textual form Node accepts). Unknown text is refused. */
export function classifyAddress(address: string): AddressVerdict {
  let verdict = verdictCache.get(address);
  if (!verdict) {
    verdict = classifyUncached(address);
    if (verdictCache.size >= 4096) verdictCache.clear();
    verdictCache.set(address, verdict);
  }
  return verdict;
}

function classifyUncached(address: string): AddressVerdict {
  const ip = normalizeAddress(address);
  const family = isIP(ip);
  if (family === 0) {
    return {
      allowed: false,
      class: 'invalid',
      privateTier: false,
      reason: `"${address}" is not an IP address`,
    };
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const c of COMPILED) {
    if (c.native.check(ip, type)) {
      return {
        allowed: false,
        class: c.rule.cls,
        privateTier: c.rule.privateTier,
        reason: `${address} is a ${c.rule.cls} address`,
      };
    }
  }
  if (type === 'ipv4') return { allowed: true };
  for (const c of COMPILED) {
    for (const e of c.embedded) {
      if (e.list.check(ip, 'ipv6')) {
        return {
          allowed: false,
          class: c.rule.cls,
          privateTier: c.rule.privateTier,
          reason: `${address} is a ${c.rule.cls} address in ${e.name} IPv6 form`,
        };
      }
    }
  }
  if (!V6_GLOBAL.check(ip, 'ipv6')) {
    return {
      allowed: false,
      class: 'reserved',
      privateTier: false,
      reason: `${address} is outside global unicast IPv6 space (2000::/3)`,
    };
  }
  return { allowed: true };
}

/** {@link classifyAddress} with the `allowPrivate` policy applied. */
export function checkAddress(address: string, opts: GuardOptions): AddressVerdict {
  const v = classifyAddress(address);
  if (!v.allowed && v.privateTier && opts.allowPrivate) return { allowed: true };
  return v;
}

export type UrlCheck =
  | { ok: true; url: URL; hostname: string; literalIp: boolean }
  | { ok: false; code: 'invalid_url' | 'ssrf_refused'; message: string };

/**
 * Pre-flight check of a webhook URL (no DNS): parse with WHATWG URL, only http:/https:, no
 * credentials (undici would silently drop them), and a literal IP host must pass {@link checkAddress}.
 * Host names are vetted at connect time by the guarded agent, after resolution.
 */
export function validateWebhookUrl(raw: string | URL, opts: GuardOptions): UrlCheck {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    return { ok: false, code: 'invalid_url', message: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      ok: false,
      code: 'invalid_url',
      message: `scheme ${url.protocol} is not allowed (http: or https: only)`,
    };
  }
  if (url.username || url.password) {
    return {
      ok: false,
      code: 'invalid_url',
      message: 'credentials in the URL are not supported; send an Authorization header instead',
    };
  }
  const hostname = normalizeAddress(url.hostname);
  if (!hostname) return { ok: false, code: 'invalid_url', message: 'URL has no host' };
  if (isIP(hostname) !== 0) {
    const v = checkAddress(hostname, opts);
    if (!v.allowed) return { ok: false, code: 'ssrf_refused', message: v.reason };
    return { ok: true, url, hostname, literalIp: true };
  }
  return { ok: true, url, hostname, literalIp: false };
}

/** Resolves a host name to every address (node:dns `lookup`, `all: true`). Injectable for tests. */
export type ResolveAll = (hostname: string, options: dns.LookupOptions) => Promise<dns.LookupAddress[]>;

const defaultResolveAll: ResolveAll = (hostname, options) =>
  dns.promises.lookup(hostname, { ...options, all: true });

export interface GuardedLookupOptions extends GuardOptions {
  resolveAll?: ResolveAll;
}

/**
 * A `lookup` for `net.connect`/`tls.connect` that resolves every address, drops the refused ones and
 * fails with {@link SsrfRefusedError} when none is left. Honours `options.all` (Node asks for all
 * addresses when happy-eyeballs `autoSelectFamily` is on) and `options.family`.
 */
export function createGuardedLookup(opts: GuardedLookupOptions): LookupFunction {
  const resolveAll = opts.resolveAll ?? defaultResolveAll;
  return (hostname, options, callback) => {
    const { all, ...rest } = options ?? {};
    resolveAll(hostname, rest).then(
      (addresses) => {
        const refused: string[] = [];
        const vetted: dns.LookupAddress[] = [];
        for (const a of addresses) {
          const v = checkAddress(a.address, opts);
          if (v.allowed) vetted.push({ address: normalizeAddress(a.address), family: a.family });
          else refused.push(v.reason);
        }
        const first = vetted[0];
        if (!first) {
          const why = refused.length > 0 ? refused.join('; ') : 'no addresses';
          const err = new SsrfRefusedError(`refused to connect to ${hostname}: ${why}`, hostname);
          callback(err as NodeJS.ErrnoException, all ? [] : '', undefined);
          return;
        }
        if (all) callback(null, vetted);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, all ? [] : '', undefined),
    );
  };
}

export interface GuardedAgentOptions extends GuardedLookupOptions {
  /** undici Agent options (timeouts, pool sizes); `connect` is replaced by the guarded connector. */
  agentOptions?: Omit<Agent.Options, 'connect'>;
  /** TLS/TCP options for the connector (e.g. `ca` in tests, connect `timeout`). */
  connectOptions?: buildConnector.BuildOptions;
}

/** An undici Agent that only ever connects to vetted addresses. */
export function createGuardedAgent(opts: GuardedAgentOptions): Agent {
  const base = buildConnector({
    ...(opts.connectOptions as object),
    lookup: createGuardedLookup(opts),
  } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (options, callback) => {
    // Node's net skips `lookup` for literal IPs, so they are vetted here.
    const host = normalizeAddress(options.hostname);
    if (isIP(host) !== 0) {
      const v = checkAddress(host, opts);
      if (!v.allowed) {
        const err = new SsrfRefusedError(`refused to connect to ${host}: ${v.reason}`, host, host, v.class);
        queueMicrotask(() => callback(err, null));
        return;
      }
    }
    base(options, callback);
  };
  return new Agent({ ...opts.agentOptions, connect });
}

const agents = new Map<boolean, Agent>();

/** The process-wide guarded Agent for this policy (two at most: allowPrivate false and true). */
export function getGuardedAgent(allowPrivate: boolean): Agent {
  let agent = agents.get(allowPrivate);
  if (!agent) {
    agent = createGuardedAgent({
      allowPrivate,
      agentOptions: { keepAliveTimeout: 4_000, connections: 64 },
      connectOptions: { timeout: 30_000 },
    });
    agents.set(allowPrivate, agent);
  }
  return agent;
}

/** Closes the cached agents (tests, graceful shutdown). */
export async function closeGuardedAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close()));
}
