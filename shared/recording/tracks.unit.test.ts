import { describe, expect, it } from 'vitest';
import { RegisterTracksRequestSchema, RoomEventsRequestSchema, TrackDescriptorSchema, tracksFromSdp } from './tracks.ts';

/** The issue paths of a failed parse, dotted like the HTTP edge reports them. */
function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => issue.path.map(String).join('.'));
}

describe('TrackDescriptorSchema', () => {
  it('normalizes an opus descriptor: lower-case codec, kind audio, 48000 Hz, 2 channels by default', () => {
    expect(TrackDescriptorSchema.parse({ ssrc: 1111, payload_type: 111, codec: 'OPUS' })).toEqual({
      ssrc: 1111,
      payload_type: 111,
      codec: 'opus',
      kind: 'audio',
      clock_rate: 48000,
      channels: 2,
    });
  });

  it('reads the codec case-insensitively', () => {
    for (const codec of ['vp8', 'VP8', 'Vp8']) expect(TrackDescriptorSchema.parse({ payload_type: 96, codec }).codec).toBe('vp8');
    expect(TrackDescriptorSchema.parse({ payload_type: 102, codec: 'H264' }).codec).toBe('h264');
  });

  it('defaults video codecs to 90000 Hz, kind video and no channels', () => {
    for (const codec of ['vp8', 'vp9', 'h264']) {
      const track = TrackDescriptorSchema.parse({ payload_type: 96, codec });
      expect(track).toMatchObject({ codec, kind: 'video', clock_rate: 90000 });
      expect(track.channels).toBeUndefined();
    }
  });

  it('keeps a clock rate, channel count and the descriptive fields that are given', () => {
    const track = TrackDescriptorSchema.parse({
      ssrc: 0xffffffff,
      payload_type: 97,
      codec: 'opus',
      clock_rate: 48000,
      channels: 1,
      kind: 'audio',
      peer_id: 'peer-a',
      display_name: 'Ada',
      track_type: 'microphone',
    });
    expect(track).toEqual({
      ssrc: 0xffffffff,
      payload_type: 97,
      codec: 'opus',
      clock_rate: 48000,
      channels: 1,
      kind: 'audio',
      peer_id: 'peer-a',
      display_name: 'Ada',
      track_type: 'microphone',
    });
  });

  it('drops channels for a video codec even when given', () => {
    expect(TrackDescriptorSchema.parse({ payload_type: 96, codec: 'vp8', channels: 2 }).channels).toBeUndefined();
  });

  it('refuses a kind that contradicts the codec, naming kind', () => {
    const result = TrackDescriptorSchema.safeParse({ payload_type: 96, codec: 'vp8', kind: 'audio' });
    expect(issuePaths(result)).toEqual(['kind']);
    expect(result.error?.issues[0]?.message).toBe('codec vp8 is video');
    expect(issuePaths(TrackDescriptorSchema.safeParse({ payload_type: 111, codec: 'opus', kind: 'video' }))).toEqual(['kind']);
  });

  it('refuses an unknown field', () => {
    const result = TrackDescriptorSchema.safeParse({ payload_type: 111, codec: 'opus', mid: '0' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['mid'] })]);
  });

  it('refuses an unsupported codec and out-of-range numbers, naming each field', () => {
    expect(issuePaths(TrackDescriptorSchema.safeParse({ payload_type: 0, codec: 'pcmu' }))).toEqual(['codec']);
    expect(issuePaths(TrackDescriptorSchema.safeParse({ payload_type: 128, codec: 'opus' }))).toEqual(['payload_type']);
    expect(issuePaths(TrackDescriptorSchema.safeParse({ ssrc: 2 ** 32, payload_type: 96, codec: 'vp8' }))).toEqual(['ssrc']);
    expect(issuePaths(TrackDescriptorSchema.safeParse({ ssrc: -1, payload_type: 96, codec: 'vp8' }))).toEqual(['ssrc']);
    expect(issuePaths(TrackDescriptorSchema.safeParse({ payload_type: 111, codec: 'opus', channels: 0 }))).toEqual(['channels']);
    expect(issuePaths(TrackDescriptorSchema.safeParse({ payload_type: 111, codec: 'opus', clock_rate: 0 }))).toEqual(['clock_rate']);
    expect(issuePaths(TrackDescriptorSchema.safeParse({ payload_type: 111, codec: 'opus', track_type: 'hologram' }))).toEqual(['track_type']);
  });
});

describe('RegisterTracksRequestSchema', () => {
  it('names the bad field of the bad track by index', () => {
    const result = RegisterTracksRequestSchema.safeParse({ tracks: [{ payload_type: 111, codec: 'opus' }, { payload_type: 'x', codec: 'vp8' }] });
    expect(issuePaths(result)).toEqual(['tracks.1.payload_type']);
  });

  it('needs at least one track', () => {
    expect(issuePaths(RegisterTracksRequestSchema.safeParse({ tracks: [] }))).toEqual(['tracks']);
  });
});

