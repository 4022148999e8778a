"""Semantics cases: well-formed calls that make no sense (OCPP 1.6 edition 2 §3.7, §3.8, §4.8, §4.10;
OCPP-J 1.6 §4.1.4): connector ids out of range, unknown transactions, duplicate message ids."""
