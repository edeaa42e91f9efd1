"""``llm-sre eval``: replay labelled incident cases against an analyst configuration, deliver nothing."""
