"""Credential-stuffing detection from auth events in application, web-server and sshd logs."""
