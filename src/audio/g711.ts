/**
 * G.711 µ-law / A-law (telephony) codecs. The per-sample codec comes from `alawmulaw`; these
 * wrappers only add encode/decode into caller-provided buffers so a per-frame path allocates
 * nothing (the library's array functions allocate a new array per call).
 */
import alawmulaw from 'alawmulaw';

const { alaw, mulaw } = alawmulaw;

/** Encodes `pcm` into `out` (at least `pcm.length` bytes); returns the byte count. */
export function mulawEncodeInto(pcm: Int16Array, out: Uint8Array): number {
  const n = pcm.length;
  if (out.length < n) throw new RangeError(`output holds ${out.length} bytes, need ${n}`);
  for (let i = 0; i < n; i++) out[i] = mulaw.encodeSample(pcm[i] ?? 0);
  return n;
}

/** Decodes µ-law bytes into `out` (at least `bytes.length` samples); returns the sample count. */
export function mulawDecodeInto(bytes: Uint8Array, out: Int16Array): number {
  const n = bytes.length;
  if (out.length < n) throw new RangeError(`output holds ${out.length} samples, need ${n}`);
  for (let i = 0; i < n; i++) out[i] = mulaw.decodeSample(bytes[i] ?? 0);
  return n;
}

export function alawEncodeInto(pcm: Int16Array, out: Uint8Array): number {
  const n = pcm.length;
  if (out.length < n) throw new RangeError(`output holds ${out.length} bytes, need ${n}`);
  for (let i = 0; i < n; i++) out[i] = alaw.encodeSample(pcm[i] ?? 0);
  return n;
}

export function alawDecodeInto(bytes: Uint8Array, out: Int16Array): number {
  const n = bytes.length;
  if (out.length < n) throw new RangeError(`output holds ${out.length} samples, need ${n}`);
  for (let i = 0; i < n; i++) out[i] = alaw.decodeSample(bytes[i] ?? 0);
  return n;
}

/** Allocating conveniences (whole buffers, not per-frame paths). */
export const mulawEncode = (pcm: Int16Array): Uint8Array => mulaw.encode(pcm);
export const mulawDecode = (bytes: Uint8Array): Int16Array => mulaw.decode(bytes);
export const alawEncode = (pcm: Int16Array): Uint8Array => alaw.encode(pcm);
export const alawDecode = (bytes: Uint8Array): Int16Array => alaw.decode(bytes);
