/**
 * Tracks and room events of rtp recordings through the HTTP API handler, against the real
 * local servers (DynamoDB Local, s3rver): JSON and SDP registration, no-op re-registration,
 * conflicts, validation, tenant isolation, and the timeline on GET /v1/recordings/{id}.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../shared/auth/api-keys.ts';
import { apiDepsFor, isolatedAdapters } from '../../test/support/aws.ts';
import { apiClient, type ApiClient, type ApiResult } from '../../test/support/api-client.ts';
import { createApiHandler } from './app.ts';

type Adapters = Awaited<ReturnType<typeof isolatedAdapters>>;

let adapters: Adapters;
/** tenant-a's client. */
let api: ApiClient;
/** tenant-b's client. */
let other: ApiClient;
let anonymous: ApiClient;

const TRACK_ID = /^trk_[0-9a-z]{26}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Exactly what `ffmpeg ... -f rtp ... -sdp_file` writes for an opus + vp8 send. */
const FFMPEG_SDP = `v=0
o=- 0 0 IN IP4 127.0.0.1
s=No Name
t=0 0
a=tool:libavformat LIBAVFORMAT_VERSION
m=audio 5004 RTP/AVP 97
c=IN IP4 127.0.0.1
b=AS:64
a=rtpmap:97 opus/48000/2
m=video 5006 RTP/AVP 96
c=IN IP4 127.0.0.1
b=AS:256
a=rtpmap:96 VP8/90000
`;

async function createId(client: ApiClient, body: unknown = { source: { type: 'rtp' } }): Promise<string> {
  const res = await client.post('/v1/recordings', body);
  expect(res.status, res.body).toBe(201);
  return res.json.id as string;
}

const postTracks = (client: ApiClient, id: string, tracks: unknown) => client.post(`/v1/recordings/${id}/tracks`, { tracks });
const postSdp = (client: ApiClient, id: string, sdp: string, contentType = 'application/sdp') =>
  client.post(`/v1/recordings/${id}/tracks`, sdp, { headers: { 'content-type': contentType } });

/** RFC 9457 problem+json with the given status, and its field errors' paths. */
function expectProblem(res: ApiResult, status: number) {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  const problem = res.json as { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] };
  expect(problem).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/capstan\.dev\/problems\/[a-z-]+$/), title: expect.any(String) });
  expect(problem.detail.length).toBeGreaterThan(0);
  expect(res.body).not.toContain('.ts:');
  return problem;
}

const paths = (problem: { errors?: { path: string }[] }) => (problem.errors ?? []).map((e) => e.path);

beforeAll(async () => {
  adapters = await isolatedAdapters();
  const keys: Record<string, string> = {};
  const createdAt = new Date().toISOString();
  for (const tenant of ['tenant-a', 'tenant-b']) {
    keys[tenant] = newApiKey();
    await adapters.apiKeys.put({ key_hash: hashApiKey(keys[tenant]), tenant_id: tenant, created_at: createdAt });
  }
  const handler = createApiHandler(apiDepsFor(adapters));
  api = apiClient(handler, { apiKey: keys['tenant-a'] });
  other = apiClient(handler, { apiKey: keys['tenant-b'] });
  anonymous = apiClient(handler);
});

afterAll(() => {
  adapters?.dynamo.destroy();
  adapters?.s3.destroy();
});

