/** Hands out UDP port pairs (even RTP port, RTP+1 for RTCP) from the configured range. */
export class PortRangeExhaustedError extends Error {
  constructor(readonly first: number, readonly last: number) {
    super(`no free port pair in ${first}-${last}`);
    this.name = 'PortRangeExhaustedError';
  }
}

export class PortAllocator {
  private readonly inUse = new Set<number>();
  private next: number;

  constructor(
    private readonly first: number,
    private readonly last: number,
  ) {
    this.next = first % 2 === 0 ? first : first + 1;
  }

  /** The next free even port whose pair (port, port + 1) fits in the range, round-robin. */
  allocate(): number {
    const pairs = Math.floor((this.last - this.first + 1) / 2);
    for (let i = 0; i < pairs; i++) {
      const port = this.next;
      this.next = port + 2 > this.last - 1 ? (this.first % 2 === 0 ? this.first : this.first + 1) : port + 2;
      if (!this.inUse.has(port)) {
        this.inUse.add(port);
        return port;
      }
    }
    throw new PortRangeExhaustedError(this.first, this.last);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }

  get allocated(): number {
    return this.inUse.size;
  }
}
