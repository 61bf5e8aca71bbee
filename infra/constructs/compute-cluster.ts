/**
 * Where Capstan's containers run: one ECS cluster in its own VPC. The compositor's one-off
 * tasks run here now; the recorder's Fargate service joins the same cluster later.
 *
 * The VPC has public subnets only and no NAT gateway (a NAT gateway costs more per month
 * than the tasks it would serve). Tasks get a public IP so they reach ECR, CloudWatch Logs,
 * DynamoDB and S3 through the internet gateway; their security group allows no inbound
 * traffic, so the public IP accepts no connections. S3 and DynamoDB are also reached
 * through gateway endpoints (free), keeping media and event traffic on the AWS network.
 * No lookups: the AZs are `Fn::GetAZs`, so the stack stays environment-agnostic.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

export class ComputeCluster extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  /** For one-off tasks: egress only. */
  readonly taskSecurityGroup: ec2.SecurityGroup;
  /** Where tasks are placed, with `assignPublicIp: true`. */
  readonly taskSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC };

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc });
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'Capstan one-off tasks: no inbound, all outbound (public IP for egress only)',
      allowAllOutbound: true,
    });
  }
}