describe('POST /v1/recordings/{id}/tracks', () => {
  it('registers JSON descriptors (201) normalized: track_id, kind, clock_rate, channels, nulls for what was omitted', async () => {
    const id = await createId(api);
    const res = await postTracks(api, id, [
      { ssrc: 1111, payload_type: 111, codec: 'OPUS', peer_id: 'peer-a', display_name: 'Ada', track_type: 'microphone' },
      { ssrc: 2222, payload_type: 96, codec: 'VP8' },
    ]);
    expect(res.status, res.body).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const items = res.json.items as Record<string, unknown>[];
    expect(items).toEqual([
      {
        track_id: expect.stringMatching(TRACK_ID),
        ssrc: 1111,
        payload_type: 111,
        codec: 'opus',
        clock_rate: 48000,
        channels: 2,
        kind: 'audio',
        peer_id: 'peer-a',
        display_name: 'Ada',
        track_type: 'microphone',
        registered_at: expect.stringMatching(ISO),
      },
      {
        track_id: expect.stringMatching(TRACK_ID),
        ssrc: 2222,
        payload_type: 96,
        codec: 'vp8',
        clock_rate: 90000,
        channels: null,
        kind: 'video',
        peer_id: null,
        display_name: null,
        track_type: null,
        registered_at: expect.stringMatching(ISO),
      },
    ]);
    expect(items[0]?.track_id).not.toBe(items[1]?.track_id);

    const got = await api.get(`/v1/recordings/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.tracks).toEqual(items.map((t) => ({ ...t, recording: null })));
  });

  it("registers ffmpeg's SDP (application/sdp) as two tracks without an SSRC", async () => {
    const id = await createId(api);
    const res = await postSdp(api, id, FFMPEG_SDP);
    expect(res.status, res.body).toBe(201);
    expect(res.json.items).toEqual([
      expect.objectContaining({ ssrc: null, payload_type: 97, codec: 'opus', clock_rate: 48000, channels: 2, kind: 'audio' }),
      expect.objectContaining({ ssrc: null, payload_type: 96, codec: 'vp8', clock_rate: 90000, channels: null, kind: 'video' }),
    ]);
    for (const track of res.json.items) expect(track.track_id).toMatch(TRACK_ID);
  });

  it('accepts a content-type parameter and CRLF lines on the SDP', async () => {
    const id = await createId(api);
    const res = await postSdp(api, id, FFMPEG_SDP.replace(/\n/g, '\r\n'), 'Application/SDP; charset=utf-8');
    expect(res.status, res.body).toBe(201);
    expect(res.json.items).toHaveLength(2);
  });

  it('re-registering the same tracks is a 201 no-op with no items, and nothing is added', async () => {
    const id = await createId(api);
    const json = [{ ssrc: 3333, payload_type: 111, codec: 'opus' }];
    expect((await postTracks(api, id, json)).status).toBe(201);
    expect((await postSdp(api, id, FFMPEG_SDP)).status).toBe(201);
    const before = await api.get(`/v1/recordings/${id}`);

    const again = await postTracks(api, id, json);
    expect(again.status, again.body).toBe(201);
    expect(again.json).toEqual({ items: [] });
    const sdpAgain = await postSdp(api, id, FFMPEG_SDP);
    expect(sdpAgain.status, sdpAgain.body).toBe(201);
    expect(sdpAgain.json).toEqual({ items: [] });

    const after = await api.get(`/v1/recordings/${id}`);
    expect(after.json.tracks).toHaveLength(3);
    expect(after.json.sequence).toBe(before.json.sequence);
  });

  it('a known SSRC with another codec is 409 track-conflict, and nothing of the request is registered', async () => {
    const id = await createId(api);
    expect((await postTracks(api, id, [{ ssrc: 4444, payload_type: 111, codec: 'opus' }])).status).toBe(201);
    const res = await postTracks(api, id, [
      { ssrc: 5555, payload_type: 96, codec: 'vp8' },
      { ssrc: 4444, payload_type: 96, codec: 'vp8' },
    ]);
    const problem = expectProblem(res, 409);
    expect(problem.type).toBe('https://capstan.dev/problems/track-conflict');
    expect(problem.detail).toMatch(/SSRC 4444 is already registered as opus with payload type 111/);
    expect((await api.get(`/v1/recordings/${id}`)).json.tracks.map((t: { ssrc: number }) => t.ssrc)).toEqual([4444]);
  });

  it('a bad descriptor is 400 naming each bad field by index', async () => {
    const id = await createId(api);
    const res = await postTracks(api, id, [
      { ssrc: 1, payload_type: 200, codec: 'opus' },
      { payload_type: 96, codec: 'vp8', kind: 'audio', rid: 'hi' },
      { payload_type: 0, codec: 'pcmu' },
    ]);
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('https://capstan.dev/problems/validation');
    expect(paths(problem)).toEqual(expect.arrayContaining(['tracks.0.payload_type', 'tracks.1.rid', 'tracks.2.codec']));
    expectProblem(await postTracks(api, id, []), 400);
    expect(paths(expectProblem(await api.post(`/v1/recordings/${id}/tracks`, { tracks: [{ payload_type: 96, codec: 'vp8' }], extra: 1 }), 400))).toEqual(['extra']);
  });

  it('a kind that contradicts the codec is 400 naming tracks.N.kind', async () => {
    const id = await createId(api);
    expect(paths(expectProblem(await postTracks(api, id, [{ payload_type: 96, codec: 'vp8', kind: 'audio' }]), 400))).toEqual(['tracks.0.kind']);
  });

  it('an SDP that is not one is 400 naming sdp', async () => {
    const id = await createId(api);
    expect(paths(expectProblem(await postSdp(api, id, 'hello, world'), 400))).toEqual(['sdp']);
    const onlyDtmf = 'v=0\nm=audio 5004 RTP/AVP 101\na=rtpmap:101 telephone-event/8000\n';
    expect(paths(expectProblem(await postSdp(api, id, onlyDtmf), 400))).toEqual(['sdp']);
    // A payload type without a=rtpmap is a static one (PCMU…): nothing recordable is left.
    const noRtpmap = 'v=0\nm=audio 5004 RTP/AVP 97\n';
    expect(paths(expectProblem(await postSdp(api, id, noRtpmap), 400))).toEqual(['sdp']);
    expect(paths(expectProblem(await postSdp(api, id, 'v=0\nm=audio nonsense\n'), 400))).toEqual(['sdp.m[0]']);
  });

  it('text/plain is 415', async () => {
    const id = await createId(api);
    const problem = expectProblem(await postSdp(api, id, FFMPEG_SDP, 'text/plain'), 415);
    expect(problem.type).toBe('https://capstan.dev/problems/unsupported-media-type');
    expectProblem(await api.post(`/v1/recordings/${id}/tracks`, undefined), 415);
  });

  it('a stream or bot recording is 409', async () => {
    const stream = await createId(api, { source: { type: 'stream', encoding: 'pcm_s16le', sample_rate: 16000 } });
    const problem = expectProblem(await postTracks(api, stream, [{ ssrc: 1, payload_type: 111, codec: 'opus' }]), 409);
    expect(problem.type).toBe('https://capstan.dev/problems/invalid-state');
    expect(problem.detail).toMatch(/tracks are registered on rtp recordings/);
    const bot = await createId(api, { source: { type: 'bot', meeting_url: 'https://meet.example.com/abc' } });
    expectProblem(await postSdp(api, bot, FFMPEG_SDP), 409);
  });

  it('a stopped capture is 409', async () => {
    const id = await createId(api);
    await adapters.service.system(id, 'tenant-a', (now) => ({ type: 'ClaimRecording', metadata: { now }, data: { recorder_id: 'recorder-1' } }));
    await adapters.service.system(id, 'tenant-a', (now) => ({ type: 'StartRecording', metadata: { now }, data: {} }));
    expect((await api.post(`/v1/recordings/${id}/stop`)).status).toBe(202);
    const problem = expectProblem(await postTracks(api, id, [{ ssrc: 1, payload_type: 111, codec: 'opus' }]), 409);
    expect(problem.detail).toMatch(/the capture has ended/);
  });

  it("another tenant's recording, or no recording, is 404; no key is 401", async () => {
    const id = await createId(api);
    expectProblem(await postTracks(other, id, [{ ssrc: 1, payload_type: 111, codec: 'opus' }]), 404);
    expectProblem(await postSdp(other, id, FFMPEG_SDP), 404);
    expectProblem(await postTracks(api, 'rec_01jzzzzzzzzzzzzzzzzzzzzzzz', [{ ssrc: 1, payload_type: 111, codec: 'opus' }]), 404);
    expectProblem(await postTracks(api, 'not-an-id', [{ ssrc: 1, payload_type: 111, codec: 'opus' }]), 404);
    expectProblem(await postTracks(anonymous, id, [{ ssrc: 1, payload_type: 111, codec: 'opus' }]), 401);
    expect((await api.get(`/v1/recordings/${id}`)).json.tracks).toEqual([]);
  });
});

describe('POST /v1/recordings/{id}/room-events', () => {
  it('appends to the timeline (201); GET shows the entries with `at` filled, and the tracks', async () => {
    const id = await createId(api);
    expect((await postTracks(api, id, [{ ssrc: 1111, payload_type: 111, codec: 'opus', peer_id: 'peer-a' }])).status).toBe(201);

    const given = '2026-03-01T10:00:00.000Z';
    const res = await api.post(`/v1/recordings/${id}/room-events`, {
      events: [
        { type: 'peer_joined', peer_id: 'peer-a', display_name: 'Ada', at: given },
        { type: 'producer_paused', peer_id: 'peer-a', ssrc: 1111 },
      ],
    });
    expect(res.status, res.body).toBe(201);
    expect(res.json.items).toEqual([
      { type: 'peer_joined', peer_id: 'peer-a', display_name: 'Ada', at: given },
      { type: 'producer_paused', peer_id: 'peer-a', ssrc: 1111, at: expect.stringMatching(ISO) },
    ]);

    const more = await api.post(`/v1/recordings/${id}/room-events`, { events: [{ type: 'active_speaker', peer_id: 'peer-a', track_id: 'trk_x' }] });
    expect(more.status, more.body).toBe(201);

    const got = await api.get(`/v1/recordings/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.timeline).toEqual([...res.json.items, ...more.json.items]);
    for (const entry of got.json.timeline) expect(entry.at).toEqual(expect.any(String));
    expect(got.json.tracks).toEqual([expect.objectContaining({ ssrc: 1111, codec: 'opus', peer_id: 'peer-a', recording: null })]);
    expect(got.json).toMatchObject({ capture_gaps: [], interruptions: [], manifest: null, recorder_id: null });
  });

  it('a bad room event is 400 naming events.N.field', async () => {
    const id = await createId(api);
    const problem = expectProblem(
      await api.post(`/v1/recordings/${id}/room-events`, {
        events: [
          { type: 'peer_exploded', peer_id: 'peer-a' },
          { type: 'peer_left', peer_id: 'peer-a', at: 'yesterday' },
        ],
      }),
      400,
    );
    expect(paths(problem)).toEqual(expect.arrayContaining(['events.0.type', 'events.1.at']));
    expect((await api.get(`/v1/recordings/${id}`)).json.timeline).toEqual([]);
  });

  it('is 415 unless JSON, 409 on a stream recording, 404 for another tenant', async () => {
    const id = await createId(api);
    const body = { events: [{ type: 'peer_joined', peer_id: 'peer-a' }] };
    expectProblem(await api.post(`/v1/recordings/${id}/room-events`, JSON.stringify(body), { headers: { 'content-type': 'text/plain' } }), 415);
    expectProblem(await other.post(`/v1/recordings/${id}/room-events`, body), 404);
    const stream = await createId(api, { source: { type: 'stream', encoding: 'mulaw', sample_rate: 8000 } });
    expect(expectProblem(await api.post(`/v1/recordings/${stream}/room-events`, body), 409).detail).toMatch(/room events are recorded on rtp recordings/);
  });
});

describe('GET /openapi.json', () => {
  it('documents both routes', async () => {
    const res = await anonymous.get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json;
    for (const path of ['/v1/recordings/{id}/tracks', '/v1/recordings/{id}/room-events']) {
      const post = doc.paths[path]?.post;
      expect(post, path).toBeDefined();
      expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '404', '409', '415']));
      expect(post.security).toEqual([{ bearer: [] }]);
    }
    expect(doc.paths['/v1/recordings/{id}/tracks'].post.operationId).toBe('registerTracks');
    expect(doc.paths['/v1/recordings/{id}/room-events'].post.operationId).toBe('recordRoomEvents');
  });
});
