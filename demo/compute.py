"""The stack's work: the four worker queues with their DLQs, the five Lambda functions (one
holding the canary secret in its environment, one consuming another worker's queue), and the
ECS websocket service.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook_guard.demo.stack import Stack

WORKERS = ("pm", "dev", "qa", "ops")
FUNCTIONS = ("ApiHandler", "PmAgentWorker", "DevAgentWorker", "QaAgentWorker", "OpsAgentWorker")
#: Worker -> the queue its mapping reads when that is not its own: the ops queue is unconsumed.
MISWIRED = {"ops": "pm"}


#: How long the work queues keep a message (SQS's default, 4 days) and their DLQs (the maximum,
#: 14 days: a message parked there must outlive the one it came from).
QUEUE_RETENTION, DLQ_RETENTION = "345600", "1209600"
#: The worker whose DLQ keeps messages only as long as its queue (examples/custom-rules'
#: sqs-dlq-outlives-source; the ops queue, without redrive, trips sqs-redrive-max-receive).
SHORT_LIVED_DLQ = "qa"


def queues(stack: Stack) -> Iterator[tuple[str, str]]:
    """(queue name, queue ARN) of every queue; ops has no redrive, dev's DLQ holds 3, qa's DLQ
    keeps messages no longer than its queue."""
    sqs = stack.client("sqs")
    for worker in WORKERS:
        # Violation (custom rule sqs-dlq-outlives-source): a near miss, equal, not longer.
        retention = QUEUE_RETENTION if worker == SHORT_LIVED_DLQ else DLQ_RETENTION
        dlq_url = sqs.create_queue(
            QueueName=f"{stack.prefix}-{worker}-dlq",
            Attributes={"MessageRetentionPeriod": retention},
        )["QueueUrl"]
        dlq_arn = _queue_arn(sqs, dlq_url)
        attributes = {"VisibilityTimeout": "300", "MessageRetentionPeriod": QUEUE_RETENTION}
        if worker != "ops":  # Violation RB-I08: no redrive policy.
            redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}
            attributes["RedrivePolicy"] = json.dumps(redrive)
        name = f"{stack.prefix}-{worker}-queue"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        if worker == "dev":  # Violation RB-W02: messages in the DLQ.
            _send(sqs, dlq_url, 3)
        if worker == "pm":  # Note RB-D06: depth 300, above normal, under warning.
            _send(sqs, url, 300)
        yield f"{stack.prefix}-{worker}-dlq", dlq_arn
        yield name, _queue_arn(sqs, url)


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _send(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"task": i})}
            for i in range(start, min(count, start + 10))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def functions(stack: Stack, role_arn: str, queues: dict[str, str]) -> list[str]:
    lam = stack.client("lambda")
    code = _zip()
    names = []
    for kind in FUNCTIONS:
        name = stack.function_name(kind)
        worker = kind.removesuffix("AgentWorker").lower()
        env = {"TABLE_NAME": f"{stack.prefix}-data", "LOG_LEVEL": "INFO"}
        if kind == "ApiHandler":  # Violation RB-S02: a literal secret in the environment.
            env["GEMINI_API_KEY"] = stack.secret
        lam.create_function(
            FunctionName=name,
            Runtime="python3.9" if kind == "QaAgentWorker" else "python3.12",  # RB-X03
            Role=role_arn,
            Handler="handler.handler",
            Code={"ZipFile": code},
            Timeout=30 if kind == "ApiHandler" else 300,
            MemorySize=1024,
            Environment={"Variables": env},
            # Violation RB-I07: the ops worker has tracing off.
            TracingConfig={"Mode": "PassThrough" if kind == "OpsAgentWorker" else "Active"},
        )
        if kind != "OpsAgentWorker":  # Violation RB-I01: no `live` alias.
            version = lam.publish_version(FunctionName=name)["Version"]
            lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
        if kind != "ApiHandler":
            if kind != "DevAgentWorker":  # Violation RB-I04: no reserved concurrency.
                lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
            # Violation RB-I05 (sqs.work-queue-consumed): the ops worker's mapping names
            # the pm queue (a copied ARN), so the ops queue has no consumer and the pm queue
            # two. Every worker still has an enabled mapping from a work queue: a check from
            # the function side alone (lambda.worker-consumes-queue) passes.
            source = MISWIRED.get(worker, worker)
            queue = f"{stack.prefix}-{source}-queue"
            lam.create_event_source_mapping(
                EventSourceArn=queues[queue], FunctionName=name, BatchSize=10, Enabled=True
            )
        names.append(name)
    return names


def ecs_service(stack: Stack) -> None:
    ecs = stack.client("ecs")
    cluster = f"{stack.prefix}-cluster"
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=f"{stack.prefix}-websocket",
        networkMode="bridge",
        containerDefinitions=[
            {"name": "websocket", "image": "agenticai/websocket:1", "memory": 512}
        ],
    )
    service = f"{stack.prefix}-websocket"
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=f"{stack.prefix}-websocket",
        desiredCount=1,
    )
    # moto never starts tasks; update_service is how it reports them running.
    ecs.update_service(cluster=cluster, service=service, desiredCount=1)
