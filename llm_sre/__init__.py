"""llm-sre: the command line that ties the exporters, rules, dashboards and webhook service together."""
