/**
 * Alarms reach people: every CloudWatch alarm of the synthesized stack notifies the alerts
 * topic on alarm and on recovery, and addresses given as context are subscribed.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_EMAILS_CONTEXT, OperatorAlerts, parseAlarmEmails } from './constructs/operator-alerts.ts';
import { CapstanStack } from './stacks/capstan-stack.ts';
import { appWithCdkContext, type Resources } from './testing/assertions.ts';

describe('operator alerts in the Capstan stack', { timeout: 120_000 }, () => {
  let stack: CapstanStack;
  let template: Template;

  beforeAll(() => {
    const app = appWithCdkContext();
    app.node.setContext(ALARM_EMAILS_CONTEXT, 'ops@example.com, oncall@example.com');
    stack = new CapstanStack(app, 'Capstan');
    template = Template.fromStack(stack);
  }, 120_000);

  it('sends every alarm to the alerts topic, on alarm and on recovery', () => {
    const topic = stack.resolve(stack.alerts.topic.topicArn);
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm') as Resources);
    // One per dead-letter queue: as many as the queues without a redrive policy.
    const deadLetterQueues = Object.values(template.findResources('AWS::SQS::Queue') as Resources).filter((q) => q.Properties?.['RedrivePolicy'] === undefined);
    expect(deadLetterQueues.length).toBeGreaterThan(0);
    expect(alarms.length).toBeGreaterThanOrEqual(deadLetterQueues.length);
    for (const [logicalId, alarm] of alarms) {
      expect(alarm.Properties?.['AlarmActions'], logicalId).toEqual([topic]);
      expect(alarm.Properties?.['OKActions'], logicalId).toEqual([topic]);
    }
  });

  it('subscribes the addresses given as context, and only over TLS', () => {
    const topic = stack.resolve(stack.alerts.topic.topicArn);
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription') as Resources).map((s) => s.Properties);
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: topic }),
        expect.objectContaining({ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: topic }),
      ]),
    );
    expect(subscriptions).toHaveLength(2);
    const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy') as Resources)[0]!;
    expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
    template.hasOutput('AlarmTopicArn', { Value: topic });
  });
});

describe('OperatorAlerts on its own', () => {
  it('wires alarms created after it, and has no subscription without addresses', () => {
    const stack = new Stack(new App(), 'Alone');
    const alerts = new OperatorAlerts(stack, 'Alerts');
    new cloudwatch.Alarm(stack, 'Late', { metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }), threshold: 1, evaluationPeriods: 1 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [stack.resolve(alerts.topic.topicArn)] });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('reads addresses from a comma list or an array, and refuses what is not one', () => {
    expect(parseAlarmEmails(undefined)).toEqual([]);
    expect(parseAlarmEmails(' a@x.io , b@y.org ')).toEqual(['a@x.io', 'b@y.org']);
    expect(parseAlarmEmails(['a@x.io'])).toEqual(['a@x.io']);
    expect(() => parseAlarmEmails('ops@example.com,not-an-address')).toThrow(/capstan:alarmEmails: "not-an-address" is not an email address/);
  });
});
