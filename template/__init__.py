"""The template gate: a SAM/CloudFormation template read into the snapshot shape the rules judge.

Stages: ``reader`` (decode with positions, parameters, SAM transform, conditions, intrinsics)
-> ``model.ReadTemplate`` -> ``mapping`` (CloudFormation resources -> resource envelopes with
AWS's defaults, CloudFormation's names and the implicit resources AWS creates) -> a snapshot
document whose ``metadata.source.kind`` is ``template``.
"""
