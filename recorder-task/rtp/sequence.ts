/**
 * All RTP modular arithmetic lives here (RFC 3550 §A.1, RFC 1982 serial numbers), so nobody
 * hand-rolls `% 65535` (an off-by-one: the modulus of a 16-bit counter is 65536).
 *
 * The masks rely on JavaScript's ToInt32/ToUint32, which reduce any safe integer modulo 2^32
 * first: `x & 0xffff` and `x >>> 0` give the low 16/32 bits of an extended number of any size.
 */

const SEQUENCE_MODULUS = 0x1_0000;
const TIMESTAMP_MODULUS = 0x1_0000_0000;

/** Signed distance a − b between two 16-bit sequence numbers, in [−32768, 32767]. */
export const seqDiff = (a: number, b: number): number => ((a - b) << 16) >> 16;

/** True if `a` comes before `b` on the 16-bit circle (RFC 1982; exactly half apart counts as not before). */
export const seqLessThan = (a: number, b: number): boolean => {
  const d = seqDiff(a, b);
  return d < 0 && d !== -0x8000;
};

/** Signed distance a − b between two 32-bit RTP timestamps, in [−2^31, 2^31 − 1]. */
export const timestampDiff = (a: number, b: number): number => (a - b) | 0;

export const timestampLessThan = (a: number, b: number): boolean => {
  const d = timestampDiff(a, b);
  return d < 0 && d !== -0x8000_0000;
};

/**
 * Unwraps a wire counter into a monotonic "extended" number: each value is placed in the cycle
 * that puts it nearest to the highest one seen so far. Moving forward past the top of the range
 * starts a new cycle (RFC 3550's `cycles += RTP_SEQ_MOD`); a late value from before a wrap lands
 * in the previous cycle instead of 65536 ahead.
 *
 * Extended numbers start one cycle up (the first value v maps to modulus + v), so packets that
 * arrive late from before the first one, even across the wrap, still get non-negative numbers.
 * Feed values in arrival order: "nearest to the highest" is what makes reordering safe. A jump of
 * more than half the range (32767 lost packets in a row) is indistinguishable from a late packet.
 */
class CounterExtender {
  private highestExtended = -1;

  constructor(
    private readonly modulus: number,
    private readonly diff: (a: number, b: number) => number,
  ) {}

  extend(wireValue: number): number {
    if (this.highestExtended < 0) {
      this.highestExtended = this.modulus + wireValue;
      return this.highestExtended;
    }
    const extended = this.highestExtended + this.diff(wireValue, this.lowBits(this.highestExtended));
    if (extended > this.highestExtended) this.highestExtended = extended;
    return extended;
  }

  /** Highest extended value so far, −1 before the first. */
  get highest(): number {
    return this.highestExtended;
  }

  /** Completed wraps since the first value (RFC 3550's `cycles`, counted, not shifted). */
  get cycles(): number {
    return this.highestExtended < 0 ? 0 : Math.floor(this.highestExtended / this.modulus) - 1;
  }

  private lowBits(extended: number): number {
    return this.modulus === SEQUENCE_MODULUS ? extended & 0xffff : extended >>> 0;
  }
}

/** 16-bit RTP sequence numbers → extended sequence numbers. */
export class SequenceExtender extends CounterExtender {
  constructor() {
    super(SEQUENCE_MODULUS, seqDiff);
  }
}

/** 32-bit RTP timestamps → extended timestamps (half range 2^31, e.g. 6.6 h at 90 kHz). */
export class TimestampExtender extends CounterExtender {
  constructor() {
    super(TIMESTAMP_MODULUS, timestampDiff);
  }
}

/** The 16-bit wire value of an extended sequence number. */
export const wireSequence = (extended: number): number => extended & 0xffff;

/** The 32-bit wire value of an extended timestamp. */
export const wireTimestamp = (extended: number): number => extended >>> 0;
