"""ECS clusters and services, and EC2 security groups."""

from __future__ import annotations

from tests.template.test_mapping_fixtures import after_deploy, mapped, one, only, resource, where

CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/agenticai-cluster"
SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/agenticai-cluster/agenticai-websocket"


def test_a_cluster_maps_to_describe_clusters() -> None:
    cluster = only(
        "aws.ecs.cluster",
        "AWS::ECS::Cluster",
        {
            "ClusterName": "agenticai-cluster",
            "CapacityProviders": ["FARGATE"],
            "DefaultCapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": "1"}],
        },
    )
    assert (cluster["id"], cluster["name"]) == (CLUSTER_ARN, "agenticai-cluster")
    assert cluster["data"] == {
        "clusterArn": CLUSTER_ARN,
        "clusterName": "agenticai-cluster",
        "capacityProviders": ["FARGATE"],
        "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
    }
    bare = only("aws.ecs.cluster", "AWS::ECS::Cluster")
    assert bare["data"]["capacityProviders"] == []
    assert bare["defaults"] == [
        "capacityProviders",
        "clusterArn",
        "clusterName",
        "defaultCapacityProviderStrategy",
    ]


def test_a_service_with_every_property_set_maps_to_describe_services() -> None:
    group = after_deploy("Ref WebsocketSecurityGroup")
    service = only(
        "aws.ecs.service",
        "AWS::ECS::Service",
        {
            "ServiceName": "agenticai-websocket",
            "Cluster": CLUSTER_ARN,
            "DesiredCount": "2",
            "LaunchType": "FARGATE",
            "PlatformVersion": "LATEST",
            "TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/ws:3",
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {"Subnets": ["subnet-1"], "SecurityGroups": ["sg-123"]}
            },
            "LoadBalancers": [
                {"TargetGroupArn": "arn:tg", "ContainerName": "ws", "ContainerPort": "8080"}
            ],
            "DeploymentConfiguration": {
                "MaximumPercent": 150,
                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": "true"},
            },
            "EnableExecuteCommand": True,
            "HealthCheckGracePeriodSeconds": 30,
        },
    )
    assert (service["id"], service["name"]) == (SERVICE_ARN, "agenticai-websocket")
    assert service["data"] == {
        "serviceArn": SERVICE_ARN,
        "serviceName": "agenticai-websocket",
        "clusterArn": CLUSTER_ARN,
        "clusterName": "agenticai-cluster",
        "desiredCount": 2,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/ws:3",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-1"],
                "securityGroups": ["sg-123"],
                "assignPublicIp": "DISABLED",
            }
        },
        "loadBalancers": [
            {"targetGroupArn": "arn:tg", "containerName": "ws", "containerPort": 8080}
        ],
        "serviceRegistries": [],
        "schedulingStrategy": "REPLICA",
        "deploymentConfiguration": {
            "maximumPercent": 150,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        "deploymentController": {"type": "ECS"},
        "healthCheckGracePeriodSeconds": 30,
        "enableECSManagedTags": False,
        "enableExecuteCommand": True,
        "propagateTags": "NONE",
    }
    assert service["template"]["keys"]["networkConfiguration"] == where(
        17, "Properties.NetworkConfiguration"
    )
    for key in ("status", "runningCount", "pendingCount", "deployments", "events"):
        assert key not in service["data"]
    # A security group named by Ref is an id only EC2 assigns.
    open_group = only(
        "aws.ecs.service",
        "AWS::ECS::Service",
        {"NetworkConfiguration": {"AwsvpcConfiguration": {"SecurityGroups": [group]}}},
    )
    assert open_group["unknown"]["networkConfiguration"]["kind"] == "after_deploy"


def test_a_service_without_a_cluster_runs_in_the_default_cluster() -> None:
    service = only("aws.ecs.service", "AWS::ECS::Service", {"ServiceName": "svc"})
    assert service["data"]["clusterName"] == "default"
    assert service["id"] == "arn:aws:ecs:us-east-1:123456789012:service/default/svc"
    assert service["data"]["desiredCount"] == 1
    assert "desiredCount" in service["defaults"]


def test_a_security_group_groups_its_rules_as_ec2_answers_them() -> None:
    envelopes = mapped(
        resource(
            "WebsocketSecurityGroup",
            "AWS::EC2::SecurityGroup",
            {
                "GroupDescription": "websocket",
                "VpcId": "vpc-1",
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": "443", "CidrIp": "0.0.0.0/0"},
                    {
                        "IpProtocol": 6,
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIpv6": "::/0",
                        "Description": "v6",
                    },
                ],
                "Tags": [{"Key": "team", "Value": "ops"}],
            },
        ),
        resource(
            "AdminIngress",
            "AWS::EC2::SecurityGroupIngress",
            {
                "GroupId": after_deploy("Fn::GetAtt WebsocketSecurityGroup.GroupId"),
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "SourcePrefixListId": "pl-1",
            },
            line=40,
        ),
    )
    group = one(envelopes, "aws.ec2.security_group", "WebsocketSecurityGroup")
    # EC2 assigns the id, which names the group: before deploy, the stack and logical id.
    assert group["name"] == "agenticai-stack.WebsocketSecurityGroup"
    assert group["id"] == (
        "arn:aws:ec2:us-east-1:123456789012:security-group/agenticai-stack.WebsocketSecurityGroup"
    )
    assert group["data"] == {
        "GroupName": group["data"]["GroupName"],
        "Description": "websocket",
        "VpcId": "vpc-1",
        "OwnerId": "123456789012",
        "IpPermissions": [
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "v6"}],
                "PrefixListIds": [],
                "UserIdGroupPairs": [],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [],
                "Ipv6Ranges": [],
                "PrefixListIds": [{"PrefixListId": "pl-1"}],
                "UserIdGroupPairs": [],
            },
        ],
        "IpPermissionsEgress": [
            {
                "IpProtocol": "-1",
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [],
                "PrefixListIds": [],
                "UserIdGroupPairs": [],
            }
        ],
        "Tags": [{"Key": "team", "Value": "ops"}],
    }
    assert group["data"]["GroupName"].startswith("agenticai-stack-WebsocketSecurityGroup-")
    assert sorted(group["unknown"]) == ["GroupId", "SecurityGroupArn"]
    assert {v["kind"] for v in group["unknown"].values()} == {"after_deploy"}
    assert group["template"]["keys"]["IpPermissions"] == where(
        13, "Properties.SecurityGroupIngress"
    )


def test_a_security_group_without_a_vpc_is_in_the_default_vpc_known_after_deploy() -> None:
    group = only("aws.ec2.security_group", "AWS::EC2::SecurityGroup", {"GroupDescription": "x"})
    assert group["unknown"]["VpcId"]["reason"].startswith(
        "known after deploy: the account's default VPC"
    )
    assert group["data"]["IpPermissions"] == []
