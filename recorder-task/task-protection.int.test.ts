/**
 * Task scale-in protection over real HTTP against a stand-in for the ECS agent's endpoint:
 * on when busy, renewed while busy, off when idle, retried after the agent refuses.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/logger.ts';
import { startFakeEcsAgent, type FakeEcsAgent } from '../test/support/fake-ecs-agent.ts';
import { TaskProtection } from './task-protection.ts';

let agent: FakeEcsAgent;
const opened: TaskProtection[] = [];
const protection = (options: Partial<ConstructorParameters<typeof TaskProtection>[0]> = {}) => {
  const p = new TaskProtection({ agentUri: agent.uri, windowMinutes: 30, logger: silentLogger, retryMs: 50, ...options });
  opened.push(p);
  return p;
};
const until = async (check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeEach(async () => {
  agent = await startFakeEcsAgent();
});
afterEach(async () => {
  for (const p of opened.splice(0)) p.close();
  await agent.close();
});

describe('task scale-in protection', () => {
  it('is asked for when the first recording starts and dropped when the last one ends', async () => {
    const p = protection();
    await p.busy(1);
    expect(agent.requests.map((r) => [r.method, r.body])).toEqual([['PUT', { ProtectionEnabled: true, ExpiresInMinutes: 30 }]]);
    expect(p.state).toEqual({ enabled: true, protected: true, updates: 1, failures: 0 });
    await p.busy(2);
    await p.busy(1);
    expect(agent.requests).toHaveLength(1); // still busy: nothing to change
    await p.busy(0);
    expect(agent.requests.at(-1)!.body).toEqual({ ProtectionEnabled: false });
    expect(agent.protectedNow).toBe(false);
    expect(p.state.protected).toBe(false);
  });

  it('renews the window every third of it while busy', async () => {
    // 1 minute windows are the agent's minimum; renewal at a third is 20 s, too slow for a test,
    // so the window is set through a fractional value only this test uses.
    const p = protection({ windowMinutes: 0.003 }); // ≈ 0.18 s, renewed every ≈ 60 ms
    await p.busy(1);
    await until(() => agent.requests.length >= 4);
    expect(agent.requests.every((r) => r.body.ProtectionEnabled === true)).toBe(true);
    await p.busy(0);
    const count = agent.requests.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(agent.requests.length).toBe(count); // idle: no more renewals
    expect(agent.requests.at(-1)!.body).toEqual({ ProtectionEnabled: false });
  });

  it('counts a refusal, keeps recording unaffected, and tries again until the agent agrees', async () => {
    agent.failNext(2);
    const p = protection();
    await p.busy(1);
    expect(p.state).toMatchObject({ protected: false, failures: 1 });
    await until(() => p.state.protected);
    expect(p.state).toMatchObject({ protected: true, failures: 2, updates: 1 });
    expect(agent.protectedNow).toBe(true);
  });

  it('does nothing outside ECS (no ECS_AGENT_URI)', async () => {
    const p = protection({ agentUri: undefined });
    await p.busy(1);
    await p.busy(0);
    expect(agent.requests).toHaveLength(0);
    expect(p.state).toEqual({ enabled: false, protected: false, updates: 0, failures: 0 });
  });

  it('survives an agent that is not there (connection refused)', async () => {
    await agent.close();
    const p = protection({ timeoutMs: 200 });
    await p.busy(1);
    expect(p.state).toMatchObject({ protected: false, failures: 1 });
    agent = await startFakeEcsAgent(); // for afterEach
  });
});
