# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Nomad ACL policy rules, parsed and checked on the controller before any call.

Private to the collection; standard library only. ``problems(rules)`` parses the rules as Nomad
does (HCL, or JSON) and checks them against Nomad's policy schema (acl/policy.go, 1.6 onwards):
the blocks, their labels, policy values and capabilities. It reads HCL as Nomad's HCL1 parser
does: a label may be a bare word (``namespace default { ... }``), keys and block names match in
any case (``Policy =``), and a bare word as a value (``policy = read``) does not parse. Unlike
Nomad 1.6, which ignores keys it does not know, an unknown key is a problem: it is a typo that
grants nothing (and Nomad 1.11 refuses it).
"""

from __future__ import annotations

import json
import re

POLICIES = ('deny', 'read', 'write')
NAMESPACE_POLICIES = POLICIES + ('scale',)
PLUGIN_POLICIES = ('deny', 'read', 'list')
NAMESPACE_CAPABILITIES = (
    'deny', 'list-jobs', 'parse-job', 'read-job', 'submit-job', 'dispatch-job', 'read-logs', 'read-fs',
    'alloc-exec', 'alloc-node-exec', 'alloc-lifecycle', 'csi-register-plugin', 'csi-write-volume',
    'csi-read-volume', 'csi-list-volume', 'csi-mount-volume', 'list-scaling-policies', 'read-scaling-policy',
    'read-job-scaling', 'scale-job', 'sentinel-override', 'submit-recommendation')
NODE_POOL_CAPABILITIES = ('deny', 'read', 'write', 'delete')
HOST_VOLUME_CAPABILITIES = ('deny', 'mount-readonly', 'mount-readwrite')
VARIABLE_CAPABILITIES = ('deny', 'list', 'read', 'write', 'destroy')
# Block name -> (label pattern or None for an unlabelled block, allowed policies, allowed capabilities).
BLOCKS = {
    'namespace': (re.compile(r'^[a-zA-Z0-9*-]{1,128}$'), NAMESPACE_POLICIES, NAMESPACE_CAPABILITIES),
    'node_pool': (re.compile(r'^[a-zA-Z0-9_*-]{1,128}$'), POLICIES, NODE_POOL_CAPABILITIES),
    'host_volume': (re.compile(r'^[a-zA-Z0-9*-]{1,128}$'), POLICIES, HOST_VOLUME_CAPABILITIES),
    'agent': (None, POLICIES, None),
    'node': (None, POLICIES, None),
    'operator': (None, POLICIES, None),
    'quota': (None, POLICIES, None),
    'plugin': (None, PLUGIN_POLICIES, None),
}

_TOKEN_RE = re.compile(r'''
    (?P<space>\s+|\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_.-]*|-?[0-9][0-9.]*)
  | (?P<punct>[{}\[\]=,])
''', re.VERBOSE | re.DOTALL)


_LITERAL_RE = re.compile(r'^(-?[0-9][0-9.]*|true|false)$')


class RulesError(Exception):
    """The rules do not parse."""


def _tokens(text):
    position, tokens = 0, []
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if not match:
            line = text.count('\n', 0, position) + 1
            raise RulesError('line %d: unexpected %r' % (line, text[position:position + 10]))
        position = match.end()
        if match.lastgroup == 'string':
            tokens.append(('string', json.loads(match.group())))
        elif match.lastgroup != 'space':
            tokens.append((match.lastgroup, match.group()))
    return tokens


class _Parser:
    """HCL (version 1, what Nomad's policies use): blocks with labels, attributes, lists."""

    def __init__(self, text):
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else ('end', '')

    def take(self, *accepted):
        kind, value = self.peek()
        if kind not in accepted and value not in accepted:
            raise RulesError('expected %s, found %s' % (' or '.join(accepted), repr(value) if value else 'the end'))
        self.position += 1
        return value

    def body(self, closing):
        items = []
        while self.peek()[1] != closing and self.peek()[0] != 'end':
            key = self.take('word', 'string')
            labels = []
            # HCL1 takes words and strings alike as a block's labels (namespace default { ... }).
            while self.peek()[0] in ('string', 'word'):
                labels.append(self.take('string', 'word'))
            if self.peek()[1] == '=':
                self.take('=')
                value = self.value()
            else:
                self.take('{')
                value = self.body('}')
                self.take('}')
            items.append((key, labels, value))
        return items

    def value(self):
        kind, token = self.peek()
        if token == '[':
            self.take('[')
            values = []
            while self.peek()[1] != ']':
                values.append(self.value())
                if self.peek()[1] != ']':
                    self.take(',')
            self.take(']')
            return values
        if token == '{':
            self.take('{')
            items = self.body('}')
            self.take('}')
            return items
        if kind == 'string' or (kind == 'word' and _LITERAL_RE.match(token)):
            self.position += 1
            return token
        if kind == 'word':
            # HCL1 reads only numbers and true/false unquoted; Nomad fails "Unknown token" on the rest.
            raise RulesError('%s is a bare word: quote it ("%s")' % (token, token))
        raise RulesError('expected a value, found %s' % (repr(token) if token else 'the end'))


def parse(text):
    """The rules as a list of (key, labels, value); a block's value is its own list. JSON too."""
    if text.lstrip().startswith('{'):
        try:
            return _from_json(json.loads(text))
        except ValueError as exc:
            raise RulesError('not valid JSON: %s' % exc)
    parser = _Parser(text)
    items = parser.body(None)
    if parser.peek()[0] != 'end':
        raise RulesError('unexpected %r' % parser.peek()[1])
    return items


def _from_json(data):
    """JSON rules ({"namespace": {"default": {"policy": "read"}}}) in the parsed HCL shape."""
    items = []
    for key, value in data.items():
        lowered = key.lower()
        labelled = lowered == 'path' or (lowered in BLOCKS and BLOCKS[lowered][0] is not None)
        if labelled and isinstance(value, dict):
            for label, body in value.items():
                items.append((key, [label], _from_json(body) if isinstance(body, dict) else body))
        elif isinstance(value, dict):
            items.append((key, [], _from_json(value)))
        else:
            items.append((key, [], value))
    return items


def problems(rules):
    """What is wrong with the rules, one sentence each; empty when Nomad will take them."""
    try:
        items = parse(rules)
    except RulesError as exc:
        return ['the rules do not parse: %s' % exc]
    if not items:
        return ['the rules are empty: give at least one block such as namespace "default" { policy = "read" }']
    found = []
    for key, labels, value in items:
        found.extend(_block_problems(key.lower(), labels, value))
    return found


def _block_problems(key, labels, value):
    if key not in BLOCKS:
        return ['unknown block %r (Nomad knows %s)' % (key, ', '.join(sorted(BLOCKS)))]
    label_re, policies, capabilities = BLOCKS[key]
    where = '%s "%s"' % (key, labels[0]) if labels else key
    if not isinstance(value, list) or any(not isinstance(item, tuple) for item in value):
        return ['%s must be a block: %s { policy = "read" }' % (where, where)]
    if label_re is None and labels:
        return ['%s takes no name: write %s { ... }' % (where, key)]
    if label_re is not None and len(labels) != 1:
        return ['%s needs one name, as in %s "default" { ... }' % (key, key)]
    found = []
    if label_re is not None and not label_re.match(labels[0]):
        found.append('%s: the name may hold only letters, digits, "-"%s and "*" (1-128 characters)'
                     % (where, ', "_"' if key == 'node_pool' else ''))
    for name, item_labels, item in value:
        name = name.lower()  # HCL1 matches keys in any case
        if name == 'policy' and not item_labels:
            if item not in policies:
                found.append('%s: policy = %r is not one of %s' % (where, item, ', '.join(policies)))
        elif name == 'capabilities' and capabilities and not item_labels:
            found.extend(_capability_problems(where, item, capabilities))
        elif name == 'variables' and key == 'namespace':
            found.extend(_variables_problems(where, item))
        else:
            allowed = ['policy'] + (['capabilities'] if capabilities else []) + (['variables'] if key == 'namespace' else [])
            found.append('%s: unknown key %r (allowed: %s)' % (where, name, ', '.join(allowed)))
    if label_re is None and not any(item[0].lower() == 'policy' for item in value):
        found.append('%s: needs policy = one of %s' % (where, ', '.join(policies)))
    return found


def _capability_problems(where, value, allowed):
    if not isinstance(value, list) or any(not isinstance(item, str) for item in value):
        return ['%s: capabilities must be a list of strings such as ["read-job"]' % where]
    unknown = [item for item in value if item not in allowed]
    if unknown:
        return ['%s: unknown capabilities %s (Nomad knows %s)' % (where, ', '.join(unknown), ', '.join(allowed))]
    return []


def _variables_problems(where, value):
    if not isinstance(value, list) or any(not isinstance(item, tuple) for item in value):
        return ['%s: variables must be a block of path "<pattern>" { capabilities = [...] }' % where]
    paths = [item for item in value if item[0].lower() == 'path']
    found = ['%s: variables: unknown key %r (only path blocks)' % (where, item[0]) for item in value
             if item[0].lower() != 'path']
    if not paths:
        found.append('%s: variables needs at least one path "<pattern>" { capabilities = [...] }' % where)
    for path_item in paths:
        labels, body = path_item[1], path_item[2]
        if len(labels) != 1 or not labels[0]:
            found.append('%s: variables: each path needs a pattern, as in path "*" { ... }' % where)
            continue
        path = '%s variables path "%s"' % (where, labels[0])
        if not isinstance(body, list):
            found.append('%s must be a block' % path)
            continue
        for name, item_labels, item in body:
            if name.lower() == 'capabilities' and not item_labels:
                found.extend(_capability_problems(path, item, VARIABLE_CAPABILITIES))
            else:
                found.append('%s: unknown key %r (allowed: capabilities)' % (path, name))
    return found
