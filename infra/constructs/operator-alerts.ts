/**
 * Where alarms go: one SNS topic that every CloudWatch alarm in the stack notifies, on alarm
 * and on recovery. Operators subscribe what they use (a pager's HTTPS endpoint, a chat
 * integration, an email list); emails given as the `capstan:alarmEmails` context
 * (`cdk deploy -c capstan:alarmEmails=ops@example.com,oncall@example.com`) are subscribed here.
 *
 * Alarms are attached by an aspect, so an alarm added later by any construct is wired too,
 * without each construct having to know about the topic.
 */
import { Aspects, type IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';

export const ALARM_EMAILS_CONTEXT = 'capstan:alarmEmails';

export interface OperatorAlertsProps {
  /** Email addresses to subscribe (each confirms by mail); default: the `capstan:alarmEmails` context. */
  readonly emails?: readonly string[];
}

/** `a@x, b@y` or a JSON array → addresses; anything that is not an address is refused at synth. */
export function parseAlarmEmails(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const emails = list.map((e) => e.trim()).filter((e) => e !== '');
  for (const email of emails) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new Error(`${ALARM_EMAILS_CONTEXT}: "${email}" is not an email address`);
  }
  return emails;
}

class NotifyOnAlarm implements IAspect {
  constructor(private readonly action: cloudwatch.IAlarmAction) {}

  visit(node: IConstruct): void {
    if (node instanceof cloudwatch.Alarm) {
      node.addAlarmAction(this.action);
      node.addOkAction(this.action);
    }
  }
}

export class OperatorAlerts extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: OperatorAlertsProps = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Capstan alarms', enforceSSL: true });
    const emails = props.emails ?? parseAlarmEmails(this.node.tryGetContext(ALARM_EMAILS_CONTEXT));
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    Aspects.of(scope).add(new NotifyOnAlarm(new cloudwatchActions.SnsAction(this.topic)));
  }
}
