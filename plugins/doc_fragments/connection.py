# -*- coding: utf-8 -*-

# Copyright: (c) 2026, hardened.nomad contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by every module that talks to the Nomad HTTP API.
    # The options of NOMAD_CONNECTION_SPEC in plugins/module_utils/_api.py (a unit test keeps both equal).
    DOCUMENTATION = r"""
options:
  address:
    description:
      - URL of the Nomad HTTP API, scheme, host and port.
      - The host name must be one the agent's certificate is valid for. Certificates made by this
        collection are valid for C(server.<region>.nomad), C(localhost), C(127.0.0.1) and the
        node names and addresses given when they were issued.
      - If not set, the environment variable E(NOMAD_ADDR) is used.
    type: str
    default: https://127.0.0.1:4646
  ca_file:
    description:
      - PEM file with the CA certificate(s) that signed the agent's HTTPS certificate.
      - If not set, the environment variable E(NOMAD_CACERT) is used, then the system trust store.
    type: path
  client_cert:
    description:
      - PEM client certificate presented to the agent. Needed when the agent sets
        C(tls.verify_https_client = true); an operator uses a C(cli.<region>.nomad) certificate.
      - If not set, the environment variable E(NOMAD_CLIENT_CERT) is used.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
      - If not set, the environment variable E(NOMAD_CLIENT_KEY) is used.
    type: path
  token:
    description:
      - ACL token (secret ID) sent as C(X-Nomad-Token).
      - If not set, the environment variable E(NOMAD_TOKEN) is used.
    type: str
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: int
    default: 10
  validate_certs:
    description:
      - Whether to verify the agent's certificate and host name.
      - Only set V(false) for troubleshooting; the connection is then open to impersonation.
    type: bool
    default: true
notes:
  - Errors name the HTTP status and Nomad's own message. TLS failures are explained in a sentence
    (host name not in the certificate, certificate from another CA, client certificate required or
    rejected, missing files, connection refused).
"""
