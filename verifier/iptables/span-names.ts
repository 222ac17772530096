// Names read in place from a dump's text: a span gets the id of the equal name seen before without
// a new string, so the chain reader and the rule scanner do not slice (and hash) a chain's name for
// every rule that names it (a 10k-Service dump names its 50k chains 190k times).

/** Open addressing over FNV-1a hashes of the spans. */
export class SpanNames {
  readonly names: string[] = [];
  private slots = new Int32Array(1024).fill(-1);
  /** each name's hash, by id (typed: a hash is a 32-bit integer, never a heap number) */
  private hashes = new Int32Array(512);

  /** The id of the name s[from, to); the name is sliced once, the first time. */
  id(s: string, from: number, to: number): number {
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    const len = to - from;
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot];
      if (id < 0) {
        const fresh = this.names.length;
        if (fresh === this.hashes.length) {
          const more = new Int32Array(fresh * 2);
          more.set(this.hashes);
          this.hashes = more;
        }
        this.names.push(s.slice(from, to));
        this.hashes[fresh] = h;
        this.slots[slot] = fresh;
        if (this.names.length * 2 > this.slots.length) this.grow();
        return fresh;
      }
      if (this.hashes[id] === h) {
        const name = this.names[id];
        if (name.length === len && s.startsWith(name, from)) return id;
      }
    }
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.names.length; id++) {
      let slot = this.hashes[id] & mask;
      while (slots[slot] >= 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
}
