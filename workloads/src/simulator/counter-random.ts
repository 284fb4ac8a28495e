// Counter-based pseudo-random numbers: every value is a pure function of its coordinates
// (seed, symbol, stream, position), so any quote can be recomputed for any instant
// without replaying a sequence from an origin. That is what lets the REST server build
// bars for arbitrary past windows that match what the WebSocket stream sent.
// Mixing steps are MurmurHash3's (32-bit), which spread single-bit input changes well.

// Hot paths use local aliases of Math functions: inside a vm context (Jest runs tests in
// one) every access to the global `Math` goes through a slow interceptor.
const { imul, floor } = Math;

function mixIn(hash: number, value: number): number {
  let k = imul(value | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = imul(k, 0x1b873593);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO_POW_32 = 4294967296;

/**
 * 32-bit hash of (key, stream, position, sub). `key` combines seed and symbol (see
 * `streamKey`); `position` is any non-negative integer below 2^53 (e.g. a time in ms).
 */
export function counterHash(key: number, stream: number, position: number, sub = 0): number {
  let h = mixIn(key, stream);
  h = mixIn(h, position >>> 0);
  h = mixIn(h, floor(position / TWO_POW_32));
  h = mixIn(h, sub);
  return finalize(h);
}

/** Key for one (seed, symbol): FNV-1a of the symbol folded into the seed. */
export function streamKey(seed: number, symbol: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < symbol.length; i++) {
    h ^= symbol.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return finalize(mixIn(h, seed));
}

/** Uniform in [0, 1). */
export function uniform(hash: number): number {
  return hash / TWO_POW_32;
}

/**
 * Bell-shaped value in [-1, 1] with variance 1/6 (sum of two 16-bit uniforms): cheap and
 * bounded, which keeps every price path finite.
 */
export function triangular(hash: number): number {
  return ((hash & 0xffff) + (hash >>> 16)) / 65535 - 1;
}
