/**
 * The few VP8/VP9 bitstream and payload-descriptor bits finalization reads itself, where
 * werift-rtp 0.8.9 gets them wrong for streams we record:
 * - VP8 (RFC 7741 §4.2): werift skips the TID/Y/KEYIDX octet when L or K is set, instead of
 *   T or K, so a T-only descriptor leaks a byte into the frame and an L-only one eats one.
 * - VP9: werift takes keyframes from the descriptor's P bit, which ffmpeg 5.1's packetizer
 *   never sets, so every ffmpeg VP9 frame reads as a keyframe.
 */

/**
 * Length of a VP8 payload descriptor, or −1 if the payload is shorter than it.
 *
 *        0 1 2 3 4 5 6 7
 *       +-+-+-+-+-+-+-+-+
 *       |X|R|N|S|R| PID |   S: start of a partition, PID: partition index
 *       +-+-+-+-+-+-+-+-+
 *  X:   |I|L|T|K| RSV   |   extension flags (if X)
 *  I:   |M| PictureID   |   + 1 more octet if M (15-bit picture id)
 *  L:   |   TL0PICIDX   |
 *  T/K: |TID|Y| KEYIDX  |   present if T or K
 */
export const vp8DescriptorBytes = (payload: Uint8Array): number => {
  const first = payload[0];
  if (first === undefined) return -1;
  let bytes = 1;
  if ((first & 0x80) !== 0) {
    const extension = payload[1];
    if (extension === undefined) return -1;
    bytes = 2;
    if ((extension & 0x80) !== 0) bytes += ((payload[2] ?? 0) & 0x80) !== 0 ? 2 : 1;
    if ((extension & 0x40) !== 0) bytes += 1;
    if ((extension & 0x30) !== 0) bytes += 1;
  }
  return bytes <= payload.length ? bytes : -1;
};

/** The first packet of a VP8 frame: S = 1, partition index 0, and the frame tag after the descriptor. */
export const vp8StartsFrame = (payload: Uint8Array): boolean => {
  const descriptorBytes = vp8DescriptorBytes(payload);
  return ((payload[0] ?? 0) & 0x17) === 0x10 && descriptorBytes > 0 && descriptorBytes < payload.length;
};

/** A VP8 frame's data from its packets' payloads; undefined if a descriptor is malformed. */
export const vp8Depacketize = (payloads: readonly Uint8Array[]): Buffer | undefined => {
  const parts: Uint8Array[] = [];
  for (const payload of payloads) {
    const descriptorBytes = vp8DescriptorBytes(payload);
    if (descriptorBytes < 0) return undefined;
    parts.push(payload.subarray(descriptorBytes));
  }
  return Buffer.concat(parts);
};

/** VP8 frame tag (RFC 6386 §9.1): bit 0 of the first byte is 0 for a keyframe. */
export const vp8IsKeyframe = (frame: Uint8Array): boolean => frame.length > 0 && (frame[0]! & 0x01) === 0;

/** VP8 keyframes carry the picture size: 3-byte tag, start code 9d 01 2a, 14-bit sizes. */
export const vp8KeyframeSize = (frame: Uint8Array): { widthPx: number; heightPx: number } | undefined => {
  if (frame.length < 10 || !vp8IsKeyframe(frame)) return undefined;
  if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return undefined;
  return { widthPx: (frame[6]! | (frame[7]! << 8)) & 0x3fff, heightPx: (frame[8]! | (frame[9]! << 8)) & 0x3fff };
};

/**
 * VP9 keyframe from the frame's uncompressed header (VP9 spec §6.2): frame_marker (2 bits = 2),
 * profile (2 bits, + a reserved bit in profile 3), show_existing_frame, then frame_type (0 = key).
 */
export const vp9IsKeyframe = (frame: Uint8Array): boolean => {
  const byte = frame[0];
  if (byte === undefined || byte >> 6 !== 2) return false;
  const profile = ((byte >> 5) & 1) | (((byte >> 4) & 1) << 1);
  const showExistingBit = profile === 3 ? 2 : 3;
  if ((byte >> showExistingBit) & 1) return false;
  return ((byte >> (showExistingBit - 1)) & 1) === 0;
};
