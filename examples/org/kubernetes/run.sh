#!/usr/bin/env bash
# One run in the cluster: plan, then the Indexed Job of shards, then the merge, each after the
# last has finished. Kubernetes has no dependencies between Jobs, so this script (or a CronJob
# running it, or your workflow engine) orders them. The merge runs when the collect Job
# failed too: its missing shards become `error` results in the report.
#
#   ./run.sh            # exit 0: no finding at the gate; 1: findings (or missing shards)
set -euo pipefail
cd "$(dirname "$0")"
namespace=runbook-guard

# Prints Complete or Failed once the Job has finished, whichever it is.
finished() {
  local job=$1 conditions word
  while true; do
    conditions=$(kubectl -n "$namespace" get job "$job" \
      -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
    for word in $conditions; do
      case $word in
        Complete | Failed)
          echo "$word"
          return
          ;;
      esac
    done
    sleep 15
  done
}

kubectl apply -f namespace.yaml -f serviceaccount.yaml -f configmap.yaml -f pvc.yaml
kubectl -n "$namespace" delete job --ignore-not-found --wait \
  runbook-guard-plan runbook-guard-collect runbook-guard-merge

kubectl apply -f plan-job.yaml
if [ "$(finished runbook-guard-plan)" != Complete ]; then
  kubectl -n "$namespace" logs job/runbook-guard-plan >&2 || true
  echo "the plan failed: nothing was collected" >&2
  exit 2
fi

kubectl apply -f collect-job.yaml
echo "collect: $(finished runbook-guard-collect)" >&2

kubectl apply -f merge-job.yaml
outcome=$(finished runbook-guard-merge)
kubectl -n "$namespace" logs job/runbook-guard-merge
[ "$outcome" = Complete ]