describe('RoomEventsRequestSchema', () => {
  it('accepts the room event types, with an optional offset date-time', () => {
    const body = {
      events: [
        { type: 'peer_joined', peer_id: 'peer-a', display_name: 'Ada' },
        { type: 'producer_paused', peer_id: 'peer-a', ssrc: 1111, at: '2026-03-01T10:00:00+01:00' },
        { type: 'active_speaker', peer_id: 'peer-a', track_id: 'trk_1' },
        { type: 'producer_resumed', peer_id: 'peer-a', ssrc: 1111 },
        { type: 'peer_left', peer_id: 'peer-a' },
      ],
    };
    expect(RoomEventsRequestSchema.parse(body)).toEqual(body);
  });

  it('names an unknown type and a bad date-time by index', () => {
    const result = RoomEventsRequestSchema.safeParse({
      events: [
        { type: 'peer_exploded', peer_id: 'peer-a' },
        { type: 'peer_left', peer_id: 'peer-a', at: 'yesterday' },
      ],
    });
    expect(issuePaths(result)).toEqual(['events.0.type', 'events.1.at']);
  });
});

describe('tracksFromSdp', () => {
  /** Exactly what `ffmpeg ... -f rtp ... -sdp_file` writes for an opus + vp8 send. */
  const FFMPEG_SDP = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=No Name',
    't=0 0',
    'a=tool:libavformat LIBAVFORMAT_VERSION',
    'm=audio 5004 RTP/AVP 97',
    'c=IN IP4 127.0.0.1',
    'b=AS:64',
    'a=rtpmap:97 opus/48000/2',
    'm=video 5006 RTP/AVP 96',
    'c=IN IP4 127.0.0.1',
    'b=AS:256',
    'a=rtpmap:96 VP8/90000',
    '',
  ].join('\n');

  it("reads ffmpeg's SDP as two descriptors without an SSRC", () => {
    const { tracks, errors } = tracksFromSdp(FFMPEG_SDP);
    expect(errors).toEqual([]);
    expect(tracks).toEqual([
      { payload_type: 97, codec: 'opus', clock_rate: 48000, channels: 2, kind: 'audio' },
      { payload_type: 96, codec: 'vp8', clock_rate: 90000, kind: 'video' },
    ]);
    for (const track of tracks) expect(track).not.toHaveProperty('ssrc');
  });

  it('gives descriptors the request schema accepts as they are', () => {
    const { tracks } = tracksFromSdp(FFMPEG_SDP);
    expect(RegisterTracksRequestSchema.parse({ tracks }).tracks).toEqual([
      { payload_type: 97, codec: 'opus', clock_rate: 48000, channels: 2, kind: 'audio' },
      { payload_type: 96, codec: 'vp8', clock_rate: 90000, kind: 'video', channels: undefined },
    ]);
  });

  it('reads CRLF line endings the same', () => {
    expect(tracksFromSdp(FFMPEG_SDP.replace(/\n/g, '\r\n'))).toEqual(tracksFromSdp(FFMPEG_SDP));
  });

  it('takes the SSRC from a=ssrc lines, once per SSRC whatever the attributes', () => {
    const sdp = [
      'v=0',
      'o=- 0 0 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'm=audio 5004 RTP/AVP 111',
      'a=rtpmap:111 opus/48000/2',
      'a=ssrc:1234 cname:x',
      'a=ssrc:1234 msid:stream audio',
      'm=video 5006 RTP/AVP 96',
      'a=rtpmap:96 VP8/90000',
      'a=ssrc:5678 cname:x',
    ].join('\n');
    const { tracks, errors } = tracksFromSdp(sdp);
    expect(errors).toEqual([]);
    expect(tracks).toEqual([
      { ssrc: 1234, payload_type: 111, codec: 'opus', clock_rate: 48000, channels: 2, kind: 'audio' },
      { ssrc: 5678, payload_type: 96, codec: 'vp8', clock_rate: 90000, kind: 'video' },
    ]);
  });

  it('skips payload types of codecs it does not record (rtx, telephone-event, red)', () => {
    const sdp = [
      'v=0',
      's=-',
      't=0 0',
      'm=audio 5004 RTP/AVP 111 126',
      'a=rtpmap:111 opus/48000/2',
      'a=rtpmap:126 telephone-event/8000',
      'm=video 5006 RTP/AVP 96 97 98',
      'a=rtpmap:96 VP8/90000',
      'a=rtpmap:97 rtx/90000',
      'a=fmtp:97 apt=96',
      'a=rtpmap:98 red/90000',
    ].join('\n');
    const { tracks, errors } = tracksFromSdp(sdp);
    expect(errors).toEqual([]);
    expect(tracks.map((t) => [t.payload_type, t.codec])).toEqual([
      [111, 'opus'],
      [96, 'vp8'],
    ]);
  });

  it('reports garbage under sdp', () => {
    const { tracks, errors } = tracksFromSdp('this is not an SDP');
    expect(tracks).toEqual([]);
    expect(errors).toEqual([{ path: 'sdp', message: 'has no m= line' }]);
    expect(tracksFromSdp('').errors).toEqual([{ path: 'sdp', message: 'has no m= line' }]);
  });

  it('skips data/text media lines and static payload types without a=rtpmap (browser SDPs have both)', () => {
    const sdp = ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'm=text 5008 RTP/AVP 98', 'm=audio 5004 RTP/AVP 97 0 8', 'a=rtpmap:97 opus/48000/2'].join('\n');
    const { tracks, errors } = tracksFromSdp(sdp);
    expect(errors).toEqual([]);
    expect(tracks).toEqual([{ payload_type: 97, codec: 'opus', clock_rate: 48000, channels: 2, kind: 'audio' }]);
  });

  it('reports a media line it cannot read, by m= index', () => {
    const { errors } = tracksFromSdp(['v=0', 'm=audio nonsense'].join('\n'));
    expect(errors).toEqual([{ path: 'sdp.m[0]', message: 'unsupported media line "m=audio nonsense"' }]);
  });
});
