// Log-bucketed latency histogram (2% resolution, 1 µs .. ~10 min), cheap to fill and to
// merge across processes.
const RATIO = 1.02;
const LN = Math.log(RATIO);
const N = 1200;

export class Hist {
  constructor() {
    this.counts = new Uint32Array(N);
    this.n = 0;
    this.sum = 0;
    this.max = 0;
  }
  /** @param {number} ms */
  add(ms) {
    const us = ms * 1000;
    const i = us <= 1 ? 0 : Math.min(N - 1, Math.ceil(Math.log(us) / LN));
    this.counts[i]++;
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }
  /** Upper bound of the bucket holding the p-quantile, in ms (null when empty). */
  pct(p) {
    if (this.n === 0) return null;
    const rank = Math.max(1, Math.ceil(p * this.n));
    let cum = 0;
    for (let i = 0; i < N; i++) {
      cum += this.counts[i];
      if (cum >= rank) return Math.min(this.max, RATIO ** i / 1000);
    }
    return this.max;
  }
  toJSON() {
    const sparse = [];
    for (let i = 0; i < N; i++) if (this.counts[i]) sparse.push(i, this.counts[i]);
    return { sparse, n: this.n, sum: this.sum, max: this.max };
  }
  static from(obj) {
    const h = new Hist();
    if (obj) h.merge(obj);
    return h;
  }
  merge(obj) {
    const sp = obj.sparse ?? [];
    for (let k = 0; k < sp.length; k += 2) this.counts[sp[k]] += sp[k + 1];
    this.n += obj.n;
    this.sum += obj.sum;
    if (obj.max > this.max) this.max = obj.max;
    return this;
  }
  summary() {
    return {
      n: this.n,
      mean: this.n ? this.sum / this.n : null,
      p50: this.pct(0.5),
      p95: this.pct(0.95),
      p99: this.pct(0.99),
      max: this.n ? this.max : null,
    };
  }
}
