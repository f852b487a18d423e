"""Deployment: the production self-check behind `ediary check --deploy` (provisioning/ holds the
configuration files it checks against)."""
