"""runbook-guard: policy-as-code checks of an AWS operations runbook."""

__version__ = "0.1.0"
